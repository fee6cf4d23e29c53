"""Signing in and out of the review page. Sign-in returns to the review page first asked for (`next`)."""

from __future__ import annotations

import asyncio
import hashlib

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from adapters.proxies import address_key
from adapters.review.auth import (
    check_login_token,
    current_session,
    end_session,
    login_token,
    start_session,
)
from adapters.review.deps import ServicesDep, protected_router, see_other
from adapters.review.nextpath import HOME, LOGIN_PATH, safe_next
from adapters.review.views import render
from bot.store.reviewers import ReviewerStore

TOO_MANY_ATTEMPTS = "ログインの試行が多すぎます。1分ほどおいてから、もう一度お試しください。"
WRONG = "名前またはパスワードが違います。"

public = APIRouter(prefix="/review")
protected = protected_router()


@public.get("/login", response_class=HTMLResponse)
async def login_page(request: Request) -> Response:
    """The sign-in form (already signed in: on to where the reviewer was going)."""
    target = safe_next(request.query_params.get("next"))
    if await current_session(request) is not None:
        return see_other(target or HOME)
    carrier = Response()
    token = login_token(request, carrier)
    page = _login_page(request, token, target, None, 200)
    for value in carrier.headers.getlist("set-cookie"):
        page.headers.append("set-cookie", value)
    return page


def _login_page(request: Request, token: str, target: str | None, error: str | None, status: int) -> Response:
    return render(request, "login.html", {"login_csrf": token, "next": target or "", "error": error},
                  status_code=status)


@public.post("/login")
async def login(request: Request, services: ServicesDep) -> Response:
    """Check the password; on success start a new session and go where the reviewer was going."""
    form = await request.form()
    check_login_token(request, form.get("csrf_token"))
    token, target = str(form.get("csrf_token")), safe_next(form.get("next"))
    name, password = str(form.get("name") or "").strip(), str(form.get("password") or "")
    # Both limits count every attempt: guessing one name from many addresses, or many names from one.
    by_name = await asyncio.to_thread(services.limiter.allow, _name_key(name))
    by_address = await asyncio.to_thread(services.limiter.allow, address_key(request, "login-address"))
    if not (by_name and by_address):
        return _login_page(request, token, target, TOO_MANY_ATTEMPTS, 429)
    store = ReviewerStore(services.database)
    verified = bool(name and password) and await asyncio.to_thread(store.verify, name, password)
    if verified:
        response = see_other(target or HOME)
        if await start_session(request, response, name) is not None:
            return response
    return _login_page(request, token, target, WRONG, 401)


def _name_key(name: str) -> str:
    # Sign-in attempts per account name share the per-minute limit citizens have per user.
    return "login:" + hashlib.sha256(name.casefold().encode()).hexdigest()[:32]


@protected.post("/logout")
async def logout(request: Request) -> Response:
    """End the session (in the database: a copy of the cookie stops working too)."""
    response = see_other(LOGIN_PATH)
    await end_session(request, response)
    return response
