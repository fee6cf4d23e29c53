"""Bounded load against `planbot serve`: signed LINE and Slack events, duplicated and 1% forged.

    .venv/bin/python -m bench.load [--line 500] [--slack 500] [--copies 2] [--forged 0.01] \
        [--concurrency 32] [--workers 1] [--database-url URL | --postgres] \
        [--web-only --worker-processes N | --compare --worker-processes N] [--code TREE]

Starts the local fake LINE and Slack APIs and planbot (subprocesses on loopback, a copy of the built index, a
fresh SQLite log unless --database-url): `planbot serve --workers W` by default; with --web-only,
`planbot serve --web-only` beside N `planbot worker` processes; --compare runs both layouts one after the
other on the same load and prints them side by side. It posts every event `--copies` times (LINE copies marked
isRedelivery, Slack copies with X-Slack-Retry-Num) in a shuffled order with `--concurrency` in flight, and
prints ack p50/p99, throughput and delivery figures. It stops by itself; nothing leaves the machine.
The same functions are the load, multi-worker and kill -9 tests.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import random
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from slack_sdk.signature import SignatureVerifier
from sqlalchemy import select

from bench.core import QUESTIONS, percentile
from bot.store.db import Database
from bot.store.models import AnswerRecord, InboxEvent
from tests.fakes.line_api import FakeLineApi
from tests.fakes.slack_api import BOT_USER_ID, TEAM_ID, FakeSlack

LINE_SECRET = "load-line-channel-secret-7f3a9c"
LINE_TOKEN = "load-line-access-token-b81e2d"
SLACK_SECRET = "load-slack-signing-secret-5d0c4e1a"
SLACK_TOKEN = "xoxb-load-slack-bot-token-9e2f"
FORGED_SECRET = "an-attacker-guess-of-the-secret"


@dataclass(frozen=True)
class Post:
    """One HTTP post of the load: which event, its body and headers, and whether its signature is forged."""

    source: str
    key: str
    body: bytes
    headers: dict[str, str]
    forged: bool = False
    slack_secret: str | None = None  # Slack posts are signed again when sent: Slack refuses stamps > 5 min old

    def headers_now(self) -> dict[str, str]:
        """The headers to send now (a Slack post gets a fresh timestamp and signature, as Slack signs)."""
        if self.slack_secret is None:
            return self.headers
        stamp = str(int(time.time()))
        signature = SignatureVerifier(self.slack_secret).generate_signature(timestamp=stamp, body=self.body)
        return self.headers | {"x-slack-request-timestamp": stamp, "x-slack-signature": signature or ""}


@dataclass
class PostResult:
    """What the server answered to one post (status None: no answer, e.g. the server was killed)."""

    post: Post
    status: int | None
    ms: float


def serve_env(data_dir: Path, database_url: str, line_url: str, slack_api_url: str,
              extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The settings of a load target: both channels on the fakes, a limit no load user reaches."""
    env = {"PLANBOT_DATA_DIR": str(data_dir), "PLANBOT_ENV": "test", "DATABASE_URL": database_url,
           "LINE_CHANNEL_SECRET": LINE_SECRET, "LINE_CHANNEL_ACCESS_TOKEN": LINE_TOKEN,
           "LINE_API_BASE_URL": line_url, "SLACK_SIGNING_SECRET": SLACK_SECRET, "SLACK_BOT_TOKEN": SLACK_TOKEN,
           "SLACK_API_URL": slack_api_url, "PLANBOT_RATE_LIMIT_PER_MINUTE": "10000"}
    return env | dict(extra or {})


def line_event(key: str, i: int, redelivery: bool = False) -> dict[str, Any]:
    """A 1:1 text event; reply token and user derive from the key so a delivery maps back to its event."""
    return {"type": "message", "mode": "active", "timestamp": int(time.time() * 1000), "webhookEventId": key,
            "deliveryContext": {"isRedelivery": redelivery}, "replyToken": f"rt-{key}",
            "source": {"type": "user", "userId": line_user(key)},
            "message": {"type": "text", "id": str(i), "quoteToken": "q", "text": QUESTIONS[i % len(QUESTIONS)]}}


def line_user(key: str) -> str:
    """The (distinct) LINE user of event `key`."""
    return "U" + hashlib.md5(key.encode()).hexdigest()


