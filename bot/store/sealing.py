"""Inbox payloads are stored sealed: a webhook event holds the raw platform user id and the message text.

AES-256-GCM (from `cryptography`) with a key derived from the deployment's user-hash salt, so no extra
secret has to be managed; only the event's type stays readable for operators. Sealing is on every
acknowledgement's path: one AEAD call per event, where Fernet (version 2, still opened for events stored
before the change) cost four times as much CPU.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from pydantic import SecretStr

from bot.errors import StorageError

VERSION = 3
FERNET_VERSION = 2
_NONCE_BYTES = 12
_ASSOCIATED = b"planbot/inbox-payload/v3"


def _derive(secret: SecretStr, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(
        secret.get_secret_value().encode("utf-8"))


class PayloadSealer:
    """Seals a JSON object into `{"v": 3, "type": ..., "sealed": token}` and opens it again."""

    def __init__(self, secret: SecretStr) -> None:
        self._aead = AESGCM(_derive(secret, b"planbot/inbox-payload/v3"))
        self._fernet = Fernet(base64.urlsafe_b64encode(_derive(secret, b"planbot/inbox-payload/v2")))

    def seal(self, payload: dict[str, Any]) -> dict[str, Any]:
        """The stored form of a payload."""
        data = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        nonce = os.urandom(_NONCE_BYTES)
        token = base64.b64encode(nonce + self._aead.encrypt(nonce, data, _ASSOCIATED)).decode("ascii")
        return {"v": VERSION, "type": str(payload.get("type", ""))[:40], "sealed": token}

    def open(self, stored: dict[str, Any]) -> dict[str, Any]:
        """The original payload; StorageError if it was tampered with or sealed under another key."""
        try:
            version = stored.get("v")
            if version == VERSION:
                raw = base64.b64decode(str(stored["sealed"]).encode("ascii"), validate=True)
                data = self._aead.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], _ASSOCIATED)
            elif version == FERNET_VERSION:
                data = self._fernet.decrypt(str(stored["sealed"]).encode("ascii"))
            else:
                raise StorageError("unknown inbox payload version")
            payload = json.loads(data)
        except (KeyError, InvalidToken, InvalidTag, binascii.Error, ValueError) as exc:
            raise StorageError("an inbox payload could not be opened (tampered, or another key)") from exc
        if not isinstance(payload, dict):
            raise StorageError("an inbox payload is not an object")
        return payload
