"""Trusted proxies only: the client address every limit counts is the TCP peer, unless that peer is a proxy
named in PLANBOT_TRUSTED_PROXIES. Proved on the shipped `planbot serve` (real uvicorn, a subprocess): from
loopback, a forged X-Forwarded-For no longer dodges the /api/ask or the sign-in limit; behind a listed proxy
the forwarded address is the one counted, and an unlisted peer's header is ignored."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError

from adapters.proxies import uvicorn_proxy_options
from bot.settings import Settings
from tests.review_helpers import form_token
from tests.servers.app import wait_until
from tests.servers.serve import planbot_serve, seed_data_dir

LIMIT = 2


def test_the_setting_takes_addresses_and_networks(tmp_path: Path) -> None:
    base = {"PLANBOT_DATA_DIR": str(tmp_path), "PLANBOT_ENV": "test"}
    none = Settings.model_validate(base)
    assert none.trusted_proxy_networks == () and uvicorn_proxy_options(none) == {"proxy_headers": False}
    some = Settings.model_validate(base | {"PLANBOT_TRUSTED_PROXIES": "10.0.0.5, 172.16.0.0/12,::1 192.168.1.7/24"})
    assert some.trusted_proxy_networks == ("10.0.0.5/32", "172.16.0.0/12", "::1/128", "192.168.1.0/24")
    assert uvicorn_proxy_options(some) == {"proxy_headers": True,
                                           "forwarded_allow_ips": list(some.trusted_proxy_networks)}
    for bad in ("*", "proxy.example", "10.0.0.300", "10.0.0.0/40"):
        with pytest.raises(ValidationError, match="PLANBOT_TRUSTED_PROXIES"):
            Settings.model_validate(base | {"PLANBOT_TRUSTED_PROXIES": bad})


def _env(settings: Settings, tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"PLANBOT_DATA_DIR": str(seed_data_dir(settings.data_dir, tmp_path / "data")),
            "PLANBOT_ENV": "development", "DATABASE_URL": f"sqlite:///{tmp_path / 'proxies.sqlite3'}",
            "PLANBOT_API_RATE_LIMIT_PER_MINUTE": str(LIMIT), "PLANBOT_RATE_LIMIT_PER_MINUTE": str(LIMIT), **extra}


def _client(url: str, peer: str = "127.0.0.1") -> httpx.Client:
    return httpx.Client(base_url=url, timeout=60, transport=httpx.HTTPTransport(local_address=peer))


def _ask(client: httpx.Client, forwarded: str | None = None) -> int:
    headers = {"x-forwarded-for": forwarded} if forwarded else {}
    return client.post("/api/ask", json={"question": "子育ての支援は？"}, headers=headers).status_code


def _sign_in(client: httpx.Client, name: str, forwarded: str | None = None) -> int:
    headers = {"x-forwarded-for": forwarded} if forwarded else {}
    token = form_token(client.get("/review/login", headers=headers).text)
    return client.post("/review/login", headers=headers,
                       data={"csrf_token": token, "name": name, "password": "guess-xxxxxxxx"}).status_code


def within_one_minute(run: Callable[[], list[int]]) -> list[int]:
    """`run()`'s status codes, from a run made inside one clock minute (the limits count per clock minute, and
    across a minute's end the count starts again): it starts with at least 25 s of the minute left."""
    wait_until(lambda: time.time() % 60 < 35, timeout_s=65, interval_s=0.2)
    minute = int(time.time() // 60)
    codes = run()
    assert int(time.time() // 60) == minute, "the run took longer than 25 s"
    return codes


def test_a_forged_header_from_loopback_dodges_no_limit(settings: Settings, tmp_path: Path) -> None:
    with planbot_serve(_env(settings, tmp_path), log_path=tmp_path / "serve.log") as server, \
            _client(server.url) as client:
        assert "client address: the TCP peer (no PLANBOT_TRUSTED_PROXIES)" in server.log_text()
        codes = within_one_minute(lambda: [_ask(client) for _ in range(LIMIT + 1)] +
                                  [_ask(client, f"203.0.113.{n}") for n in (1, 2, 3)])
        assert codes[:LIMIT] == [200] * LIMIT and codes[LIMIT:] == [429] * 4
        # The sign-in limit counts the same address: new names and new forged addresses change nothing.
        logins = within_one_minute(lambda: [_sign_in(client, f"guess{n}", f"198.51.100.{n}")
                                            for n in range(LIMIT + 2)])
        assert logins[:LIMIT] == [401] * LIMIT and logins[LIMIT:] == [429, 429]


def test_behind_a_listed_proxy_the_forwarded_address_counts(settings: Settings, tmp_path: Path) -> None:
    env = _env(settings, tmp_path, PLANBOT_TRUSTED_PROXIES="127.0.0.1")
    with planbot_serve(env, log_path=tmp_path / "serve.log") as server, _client(server.url) as proxy, \
            _client(server.url, "127.0.0.2") as stranger:
        assert "client address: X-Forwarded-For from 127.0.0.1/32" in server.log_text()

        def run() -> list[int]:
            through_proxy = [_ask(proxy, "10.1.0.1") for _ in range(LIMIT + 1)]
            # A client that sends its own header in front of the proxy's: the address the proxy added counts.
            through_proxy.append(_ask(proxy, "192.0.2.1, 10.1.0.1"))
            another_citizen = [_ask(proxy, "10.1.0.2")]
            # A peer that is not a listed proxy: its header is ignored, its own address counted.
            direct = [_ask(stranger, f"10.2.0.{n}") for n in range(1, LIMIT + 3)]
            return through_proxy + another_citizen + direct

        codes = within_one_minute(run)
        assert codes[:LIMIT + 3] == [200] * LIMIT + [429, 429, 200]
        assert codes[LIMIT + 3:] == [200] * LIMIT + [429, 429]
