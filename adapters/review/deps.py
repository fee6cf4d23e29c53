"""What every review route module shares: its dependencies, the signed-in router, redirects, date ranges."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse

from adapters.review.auth import ReviewSession, require_reviewer
from adapters.review.queries import JST, parse_date
from adapters.services import Services, get_services
from bot.service import PlanBot

MAX_RANGE_DAYS = 366
ServicesDep = Annotated[Services, Depends(get_services)]
SessionDep = Annotated[ReviewSession, Depends(require_reviewer)]


def protected_router() -> APIRouter:
    """A router under /review whose every route needs a session (and the CSRF token on POST)."""
    return APIRouter(prefix="/review", dependencies=[Depends(require_reviewer)])


def see_other(url: str) -> RedirectResponse:
    """303 to `url` (after a POST, the browser GETs it)."""
    return RedirectResponse(url, status_code=303)


def planbot_of(services: Services) -> PlanBot:
    """The core, or 503 while it is still loading."""
    if services.planbot is None:
        raise HTTPException(status_code=503, detail="starting up, try again in a few seconds")
    return services.planbot


def dashboard_range(request: Request) -> tuple[date, date]:
    """`?from=…&to=…` as JST days (default: the last 30 days), at most a year."""
    today = datetime.now(JST).date()
    last = parse_date(request.query_params.get("to")) or today
    first = parse_date(request.query_params.get("from")) or last - timedelta(days=29)
    if first > last:
        first, last = last, first
    return max(first, last - timedelta(days=MAX_RANGE_DAYS - 1)), last