def line_post(event: dict[str, Any], secret: str = LINE_SECRET, forged: bool = False) -> Post:
    """A signed webhook body with one event."""
    body = json.dumps({"destination": "Uload", "events": [event]}, ensure_ascii=False).encode()
    signature = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
    headers = {"content-type": "application/json", "x-line-signature": signature}
    return Post("line", str(event["webhookEventId"]), body, headers, forged)


def slack_ts(i: int, run: str) -> str:
    """The message ts of Slack event i (also the thread the answer goes to)."""
    return f"{1_700_000_000 + i}.{int(run[:5], 16) % 1_000_000:06d}"


def slack_post(key: str, i: int, ts: str, retry_num: int | None = None, secret: str = SLACK_SECRET,
               forged: bool = False) -> Post:
    """A signed Events API `app_mention` envelope (with Slack's retry headers for a redelivery)."""
    event = {"type": "app_mention", "user": f"U{i:08d}", "channel": "C0LOAD", "ts": ts, "event_ts": ts,
             "text": f"<@{BOT_USER_ID}> {QUESTIONS[i % len(QUESTIONS)]}"}
    body = json.dumps({"token": "legacy", "team_id": TEAM_ID, "api_app_id": "A0LOAD", "type": "event_callback",
                       "event_id": key, "event_time": int(time.time()), "event": event}).encode()
    stamp = str(int(time.time()))
    headers = {"content-type": "application/json", "x-slack-request-timestamp": stamp,
               "x-slack-signature": SignatureVerifier(secret).generate_signature(timestamp=stamp, body=body) or ""}
    if retry_num is not None:
        headers |= {"x-slack-retry-num": str(retry_num), "x-slack-retry-reason": "http_timeout"}
    return Post("slack", key, body, headers, forged, slack_secret=secret)


@dataclass
class LoadPlan:
    """The posts of one load run, and which event keys are valid (must be answered once)."""

    posts: list[Post]
    valid: set[tuple[str, str]]
    forged: set[tuple[str, str]]
    slack_ts: dict[str, str] = field(default_factory=dict)


def build_plan(line: int, slack: int, copies: int = 1, forged_ratio: float = 0.01, seed: int = 9) -> LoadPlan:
    """`line` + `slack` distinct events, each posted `copies` times, plus forged posts, shuffled."""
    rng = random.Random(seed)
    run = uuid.uuid4().hex
    posts: list[Post] = []
    plan = LoadPlan(posts, set(), set())
    for i in range(line):
        key = f"L{run[:10]}{i:06d}".upper()
        plan.valid.add(("line", key))
        posts += [line_post(line_event(key, i, redelivery=c > 0)) for c in range(copies)]
    for i in range(slack):
        key, ts = f"Ev{run[:8]}{i:06d}", slack_ts(i, run)
        plan.valid.add(("slack", key))
        plan.slack_ts[ts] = key
        posts += [slack_post(key, i, ts, retry_num=c or None) for c in range(copies)]
    forged = max(1, round((line + slack) * forged_ratio)) if forged_ratio > 0 else 0
    for n in range(forged):
        i = 900_000 + n
        if n % 2 == 0:
            key = f"F{run[:10]}{n:06d}".upper()
            posts.append(line_post(line_event(key, i), secret=FORGED_SECRET, forged=True))
            plan.forged.add(("line", key))
        else:
            key, ts = f"EvF{run[:8]}{n:06d}", slack_ts(i, run)
            posts.append(slack_post(key, i, ts, secret=FORGED_SECRET, forged=True))
            plan.forged.add(("slack", key))
            plan.slack_ts[ts] = key
    rng.shuffle(posts)
    return plan


async def post_all(url: str, posts: list[Post], concurrency: int, on_result: Any = None,
                   rate_per_s: float | None = None) -> list[PostResult]:
    """Post everything with `concurrency` in flight (at most `rate_per_s` started per second, if given);
    `on_result(result)` is called as each one finishes.

    aiohttp, not httpx: with 100 connections httpcore's pool spends more CPU choosing a connection than the
    server spends acknowledging, and on a shared 2-core machine the load generator then measures itself.
    """
    import aiohttp

    gate = asyncio.Semaphore(concurrency)
    paths = {"line": "/line/webhook", "slack": "/slack/events"}
    connector = aiohttp.TCPConnector(limit=concurrency, force_close=False)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(base_url=url, connector=connector, timeout=timeout) as session:
        begin = time.perf_counter()

        async def one(n: int, post: Post) -> PostResult:
            if rate_per_s:
                await asyncio.sleep(max(0.0, begin + n / rate_per_s - time.perf_counter()))
            async with gate:
                started = time.perf_counter()
                try:
                    async with session.post(paths[post.source], data=post.body, headers=post.headers_now()) as reply:
                        await reply.read()
                        status: int | None = reply.status
                except (TimeoutError, aiohttp.ClientError):
                    status = None
                result = PostResult(post, status, (time.perf_counter() - started) * 1000)
            if on_result is not None:
                on_result(result)
            return result

        return list(await asyncio.gather(*(one(n, p) for n, p in enumerate(posts))))


