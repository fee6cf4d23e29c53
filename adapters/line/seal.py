"""Sealing LINE events before they are stored in the inbox.

An event holds the raw LINE user id and the message text; the inbox keeps it until it is answered (and
after), so it is stored encrypted and authenticated, never in plain text. The construction is
encrypt-then-MAC with HMAC-SHA256 both as the keystream PRF (counter mode over a random nonce) and as the
tag, using keys derived from the deployment's user-hash salt; the standard library is enough for it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from typing import Any

from bot.errors import PlanBotError

NONCE_BYTES = 16
TAG_BYTES = 32
VERSION = 1


class SealError(PlanBotError):
    """A stored event could not be opened: tampered with, truncated, or sealed under another key."""


class EventSealer:
    """Seals a JSON object into `{"v": 1, "type": ..., "sealed": base64}` and opens it again."""

    def __init__(self, secret: str) -> None:
        root = secret.encode("utf-8")
        self._enc_key = hmac.new(root, b"planbot/line-inbox/encrypt", hashlib.sha256).digest()
        self._mac_key = hmac.new(root, b"planbot/line-inbox/authenticate", hashlib.sha256).digest()

    def seal(self, event: dict[str, Any]) -> dict[str, Any]:
        """The stored form: only the event type stays readable (for operators)."""
        data = json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        nonce = os.urandom(NONCE_BYTES)
        cipher = _xor(data, self._keystream(nonce, len(data)))
        tag = hmac.new(self._mac_key, nonce + cipher, hashlib.sha256).digest()
        blob = base64.b64encode(nonce + cipher + tag).decode("ascii")
        return {"v": VERSION, "type": str(event.get("type", ""))[:40], "sealed": blob}

    def open(self, stored: dict[str, Any]) -> dict[str, Any]:
        """The original event; raises SealError if the stored form is not one we sealed."""
        try:
            blob = base64.b64decode(str(stored["sealed"]), validate=True)
        except (KeyError, ValueError) as exc:
            raise SealError("not a sealed LINE event") from exc
        if stored.get("v") != VERSION or len(blob) < NONCE_BYTES + TAG_BYTES:
            raise SealError("unknown or truncated sealed event")
        nonce, cipher, tag = blob[:NONCE_BYTES], blob[NONCE_BYTES:-TAG_BYTES], blob[-TAG_BYTES:]
        expected = hmac.new(self._mac_key, nonce + cipher, hashlib.sha256).digest()
        if not hmac.compare_digest(tag, expected):
            raise SealError("sealed event failed authentication")
        event = json.loads(_xor(cipher, self._keystream(nonce, len(cipher))).decode("utf-8"))
        if not isinstance(event, dict):
            raise SealError("sealed payload is not an event object")
        return event

    def _keystream(self, nonce: bytes, size: int) -> bytes:
        blocks = (hmac.new(self._enc_key, nonce + i.to_bytes(8, "big"), hashlib.sha256).digest()
                  for i in range((size + 31) // 32))
        return b"".join(blocks)[:size]


def _xor(data: bytes, stream: bytes) -> bytes:
    return (int.from_bytes(data, "big") ^ int.from_bytes(stream, "big")).to_bytes(len(data), "big")
