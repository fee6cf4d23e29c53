"""`POST /line/webhook`: check the signature, store each event durably, acknowledge at once.

Order matters: nothing is parsed or stored before the X-Line-Signature matches the raw body. The answer
is made later by the inbox worker, so LINE gets its 200 in milliseconds and no event we acknowledged is
lost if the process dies.
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse, Response
from linebot.v3.webhook import SignatureValidator

from adapters.services import get_services
from bot.errors import PlanBotError
from bot.settings import Settings

log = logging.getLogger(__name__)


def signature_matches(validator: SignatureValidator, body: bytes, signature: str) -> bool:
    """X-Line-Signature check by the SDK (HMAC-SHA256 of the raw body, compared in constant time).

    LINE signs UTF-8 JSON; a body that is not UTF-8 cannot carry a valid signature.
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return bool(validator.validate(text, signature.strip()))


def event_key(event: dict[str, Any]) -> str:
    """The dedupe key: LINE's webhookEventId (the same on redelivery); a content hash if it is missing."""
    key = event.get("webhookEventId")
    if isinstance(key, str) and key:
        return key
    canonical = json.dumps(event, sort_keys=True, ensure_ascii=False).encode("utf-8")
    return "sha256:" + hashlib.sha256(canonical).hexdigest()


async def read_capped(request: Request, limit: int) -> bytes | None:
    """The raw body, or None as soon as it is longer than `limit` bytes (declared or streamed)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)


def parse_events(body: bytes) -> list[dict[str, Any]] | None:
    """The `events` array of a webhook body, or None if the body is not the shape LINE sends."""
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    events = data.get("events") if isinstance(data, dict) else None
    if not isinstance(events, list) or not all(isinstance(e, dict) for e in events):
        return None
    return events


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"message": message}, status_code=status)


def build_router(settings: Settings) -> APIRouter:
    """The webhook route for one channel secret; events are stored by the services' group commit, awaited
    on the event loop (no thread per request, so an ack never queues behind the answers being computed)."""
    router = APIRouter()
    secret = settings.line_channel_secret.get_secret_value()
    validator = SignatureValidator(secret)
    limit = settings.line_max_body_bytes

    @router.post("/line/webhook")
    async def line_webhook(request: Request,
                           x_line_signature: Annotated[str | None, Header()] = None) -> Response:
        """Verify, persist, acknowledge. 400 bad signature or body, 413 too large, 500 if not stored."""
        if not x_line_signature or not secret:
            return _error(400, "missing signature")
        body = await read_capped(request, limit)
        if body is None:
            return _error(413, "body too large")
        if not signature_matches(validator, body, x_line_signature):
            return _error(400, "invalid signature")
        events = parse_events(body)
        if events is None:
            return _error(400, "malformed body")
        services = get_services(request)
        keyed = [(event_key(event), event) for event in events]
        try:
            # All of the body's events in one transaction (shared with other requests'): one commit, then 200.
            stored = await services.store_events("line", keyed) if keyed else []
            for (key, _), held in zip(keyed, stored, strict=True):
                if not held:
                    log.info("LINE event %s already held; not stored twice", key)
        except PlanBotError:
            # Not stored means not acknowledged: LINE redelivers (when redelivery is on).
            log.exception("could not store a LINE event")
            return _error(500, "could not store the event")
        return JSONResponse({})

    return router
