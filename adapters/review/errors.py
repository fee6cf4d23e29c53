"""Errors for people: a browser (Accept: text/html) gets a Japanese page with a way back — sign in again,
reload the form, try later — and API clients keep FastAPI's JSON. Nobody ever gets a stack trace."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from urllib.parse import parse_qs, urlsplit

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from adapters.review.labels import ERROR_COPY
from adapters.review.nextpath import HOME, LOGIN_PATH, login_url, safe_next, same_site_path
from bot.errors import StorageError

log = logging.getLogger(__name__)
Handler = Callable[[Request, Exception], Awaitable[Response]]
#: Statuses whose way back is "try the same page again later".
TRY_AGAIN = frozenset({429, 500, 503})
LAST_RESORT = "エラーが発生しました。少し時間をおいて、もう一度お試しください。"


def wants_html(request: Request) -> bool:
    """A browser asking for a page (API clients and webhooks do not send text/html)."""
    return "text/html" in request.headers.get("accept", "")


def install_error_pages(app: FastAPI, validation_json: Handler) -> None:
    """HTML error pages for browsers on every route; `validation_json` stays the API clients' 422."""

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if exc.status_code < 400:  # a redirect raised as an exception (sign in first)
            return Response(status_code=exc.status_code, headers=exc.headers)
        if wants_html(request):
            return error_page(request, exc.status_code, exc.headers)
        return await http_exception_handler(request, exc)

    async def validation_error(request: Request, exc: Exception) -> Response:
        return error_page(request, 422) if wants_html(request) else await validation_json(request, exc)

    async def storage_error(request: Request, exc: Exception) -> Response:
        log.error("the database is unavailable (%s)", exc)
        if wants_html(request):
            return error_page(request, 503)
        return JSONResponse({"detail": "the database is unavailable"}, status_code=503)

    async def server_error(request: Request, exc: Exception) -> Response:
        # Starlette logs the exception itself after this response is sent.
        if wants_html(request):
            return error_page(request, 500)
        return JSONResponse({"detail": "Internal Server Error"}, status_code=500)

    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StorageError, storage_error)
    app.add_exception_handler(Exception, server_error)


def error_page(request: Request, status: int, headers: Mapping[str, str] | None = None) -> Response:
    """The Japanese page for `status`, with the way back that fits it."""
    from adapters.review.views import render

    copy = ERROR_COPY.get(str(status), ERROR_COPY["other"])
    context = {"copy": copy, "status": status, "back": way_back(request, status),
               "retry_after": (headers or {}).get("Retry-After")}
    try:
        page = render(request, "error.html", context, status_code=status)
    except Exception:  # the page must not fail in turn: a plain sentence instead
        log.exception("the error page could not be rendered")
        return PlainTextResponse(LAST_RESORT, status_code=status, headers=dict(headers or {}))
    page.headers.update(headers or {})
    return page


def way_back(request: Request, status: int) -> str:
    """Where the page's one link goes: sign in (and come back), the form again, or the same page later."""
    referer = request.headers.get("referer")
    came_from = same_site_path(referer, request.headers.get("host"))
    here = safe_next(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
    if status == 401:
        return login_url(here if request.method == "GET" else came_from)
    if status == 403:
        if request.url.path == LOGIN_PATH:
            return _login_again(referer)
        return came_from or HOME
    if status in TRY_AGAIN:
        return (here if request.method == "GET" else came_from) or HOME
    return HOME


def _login_again(referer: str | None) -> str:
    """The sign-in form afresh, keeping where the reviewer was going (its `next`, from the form's address)."""
    query = parse_qs(urlsplit(referer or "").query)
    wanted = query.get("next") or []
    return login_url(wanted[0] if wanted else None)
