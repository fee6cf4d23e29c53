"""LINE webhook benchmark: ack latency under concurrent signed posts, and how fast the answers go out.

    .venv/bin/python -m bench.line_webhook [--events 300] [--concurrency 20] [--redeliveries 15]

Runs the real app (create_app + uvicorn on loopback, the real core, a fresh SQLite log) against the
local fake LINE API, posts `--events` signed webhook bodies (one text event each, distinct users) with
`--concurrency` in flight, plus `--redeliveries` repeated events that must not be answered twice.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr

from adapters.app import create_app
from adapters.line import LineChannel
from bench.core import QUESTIONS, percentile
from bot.service import build_planbot
from bot.settings import Settings
from tests.fakes.line_api import FakeLineApi
from tests.servers.app import LiveApp, live_app

SECRET = "bench-line-channel-secret"
TOKEN = "bench-line-access-token"


def signed_body(event: dict[str, Any]) -> tuple[bytes, str]:
    """A webhook body with one event, and its X-Line-Signature."""
    body = json.dumps({"destination": "Ubench", "events": [event]}, ensure_ascii=False).encode()
    return body, base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest()).decode()


def text_event(i: int) -> dict[str, Any]:
    """Event i: a question from user i (distinct users, so the per-user rate limit is not what we measure)."""
    return {"type": "message", "mode": "active", "timestamp": int(time.time() * 1000),
            "webhookEventId": f"BENCH{i:08d}{uuid.uuid4().hex[:8].upper()}",
            "deliveryContext": {"isRedelivery": False}, "replyToken": uuid.uuid4().hex,
            "source": {"type": "user", "userId": f"U{i:032x}"},
            "message": {"type": "text", "id": str(i), "quoteToken": "q", "text": QUESTIONS[i % len(QUESTIONS)]}}


async def post_all(url: str, events: list[dict[str, Any]], concurrency: int) -> tuple[list[float], list[str]]:
    """POST every event (bounded concurrency): the ack latencies (ms) of the 200s, and the failures.

    A failed post is retried once, as LINE redelivers; the retry's latency is not counted.
    """
    gate = asyncio.Semaphore(concurrency)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as client:

        async def one(event: dict[str, Any]) -> float | str:
            body, signature = signed_body(event)
            headers = {"x-line-signature": signature, "content-type": "application/json"}
            outcome: float | str = "not sent"
            for attempt in range(2):
                async with gate:
                    started = time.perf_counter()
                    try:
                        response = await client.post("/line/webhook", content=body, headers=headers)
                    except httpx.TransportError as exc:
                        outcome = type(exc).__name__
                        continue
                    elapsed = (time.perf_counter() - started) * 1000
                if response.status_code == 200:
                    return elapsed if attempt == 0 else f"ok on retry after {outcome}"
                outcome = f"HTTP {response.status_code}"
            return outcome

        results = await asyncio.gather(*(one(e) for e in events))
        return [r for r in results if isinstance(r, float)], [r for r in results if isinstance(r, str)]


def wait_finished(live: LiveApp, expected: int, timeout_s: float) -> dict[str, int]:
    """Poll the inbox until `expected` events are done or failed; its final counts."""
    deadline = time.monotonic() + timeout_s
    while True:
        counts = live.services.inbox.counts()
        if counts.get("done", 0) + counts.get("failed", 0) >= expected or time.monotonic() > deadline:
            return counts
        time.sleep(0.05)


def run(events: int, concurrency: int, redeliveries: int, workers: int | None) -> dict[str, Any]:
    """Start everything, post, wait for the answers, return the figures."""
    base = Settings()
    started = time.perf_counter()
    planbot = build_planbot(base)
    core_s = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as tmp, FakeLineApi(TOKEN).running() as fake:
        update: dict[str, Any] = {
            "database_url": f"sqlite:///{Path(tmp) / 'bench.sqlite3'}",
            "line_channel_secret": SecretStr(SECRET), "line_channel_access_token": SecretStr(TOKEN),
            "line_api_base_url": fake.url}
        if workers:
            update["worker_concurrency"] = workers
        settings = base.model_copy(update=update)
        unique = [text_event(i) for i in range(events)]
        repeats = [{**e, "deliveryContext": {"isRedelivery": True}} for e in unique[:redeliveries]]
        with live_app(create_app(settings, planbot=planbot, channels=[LineChannel(settings)])) as live:
            t0 = time.perf_counter()
            acks, failures = asyncio.run(post_all(live.url, unique + repeats, concurrency))
            acked_s = time.perf_counter() - t0
            counts = wait_finished(live, events, timeout_s=max(120.0, events * 2.0))
            answered_s = time.perf_counter() - t0
            replies, pushes = len(fake.of("reply")), len(fake.of("push"))
        return {
            "events": events, "redeliveries_posted": len(repeats), "concurrency": concurrency,
            "worker_concurrency": settings.worker_concurrency, "core_load_s": round(core_s, 2),
            "ack_p50_ms": round(percentile(acks, 50), 1), "ack_p99_ms": round(percentile(acks, 99), 1),
            "ack_max_ms": round(max(acks), 1), "ack_mean_ms": round(statistics.fmean(acks), 1),
            "all_acked_s": round(acked_s, 2), "acks_per_s": round(len(acks) / acked_s, 1),
            "post_failures": failures,
            "answered": replies + pushes, "replies": replies, "pushes": pushes, "inbox": counts,
            "all_answered_s": round(answered_s, 2), "answers_per_s": round((replies + pushes) / answered_s, 1),
            "answered_once": replies + pushes == events,
        }


def main() -> None:
    """Parse arguments, run, print the figures as JSON and a one-line summary."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--redeliveries", type=int, default=15)
    parser.add_argument("--workers", type=int, default=None, help="inbox worker concurrency (default: settings)")
    args = parser.parse_args()
    if not 1 <= args.events <= 5000 or not 1 <= args.concurrency <= 200:
        parser.error("keep it bounded: 1-5000 events, concurrency 1-200")
    figures = run(args.events, args.concurrency, min(args.redeliveries, args.events), args.workers)
    print(json.dumps(figures, ensure_ascii=False, indent=2))
    print(f"ack p50 {figures['ack_p50_ms']} ms, p99 {figures['ack_p99_ms']} ms; "
          f"{figures['answered']}/{figures['events']} answered in {figures['all_answered_s']} s "
          f"({figures['answers_per_s']}/s; {figures['replies']} replies, {figures['pushes']} pushes)")


if __name__ == "__main__":
    main()
