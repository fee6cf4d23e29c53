"""The client address every per-address limit counts (sign-in, `/api/ask`), and how uvicorn is told which
reverse proxies may name it.

uvicorn rewrites the request's client from `X-Forwarded-For` only when the TCP peer is one of the proxies
in `PLANBOT_TRUSTED_PROXIES` (its `--forwarded-allow-ips`); with none configured it never reads the header.
The app then reads one place, `request.client`, for every limit.
"""

from __future__ import annotations

import hashlib
from typing import TypedDict

from fastapi import Request

from bot.settings import Settings


class ProxyOptions(TypedDict, total=False):
    """The keyword arguments of `uvicorn.run` / `uvicorn.Config` about proxy headers."""

    proxy_headers: bool
    forwarded_allow_ips: list[str]


def uvicorn_proxy_options(settings: Settings) -> ProxyOptions:
    """Proxy headers off without trusted proxies (uvicorn's own default would trust loopback); on, and
    believed only from those proxies, with them."""
    networks = list(settings.trusted_proxy_networks)
    if not networks:
        return {"proxy_headers": False}
    return {"proxy_headers": True, "forwarded_allow_ips": networks}


def client_address(request: Request) -> str:
    """The caller's address: the TCP peer, or the address a trusted proxy forwarded (see the module)."""
    return request.client.host if request.client else "unknown"


def address_key(request: Request, purpose: str) -> str:
    """A rate-limit key for the caller's address (hashed: the limit table holds no address)."""
    return f"{purpose}:" + hashlib.sha256(client_address(request).encode()).hexdigest()[:32]
