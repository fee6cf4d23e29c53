"""`GET /healthz` and `POST /api/ask` (channel `api`, e.g. the city's website)."""

from __future__ import annotations

import asyncio
import hmac
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from adapters.services import Services, get_assistant, get_services
from bot.assistant import Assistant
from bot.compose import render_plain
from bot.types import Question

router = APIRouter()


class AskRequest(BaseModel):
    """Body of `POST /api/ask`."""

    question: str = Field(max_length=20_000)
    user_id: str | None = Field(default=None, max_length=200)


@router.get("/healthz")
async def healthz(services: Annotated[Services, Depends(get_services)]) -> JSONResponse:
    """200 once the core can answer; 503 while it loads (or if loading failed)."""
    if services.startup_error:
        return JSONResponse({"status": "error", "detail": services.startup_error}, status_code=503)
    if not services.ready.is_set():
        return JSONResponse({"status": "starting"}, status_code=503)
    return JSONResponse({"status": "ok", "mode": "llm" if services.settings.llm else "extractive"})


def _check_token(request: Request, authorization: str | None) -> None:
    token = request.app.state.services.settings.api_token
    if token is None:
        return
    expected = f"Bearer {token.get_secret_value()}"
    if authorization is None or not hmac.compare_digest(authorization.encode(), expected.encode()):
        raise HTTPException(status_code=401, detail="missing or wrong API token")


@router.post("/api/ask")
async def api_ask(body: AskRequest, request: Request, assistant: Annotated[Assistant, Depends(get_assistant)],
                  authorization: Annotated[str | None, Header()] = None) -> dict[str, Any]:
    """Answer one question; the same JSON as `planbot ask --json`, plus the log id."""
    _check_token(request, authorization)
    question = Question(body.question, channel="api", user_id=body.user_id)
    logged = await asyncio.to_thread(assistant.answer, question)
    record = logged.answer.to_public_json()
    record["answer"] = render_plain(logged.answer)
    record["answer_id"] = logged.answer_id
    return record
