"""Review-page sign-in: a signed session cookie, and a CSRF token per session checked on every POST."""

from __future__ import annotations

import asyncio
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from fastapi import HTTPException, Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

from adapters.services import get_services
from bot.settings import Settings
from bot.store.reviewers import ReviewerStore

SESSION_COOKIE = "planbot_review"
LOGIN_COOKIE = "planbot_review_login"
COOKIE_PATH = "/review"
SESSION_MAX_AGE_S = 12 * 3600
LOGIN_MAX_AGE_S = 3600
LOGIN_PATH = "/review/login"


@dataclass(frozen=True)
class ReviewSession:
    """A signed-in reviewer and the CSRF token every form of this session carries."""

    reviewer: str
    csrf: str


def _serializer(settings: Settings, purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.session_secret.get_secret_value(), salt=f"planbot-review-{purpose}")


def _settings(request: Request) -> Settings:
    return get_services(request).settings


def read_session(request: Request) -> ReviewSession | None:
    """The session in the request's cookie, if it is validly signed and not expired."""
    raw = request.cookies.get(SESSION_COOKIE)
    if not raw:
        return None
    try:
        data: Any = _serializer(_settings(request), "session").loads(raw, max_age=SESSION_MAX_AGE_S)
    except BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("r"), str) or not isinstance(data.get("c"), str):
        return None
    return ReviewSession(data["r"], data["c"])


def start_session(response: Response, settings: Settings, reviewer: str) -> ReviewSession:
    """Sign `reviewer` in: a fresh CSRF token, the cookie set HttpOnly + SameSite=Lax (+ Secure)."""
    session = ReviewSession(reviewer, secrets.token_urlsafe(32))
    value = _serializer(settings, "session").dumps({"r": session.reviewer, "c": session.csrf})
    _set_cookie(response, settings, SESSION_COOKIE, value, SESSION_MAX_AGE_S)
    response.delete_cookie(LOGIN_COOKIE, path=COOKIE_PATH)
    return session


def end_session(response: Response) -> None:
    """Sign out: drop the session cookie."""
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


def _wants_html(request: Request) -> bool:
    return request.method in ("GET", "HEAD") and "text/html" in request.headers.get("accept", "")


async def require_reviewer(request: Request) -> ReviewSession:
    """Router dependency: the signed-in reviewer; browsers are sent to sign in, others get 401.

    On POST it also checks the form's CSRF token against the session's (403 when missing or wrong).
    """
    session = read_session(request)
    if session is not None:
        store = ReviewerStore(get_services(request).database)
        if not await asyncio.to_thread(store.is_active, session.reviewer):
            session = None
    if session is None:
        if _wants_html(request):
            raise HTTPException(status_code=303, detail="sign in first", headers={"Location": LOGIN_PATH})
        raise HTTPException(status_code=401, detail="sign in first")
    if request.method == "POST":
        form = await request.form()
        if not _same(session.csrf, form.get("csrf_token")):
            raise HTTPException(status_code=403, detail="missing or wrong CSRF token")
    request.state.review_session = session
    return session
