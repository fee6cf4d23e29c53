"""`POST /api/ask` (channel `api`, e.g. the city's website).

`/api/ask` is for a trusted backend holding `PLANBOT_API_TOKEN`. Without a token it is a developer's
convenience: open only outside production, limited per client address, and callers cannot pick the
user id their questions are counted under.
"""

from __future__ import annotations

import asyncio
import hmac
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Request
from pydantic import BaseModel, Field

from adapters.answer_text import render_plain
from adapters.proxies import address_key
from adapters.services import Services, get_assistant, get_services
from bot.assistant import Assistant
from bot.settings import Settings
from bot.store.ratelimit import RateLimiter
from bot.types import Question

router = APIRouter()


class AskRequest(BaseModel):
    """Body of `POST /api/ask`."""

    question: str = Field(max_length=20_000)
    user_id: str | None = Field(default=None, max_length=200)


def _check_token(settings: Settings, authorization: str | None) -> bool:
    """True when a token is configured and matched; raises 401 on a wrong one, 404 in production without one."""
    token = settings.api_token
    if token is None:
        if settings.environment == "production":
            raise HTTPException(status_code=404, detail="Not Found")
        return False
    expected = f"Bearer {token.get_secret_value()}"
    if authorization is None or not hmac.compare_digest(authorization.encode(), expected.encode()):
        raise HTTPException(status_code=401, detail="missing or wrong API token")
    return True


def client_key(request: Request) -> str:
    """The caller's address as a rate-limit key (a trusted proxy's forwarded address, see adapters/proxies)."""
    return address_key(request, "api")


def _retry_after() -> str:
    # The limiter counts per clock minute: the caller may ask again when this minute ends.
    return str(max(1, 60 - datetime.now(UTC).second))


async def _limit_address(services: Services, key: str) -> None:
    limiter = RateLimiter(services.database, services.settings.api_rate_limit_per_minute)
    if not await asyncio.to_thread(limiter.allow, key):
        raise HTTPException(status_code=429, detail="too many requests", headers={"Retry-After": _retry_after()})


@router.post("/api/ask")
async def api_ask(body: AskRequest, request: Request, services: Annotated[Services, Depends(get_services)],
                  authorization: Annotated[str | None, Header()] = None) -> dict[str, Any]:
    """Answer one question; the same JSON as `planbot ask --json`, plus the log id."""
    trusted = _check_token(services.settings, authorization)
    user_id = body.user_id
    if not trusted:
        key = client_key(request)
        await _limit_address(services, key)
        user_id = key  # an open endpoint's caller does not choose whose count a question goes to
    assistant: Assistant = get_assistant(request)
    question = Question(body.question, channel="api", user_id=user_id)
    logged = await asyncio.to_thread(assistant.answer, question)
    record = logged.answer.to_public_json()
    record["answer"] = render_plain(logged.answer, assistant.planbot.compose.titles)
    record["answer_id"] = logged.answer_id
    return record