def line_deliveries(fake: FakeLineApi) -> Counter[str]:
    """Answers LINE took (replies and pushes), per event key."""
    by_user: Counter[str] = Counter()
    for call in fake.of("reply"):
        by_user[str(call.body.get("replyToken", "")).removeprefix("rt-")] += 1
    for call in fake.of("push"):
        by_user["push:" + str(call.body.get("to"))] += 1
    return by_user


def delivered_counts(plan: LoadPlan, fake_line: FakeLineApi, fake_slack: FakeSlack) -> Counter[tuple[str, str]]:
    """How many answers reached the fakes, per (source, event key)."""
    counts: Counter[tuple[str, str]] = Counter()
    users = {line_user(key): key for source, key in plan.valid | plan.forged if source == "line"}
    for token, n in line_deliveries(fake_line).items():
        key = users.get(token.removeprefix("push:"), "?") if token.startswith("push:") else token
        counts[("line", key)] += n
    for call in fake_slack.calls_to("chat.postMessage"):
        counts[("slack", plan.slack_ts.get(str(call.params.get("thread_ts")), "?"))] += 1
    return counts


def stored_counts(database_url: str) -> tuple[Counter[tuple[str, str]], Counter[tuple[str, str]], Counter[str]]:
    """From the database: answer-log rows per (channel, event key), inbox rows per key, inbox statuses."""
    database = Database(database_url)
    try:
        with database.session() as session:
            logged = Counter((str(c), str(k)) for c, k in session.execute(
                select(AnswerRecord.channel, AnswerRecord.event_key)).all())
            inbox_rows = session.execute(select(InboxEvent.source, InboxEvent.event_key, InboxEvent.status)).all()
    finally:
        database.dispose()
    held = Counter((str(s), str(k)) for s, k, _ in inbox_rows)
    return logged, held, Counter(str(status) for _, _, status in inbox_rows)


def wait_answered(plan: LoadPlan, expected: set[tuple[str, str]], fake_line: FakeLineApi, fake_slack: FakeSlack,
                  timeout_s: float) -> float:
    """Seconds until every expected event reached a fake (or the timeout)."""
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        delivered = delivered_counts(plan, fake_line, fake_slack)
        if all(delivered[k] for k in expected):
            break
        time.sleep(0.1)
    return time.monotonic() - started


@dataclass
class Verdict:
    """The outcome of a load run: every invariant the tests assert, with the evidence."""

    forged_accepted: list[str]
    lost: list[str]
    duplicated: list[str]
    log_mismatch: list[str]
    acked: set[tuple[str, str]]
    # Acknowledged, not delivered, and recorded as "unknown": a worker died mid-reply and the reply token could
    # no longer tell whether the reply went out, so nothing more was sent (at most once; see the LINE handler).
    unknown: list[str] = field(default_factory=list)

    @property
    def held(self) -> bool:
        """0 forged accepted, 0 acknowledged event lost, 0 answered or logged twice."""
        return not (self.forged_accepted or self.lost or self.duplicated or self.log_mismatch)


def verdict(plan: LoadPlan, results: list[PostResult], fake_line: FakeLineApi, fake_slack: FakeSlack,
            database_url: str) -> Verdict:
    """Check the invariants: forged never accepted, acked answered and logged exactly once."""
    delivered = delivered_counts(plan, fake_line, fake_slack)
    logged, held, _ = stored_counts(database_url)
    acked = {(r.post.source, r.post.key) for r in results if r.status == 200 and not r.post.forged}
    forged = [f"{r.post.source}/{r.post.key}: HTTP {r.status}" for r in results
              if r.post.forged and r.status not in (400, 401, 403)]
    forged += [f"{s}/{k} stored or answered" for s, k in plan.forged
               if held[(s, k)] or delivered[(s, k)] or logged[(s, k)]]
    unknown_outcome = unknown_outcomes(database_url)
    undelivered = [(s, k) for s, k in sorted(acked) if delivered[(s, k)] == 0]
    lost = [f"{s}/{k}" for s, k in undelivered if (s, k) not in unknown_outcome]
    unknown = [f"{s}/{k}" for s, k in undelivered if (s, k) in unknown_outcome]
    duplicated = [f"{s}/{k} x{n}" for (s, k), n in delivered.items() if n > 1]
    log_mismatch = [f"{s}/{k}: {logged[(s, k)]} log rows" for s, k in sorted(acked) if logged[(s, k)] != 1]
    log_mismatch += [f"{s}/{k}: {n} log rows" for (s, k), n in logged.items() if n > 1]
    return Verdict(forged, lost, duplicated, log_mismatch, acked, unknown)


