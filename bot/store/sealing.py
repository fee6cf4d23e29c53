"""Inbox payloads are stored sealed: a webhook event holds the raw platform user id and the message text.

Fernet (AES-128-CBC + HMAC-SHA256, from `cryptography`) with a key derived from the deployment's user-hash
salt, so no extra secret has to be managed; only the event's type stays readable for operators.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from pydantic import SecretStr

from bot.errors import StorageError

VERSION = 2


class PayloadSealer:
    """Seals a JSON object into `{"v": 2, "type": ..., "sealed": token}` and opens it again."""

    def __init__(self, secret: SecretStr) -> None:
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"planbot/inbox-payload/v2").derive(
            secret.get_secret_value().encode("utf-8"))
        self._fernet = Fernet(base64.urlsafe_b64encode(key))

    def seal(self, payload: dict[str, Any]) -> dict[str, Any]:
        """The stored form of a payload."""
        data = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        return {"v": VERSION, "type": str(payload.get("type", ""))[:40],
                "sealed": self._fernet.encrypt(data).decode("ascii")}

    def open(self, stored: dict[str, Any]) -> dict[str, Any]:
        """The original payload; StorageError if it was tampered with or sealed under another key."""
        try:
            if stored.get("v") != VERSION:
                raise StorageError("unknown inbox payload version")
            payload = json.loads(self._fernet.decrypt(str(stored["sealed"]).encode("ascii")))
        except (KeyError, InvalidToken, ValueError) as exc:
            raise StorageError("an inbox payload could not be opened (tampered, or another key)") from exc
        if not isinstance(payload, dict):
            raise StorageError("an inbox payload is not an object")
        return payload
