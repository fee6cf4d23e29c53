"""Slack events benchmark: ack latency under concurrent signed posts, and how fast the answers go out.

    .venv/bin/python -m bench.slack_events [--events 300] [--concurrency 20] [--retries 15]

Runs the real app (create_app + uvicorn on loopback, the real core, a fresh SQLite log) with the Slack
channel against the local fake Slack Web API, posts `--events` signed `app_mention` envelopes (distinct
users, so the per-user rate limit does not interfere) with `--concurrency` in flight, then `--retries`
redeliveries (same event_id, X-Slack-Retry-Num: 1) that must not produce a second message.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr
from slack_sdk.signature import SignatureVerifier

from adapters.app import create_app
from adapters.slack import SlackChannel
from bench.core import QUESTIONS, percentile
from bot.service import build_planbot
from bot.settings import Settings
from tests.fakes.slack_api import BOT_USER_ID, TEAM_ID, fake_slack_api
from tests.servers.app import LiveApp, live_app

SECRET = "bench-slack-signing-secret-0123456789"


def envelope(n: int) -> bytes:
    """One app_mention event callback, numbered."""
    ts = f"{1_700_000_000 + n}.000100"
    event = {"type": "app_mention", "user": f"U{n:07d}", "channel": "C0BENCH", "ts": ts, "event_ts": ts,
             "text": f"<@{BOT_USER_ID}> {QUESTIONS[n % len(QUESTIONS)]}"}
    return json.dumps({"token": "legacy", "team_id": TEAM_ID, "api_app_id": "A0BENCH", "type": "event_callback",
                       "event_id": f"Ev{n:08d}", "event_time": int(time.time()), "event": event}).encode()


def headers_for(body: bytes, retry: bool) -> dict[str, str]:
    """Slack's signature headers (and the retry header for a redelivery)."""
    ts = str(int(time.time()))
    headers = {"content-type": "application/json", "x-slack-request-timestamp": ts,
               "x-slack-signature": SignatureVerifier(SECRET).generate_signature(timestamp=ts, body=body) or ""}
    if retry:
        headers |= {"x-slack-retry-num": "1", "x-slack-retry-reason": "http_timeout"}
    return headers


async def post_all(url: str, bodies: list[tuple[bytes, bool]], concurrency: int) -> tuple[list[float], int]:
    """Post every body with `concurrency` in flight; ack latencies (ms) and the number of non-200s."""
    gate = asyncio.Semaphore(concurrency)
    latencies: list[float] = []
    errors = 0

    async def one(client: httpx.AsyncClient, body: bytes, retry: bool) -> None:
        nonlocal errors
        async with gate:
            started = time.perf_counter()
            reply = await client.post(f"{url}/slack/events", content=body, headers=headers_for(body, retry))
            latencies.append((time.perf_counter() - started) * 1000)
            errors += reply.status_code != 200

    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:
        await asyncio.gather(*(one(client, body, retry) for body, retry in bodies))
    return latencies, errors


def wait_for(live: LiveApp, count: Any, expected: int, timeout_s: float) -> float:
    """Seconds until `count()` reaches `expected` (or the timeout)."""
    started = time.monotonic()
    while count() < expected and time.monotonic() - started < timeout_s:
        time.sleep(0.05)
    return time.monotonic() - started


def run(events: int, concurrency: int, retries: int) -> dict[str, Any]:
    """The whole benchmark; returns the figures."""
    base = Settings.model_validate({"PLANBOT_ENV": "test"})
    planbot = build_planbot(base)
    with tempfile.TemporaryDirectory() as tmp, fake_slack_api() as fake:
        settings = base.model_copy(update={
            "database_url": f"sqlite:///{Path(tmp) / 'bench.sqlite3'}", "slack_signing_secret": SecretStr(SECRET),
            "slack_bot_token": SecretStr("xoxb-bench"), "slack_api_url": fake.api_url,
            "rate_limit_per_minute": 1000})
        with live_app(create_app(settings, planbot=planbot, channels=[SlackChannel(settings)])) as live:
            bodies = [(envelope(n), False) for n in range(events)]
            started = time.monotonic()
            latencies, errors = asyncio.run(post_all(live.url, bodies, concurrency))
            posted = lambda: len(fake.calls_to("chat.postMessage"))  # noqa: E731
            delivered_s = wait_for(live, posted, events, timeout_s=max(120.0, events * 1.0))
            total_s = time.monotonic() - started
            retry_bodies = [(envelope(n), True) for n in range(min(retries, events))]
            retry_latencies, retry_errors = asyncio.run(post_all(live.url, retry_bodies, concurrency))
            time.sleep(2.0)  # longer than the worker's idle poll: a duplicate would have gone out by now
            return {
                "events": events, "concurrency": concurrency,
                "ack_p50_ms": round(statistics.median(latencies), 1),
                "ack_p99_ms": round(percentile(latencies, 99), 1),
                "ack_max_ms": round(max(latencies), 1), "non_200": errors + retry_errors,
                "messages_delivered": posted(), "all_delivered_after_s": round(total_s, 2),
                "delivery_after_last_ack_s": round(delivered_s, 2),
                "answers_per_s": round(posted() / total_s, 1) if total_s else None,
                "retries_posted": len(retry_bodies),
                "retry_ack_p50_ms": round(statistics.median(retry_latencies), 1) if retry_latencies else None,
                "inbox": live.services.inbox.counts(),
            }


def main() -> None:
    """CLI entry point: prints one JSON object of figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--retries", type=int, default=15)
    args = parser.parse_args()
    if not 1 <= args.events <= 5000 or not 1 <= args.concurrency <= 200:
        parser.error("keep --events in 1..5000 and --concurrency in 1..200")
    print(json.dumps(run(args.events, args.concurrency, args.retries), ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
