"""Review-page sign-in: a server-side session whose signed id is the cookie, and a CSRF token per session
checked on every POST.

The cookie holds nothing but the session id, signed (so a forged or altered cookie is refused before the
database is asked) and time-stamped (so it cannot outlive the absolute timeout). The session itself lives in
the database (bot/store/sessions.py): signing out, disabling a reviewer or resetting a password ends it.
"""

from __future__ import annotations

import asyncio
import hmac
import secrets

from fastapi import HTTPException, Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

from adapters.review.nextpath import login_url
from adapters.services import get_services
from bot.settings import Settings
from bot.store.sessions import ABSOLUTE, ActiveSession, ReviewSessions

SESSION_COOKIE = "planbot_review"
LOGIN_COOKIE = "planbot_review_login"
COOKIE_PATH = "/review"
SESSION_MAX_AGE_S = int(ABSOLUTE.total_seconds())
LOGIN_MAX_AGE_S = 3600
#: The signed-in reviewer and the CSRF token of their session, as the pages use it.
ReviewSession = ActiveSession


def _serializer(settings: Settings, purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.session_secret.get_secret_value(), salt=f"planbot-review-{purpose}")


def _settings(request: Request) -> Settings:
    return get_services(request).settings


def _sessions(request: Request) -> ReviewSessions:
    return ReviewSessions(get_services(request).database)


def signed_session_id(request: Request) -> str | None:
    """The session id in the request's cookie when its signature holds and it is not too old.

    Says nothing about whether the session is still open: that takes the database (`current_session`).
    """
    raw = request.cookies.get(SESSION_COOKIE)
    if not raw:
        return None
    try:
        session_id = _serializer(_settings(request), "session").loads(raw, max_age=SESSION_MAX_AGE_S)
    except BadSignature:
        return None
    return session_id if isinstance(session_id, str) else None


async def current_session(request: Request) -> ReviewSession | None:
    """The open session of this request's cookie, if any (checked against the database)."""
    session_id = signed_session_id(request)
    if session_id is None:
        return None
    return await asyncio.to_thread(_sessions(request).check, session_id)


async def start_session(request: Request, response: Response, reviewer: str) -> ReviewSession | None:
    """Sign `reviewer` in with a new session id (the one the browser held before, if any, ends); the cookie
    is set HttpOnly + SameSite=Lax (+ Secure). None when the reviewer is not (or no longer) active."""
    started = await asyncio.to_thread(_sessions(request).start, reviewer, signed_session_id(request))
    if started is None:
        return None
    session_id, session = started
    settings = _settings(request)
    _set_cookie(response, settings, SESSION_COOKIE, _serializer(settings, "session").dumps(session_id),
                SESSION_MAX_AGE_S)
    response.delete_cookie(LOGIN_COOKIE, path=COOKIE_PATH)
    return session


async def end_session(request: Request, response: Response) -> None:
    """Sign out: the session ends in the database (a copied cookie stops working too), the cookie goes."""
    session_id = signed_session_id(request)
    if session_id is not None:
        await asyncio.to_thread(_sessions(request).end, session_id)
    response.delete_cookie(SESSION_COOKIE, path=COOKIE_PATH)


def login_token(request: Request, response: Response) -> str:
    """The CSRF token of the sign-in form (double-submit: a signed cookie plus the same value in the form).

    Reuses the token of the request's cookie; otherwise makes one and sets its cookie on `response`.
    """
    existing = _login_cookie_token(request)
    if existing is not None:
        return existing
    settings = _settings(request)
    token = secrets.token_urlsafe(32)
    _set_cookie(response, settings, LOGIN_COOKIE, _serializer(settings, "login").dumps(token), LOGIN_MAX_AGE_S)
    return token


def check_login_token(request: Request, submitted: object) -> None:
    """403 unless the sign-in form's token matches its cookie."""
    expected = _login_cookie_token(request)
    if expected is None or not _same(expected, submitted):
        raise HTTPException(status_code=403, detail="the form expired; reload the page and try again")


def _login_cookie_token(request: Request) -> str | None:
    raw = request.cookies.get(LOGIN_COOKIE)
    if not raw:
        return None
    try:
        token = _serializer(_settings(request), "login").loads(raw, max_age=LOGIN_MAX_AGE_S)
    except BadSignature:
        return None
    return token if isinstance(token, str) else None


def _same(expected: str, submitted: object) -> bool:
    return isinstance(submitted, str) and hmac.compare_digest(expected.encode(), submitted.encode())


def _set_cookie(response: Response, settings: Settings, name: str, value: str, max_age: int) -> None:
    response.set_cookie(name, value, max_age=max_age, path=COOKIE_PATH, httponly=True, samesite="lax",
                        secure=settings.secure_cookies)


def _wants_page(request: Request) -> bool:
    return request.method in ("GET", "HEAD") and "text/html" in request.headers.get("accept", "")


def _asked_for(request: Request) -> str:
    return request.url.path + (f"?{request.url.query}" if request.url.query else "")


async def require_reviewer(request: Request) -> ReviewSession:
    """Router dependency: the signed-in reviewer. A browser asking for a page is sent to sign in (and back
    here afterwards); anything else gets 401. On POST it also checks the form's CSRF token against the
    session's (403 when missing or wrong)."""
    session = await current_session(request)
    if session is None:
        if _wants_page(request):
            raise HTTPException(status_code=303, detail="sign in first",
                                headers={"Location": login_url(_asked_for(request))})
        raise HTTPException(status_code=401, detail="sign in first")
    if request.method == "POST":
        form = await request.form()
        if not _same(session.csrf, form.get("csrf_token")):
            raise HTTPException(status_code=403, detail="missing or wrong CSRF token")
    request.state.review_session = session
    return session