def unknown_outcomes(database_url: str) -> set[tuple[str, str]]:
    """Inbox rows whose delivery outcome is "unknown" (none before the inbox recorded outcomes)."""
    from sqlalchemy import inspect

    database = Database(database_url)
    try:
        if "delivery" not in {c["name"] for c in inspect(database.engine).get_columns("inbox")}:
            return set()
        with database.session() as session:
            rows = session.execute(select(InboxEvent.source, InboxEvent.event_key)
                                   .where(InboxEvent.delivery == "unknown")).all()
    finally:
        database.dispose()
    return {(str(s), str(k)) for s, k in rows}


def figures(results: list[PostResult], elapsed_s: float) -> dict[str, Any]:
    """Ack latency percentiles and throughput of the valid posts."""
    acks = [r.ms for r in results if r.status == 200 and not r.post.forged]
    statuses = Counter(str(r.status) for r in results)
    return {"posts": len(results), "statuses": dict(statuses), "ack_p50_ms": round(percentile(acks, 50), 1),
            "ack_p99_ms": round(percentile(acks, 99), 1), "ack_max_ms": round(max(acks, default=0.0), 1),
            "posts_per_s": round(len(results) / elapsed_s, 1) if elapsed_s else None}


@dataclass(frozen=True)
class Layout:
    """Which processes serve the load: `planbot serve --workers W`, or web-only + N worker processes."""

    workers: int = 1
    worker_processes: int = 0

    @property
    def name(self) -> str:
        """How the table names it."""
        if self.worker_processes:
            return f"serve --web-only + {self.worker_processes} × worker"
        return f"serve --workers {self.workers}"


def run(line: int, slack: int, copies: int, forged_ratio: float, concurrency: int, layout: Layout,
        database_url: str | None, source_data_dir: Path | None, code: Path | None = None) -> dict[str, Any]:
    """Start the fakes and the servers, run the load, wait for the answers; every figure and the verdict.

    `code`: a source tree whose planbot the servers run instead of this one (the "before" side of a
    comparison; bench/acks.py)."""
    from tests.fakes.slack_api import fake_slack_api
    from tests.servers.serve import planbot_serve, planbot_split, seed_data_dir

    with tempfile.TemporaryDirectory() as tmp, FakeLineApi(LINE_TOKEN).running() as fake_line, \
            fake_slack_api() as fake_slack:
        data_dir = seed_data_dir(source_data_dir, Path(tmp) / "data")
        url = database_url or f"sqlite:///{Path(tmp) / 'load.sqlite3'}"
        env = serve_env(data_dir, url, fake_line.url, fake_slack.api_url, code_env(code))
        running = (planbot_split(env, layout.worker_processes, Path(tmp)) if layout.worker_processes
                   else planbot_serve(env, workers=layout.workers))
        with running as server:
            plan = build_plan(line, slack, copies, forged_ratio)  # stamped now, as LINE stamps its events
            started = time.perf_counter()
            results = asyncio.run(post_all(server.url, plan.posts, concurrency))
            acked_s = time.perf_counter() - started
            answered_s = wait_answered(plan, plan.valid, fake_line, fake_slack, timeout_s=60 + 2.0 * len(plan.valid))
            # Every inbox row finished: nothing is left that could answer twice.
            wait_until_finished(url, len(plan.valid), timeout_s=60)
        found = verdict(plan, results, fake_line, fake_slack, url)
        delivered = delivered_counts(plan, fake_line, fake_slack)
        return {"layout": layout.name, "line_events": line, "slack_events": slack, "copies": copies,
                "forged_posts": len(plan.forged), "concurrency": concurrency,
                **figures(results, acked_s), "all_acked_s": round(acked_s, 2),
                "answered": sum(1 for k in plan.valid if delivered[k]),
                "all_answered_s": round(acked_s + answered_s, 2),
                "answers_per_s": round(len(plan.valid) / (acked_s + answered_s), 1),
                "forged_accepted": len(found.forged_accepted), "valid_lost": len(found.lost),
                "duplicates": len(found.duplicated), "log_mismatches": len(found.log_mismatch), "held": found.held}


def code_env(code: Path | None) -> dict[str, str]:
    """The environment that makes a server run the planbot of source tree `code` (ahead of the installed one)."""
    return {} if code is None else {"PYTHONPATH": str(code.resolve())}


def wait_until_finished(database_url: str, events: int, timeout_s: float) -> None:
    """Until the inbox holds `events` rows, all done or failed (or the timeout)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        statuses = stored_counts(database_url)[2]
        if statuses.get("done", 0) + statuses.get("failed", 0) >= events and set(statuses) <= {"done", "failed"}:
            return
        time.sleep(0.2)


TABLE_ROWS = (("ack p50 (ms)", "ack_p50_ms"), ("ack p99 (ms)", "ack_p99_ms"), ("ack max (ms)", "ack_max_ms"),
              ("acks/s (posts)", "posts_per_s"), ("all acked (s)", "all_acked_s"),
              ("answers/s", "answers_per_s"), ("all answered (s)", "all_answered_s"),
              ("answered / events", "answered"), ("forged accepted", "forged_accepted"),
              ("lost", "valid_lost"), ("duplicated", "duplicates"), ("log mismatches", "log_mismatches"))


def markdown_table(runs: list[dict[str, Any]]) -> str:
    """The runs side by side, one column per layout."""
    lines = ["| figure | " + " | ".join(f"`{r['layout']}`" for r in runs) + " |",
             "| --- |" + " --- |" * len(runs)]
    for label, key in TABLE_ROWS:
        lines.append(f"| {label} | " + " | ".join(str(r[key]) for r in runs) + " |")
    return "\n".join(lines)


@contextmanager
def _database(url: str | None, postgres: bool) -> Iterator[str | None]:
    """The database URL to load: the given one, a throwaway durable PostgreSQL, or None (fresh SQLite)."""
    if not postgres:
        yield url
        return
    from tests.servers.postgres import postgres_server

    with postgres_server(durable=True) as started:
        yield started


def main() -> None:
    """Parse arguments, run once, print the figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--line", type=int, default=500)
    parser.add_argument("--slack", type=int, default=500)
    parser.add_argument("--copies", type=int, default=2)
    parser.add_argument("--forged", type=float, default=0.01)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--workers", type=int, default=1, help="uvicorn processes of `planbot serve`")
    parser.add_argument("--web-only", action="store_true",
                        help="`planbot serve --web-only` and --worker-processes `planbot worker` processes")
    parser.add_argument("--worker-processes", type=int, default=2)
    parser.add_argument("--compare", action="store_true",
                        help="run `serve --workers W` and then the web-only layout; print both side by side")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--postgres", action="store_true",
                        help="start a throwaway PostgreSQL (Debian's package, fsync on) and use it")
    parser.add_argument("--code", type=Path, default=None,
                        help="run the servers from this source tree (e.g. a checkout of main), not this one")
    parser.add_argument("--index-from", type=Path, default=None,
                        help="a data dir whose built index is copied (default: the per-user data dir)")
    args = parser.parse_args()
    if not 0 <= args.line <= 5000 or not 0 <= args.slack <= 5000 or not 1 <= args.copies <= 5:
        parser.error("keep it bounded: at most 5000 events per platform, 1-5 copies")
    if not 1 <= args.concurrency <= 200 or not 1 <= args.workers <= 8 or not 1 <= args.worker_processes <= 8:
        parser.error("keep it bounded: concurrency 1-200, workers 1-8, worker processes 1-8")
    source = args.index_from
    if source is None:
        from bot.settings import Settings

        source = Settings().data_dir
    split = Layout(worker_processes=args.worker_processes)
    layouts = [Layout(workers=args.workers), split] if args.compare else [
        split if args.web_only else Layout(workers=args.workers)]
    with _database(args.database_url, args.postgres) as database_url:
        runs = [run(args.line, args.slack, args.copies, args.forged, args.concurrency, layout, database_url,
                    source, args.code) for layout in layouts]
    print(json.dumps(runs if args.compare else runs[0], ensure_ascii=False, indent=2))
    if args.compare:
        print(markdown_table(runs))


if __name__ == "__main__":
    main()
