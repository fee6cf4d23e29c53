"""Webhook acknowledgements, before and after a change, in one run: steady load and bursts.

    .venv/bin/python -m bench.acks --before /tmp/planbot-before [--events 2000] [--concurrency 100] \
        [--burst 100] [--bursts 10] [--worker-processes 2] [--postgres] [--rounds 1]

For each side — `--before TREE` (e.g. `git archive main | tar -x -C TREE`) and this tree — it starts the split
layout (`planbot serve --web-only` beside `--worker-processes` `planbot worker` processes, so workers answer
while the web process acknowledges) on a fresh SQLite file (`synchronous=FULL`) or a fresh database of one
throwaway PostgreSQL with fsync on (`--postgres`), then:

1. bursts: `--bursts` times, `--burst` signed events (half LINE, half Slack) posted at the same instant on
   connections opened beforehand; each ack is timed from that instant;
2. steady: `--events` signed events (half LINE, half Slack) plus 1% forged, `--concurrency` in flight;
3. waits until every event is answered, and checks: 0 forged accepted, 0 lost, 0 duplicated.

Sides alternate per round (before, after, before, after …) so a change in the machine's load hits both.
Prints JSON and a markdown table. Bounded; nothing leaves the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.core import percentile
from bench.load import (
    LINE_TOKEN,
    LoadPlan,
    Post,
    PostResult,
    build_plan,
    code_env,
    delivered_counts,
    figures,
    post_all,
    serve_env,
    verdict,
    wait_answered,
    wait_until_finished,
)
from tests.fakes.line_api import FakeLineApi

PATHS = {"line": "/line/webhook", "slack": "/slack/events"}


async def post_bursts(url: str, posts: list[Post], size: int) -> list[PostResult]:
    """`size` posts at a time, all released at one instant; each timed from that instant."""
    import aiohttp

    connector = aiohttp.TCPConnector(limit=size)
    results: list[PostResult] = []
    async with aiohttp.ClientSession(base_url=url, connector=connector,
                                     timeout=aiohttp.ClientTimeout(total=60)) as session:
        for start in range(0, len(posts), size):
            group = posts[start:start + size]
            await _open_connections(session, len(group))
            results += await _one_burst(session, group)
    return results


async def _one_burst(session: Any, group: list[Post]) -> list[PostResult]:
    import aiohttp

    go = asyncio.Event()
    released = [0.0]

    async def one(post: Post, headers: dict[str, str]) -> PostResult:
        await go.wait()
        try:
            async with session.post(PATHS[post.source], data=post.body, headers=headers) as reply:
                await reply.read()
                status: int | None = reply.status
        except (TimeoutError, aiohttp.ClientError):
            status = None
        return PostResult(post, status, (time.perf_counter() - released[0]) * 1000)

    tasks = [asyncio.create_task(one(p, p.headers_now())) for p in group]
    await asyncio.sleep(0.05)  # every task is waiting at the gate
    released[0] = time.perf_counter()
    go.set()
    return list(await asyncio.gather(*tasks))


async def _open_connections(session: Any, count: int) -> None:
    # Concurrent requests that each hold their connection until all are open, so the burst finds `count`
    # idle keep-alive connections and measures acknowledging, not TCP handshakes.
    barrier = asyncio.Barrier(count)

    async def hold() -> None:
        async with session.get("/healthz") as reply:
            await reply.read()
            await barrier.wait()

    await asyncio.gather(*(hold() for _ in range(count)))


def burst_figures(results: list[PostResult]) -> dict[str, Any]:
    """Ack latency of the burst posts, from the instant each burst was released."""
    acks = [r.ms for r in results if r.status == 200]
    return {"burst_posts": len(results), "burst_non_200": sum(1 for r in results if r.status != 200),
            "burst_p50_ms": round(percentile(acks, 50), 1), "burst_p99_ms": round(percentile(acks, 99), 1),
            "burst_max_ms": round(max(acks, default=0.0), 1)}


def side(name: str, code: Path | None, args: argparse.Namespace, database_url: str | None) -> dict[str, Any]:
    """One side: start the layout, bursts, steady load, answers, verdict."""
    from tests.fakes.slack_api import fake_slack_api
    from tests.servers.serve import planbot_split, seed_data_dir

    with tempfile.TemporaryDirectory() as tmp, FakeLineApi(LINE_TOKEN).running() as fake_line, \
            fake_slack_api() as fake_slack:
        url = database_url or f"sqlite:///{Path(tmp) / 'acks.sqlite3'}"
        env = serve_env(seed_data_dir(args.index_from, Path(tmp) / "data"), url, fake_line.url,
                        fake_slack.api_url, code_env(code))
        with planbot_split(env, args.worker_processes, Path(tmp), timeout_s=300) as server:
            total = args.burst * args.bursts
            bursts = build_plan(line=total // 2, slack=total - total // 2, copies=1, forged_ratio=0.0)
            burst_results = asyncio.run(post_bursts(server.url, bursts.posts, args.burst))
            steady = build_plan(line=args.events // 2, slack=args.events - args.events // 2, copies=1,
                                forged_ratio=0.01)
            assert server.web.process is not None
            cpu_before, started = cpu_seconds(server.web.process.pid), time.perf_counter()
            results = asyncio.run(post_all(server.url, steady.posts, args.concurrency))
            acked_s = time.perf_counter() - started
            web_cpu_ms = (cpu_seconds(server.web.process.pid) - cpu_before) * 1000 / len(results)
            plans = [(bursts, burst_results), (steady, results)]
            every = LoadPlan([p for plan, _ in plans for p in plan.posts], bursts.valid | steady.valid,
                             steady.forged, bursts.slack_ts | steady.slack_ts)
            answered_s = wait_answered(every, every.valid, fake_line, fake_slack, timeout_s=120 + 2.0 * total)
            wait_until_finished(url, len(every.valid), timeout_s=120)
        found = verdict(every, burst_results + results, fake_line, fake_slack, url)
        delivered = delivered_counts(every, fake_line, fake_slack)
    return {"side": name, "load_average": round(os.getloadavg()[0], 1), **burst_figures(burst_results),
            **figures(results, acked_s), "web_cpu_ms_per_post": round(web_cpu_ms, 2),
            "answered": sum(1 for k in every.valid if delivered[k]),
            "events": len(every.valid), "answered_after_acks_s": round(answered_s, 1),
            "forged_accepted": len(found.forged_accepted), "lost": len(found.lost),
            "duplicated": len(found.duplicated), "log_mismatches": len(found.log_mismatch),
            "unknown": len(found.unknown)}


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used (/proc), whatever else the machine runs."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


ROWS = (("steady: ack p50 / p99 / max (ms)", ("ack_p50_ms", "ack_p99_ms", "ack_max_ms")),
        ("steady: acks/s (posts)", ("posts_per_s",)),
        ("steady: web process CPU per post (ms)", ("web_cpu_ms_per_post",)),
        ("burst: ack p50 / p99 / max (ms)", ("burst_p50_ms", "burst_p99_ms", "burst_max_ms")),
        ("burst: posts not 200", ("burst_non_200",)),
        ("answered / events", ("answered", "events")),
        ("forged accepted / lost / duplicated / log mismatches", ("forged_accepted", "lost", "duplicated",
                                                                  "log_mismatches")),
        ("load average (1 min) after the side", ("load_average",)))


def markdown_table(runs: list[dict[str, Any]]) -> str:
    """The sides as columns."""
    lines = ["| figure | " + " | ".join(r["side"] for r in runs) + " |", "| --- |" + " --- |" * len(runs)]
    for label, keys in ROWS:
        lines.append(f"| {label} | " + " | ".join(" / ".join(str(r[k]) for k in keys) for r in runs) + " |")
    return "\n".join(lines)


@contextmanager
def databases(postgres: bool) -> Iterator[Any]:
    """A factory of fresh database URLs (None: each side makes its own SQLite file)."""
    if not postgres:
        @contextmanager
        def none() -> Iterator[None]:
            yield None
        yield none
        return
    from tests.servers.postgres import fresh_database, postgres_server

    with postgres_server(durable=True) as server:
        yield lambda: fresh_database(server)


def main() -> None:
    """Parse, run the sides alternately, print JSON and the table."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", type=Path, required=True, help="source tree of the code to compare with")
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--burst", type=int, default=100)
    parser.add_argument("--bursts", type=int, default=10)
    parser.add_argument("--worker-processes", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--postgres", action="store_true", help="a throwaway PostgreSQL with fsync on")
    parser.add_argument("--index-from", type=Path, default=None,
                        help="a data dir whose built index is copied (default: the per-user data dir)")
    args = parser.parse_args()
    if not (0 < args.events <= 20_000 and 0 < args.burst <= 200 and 0 < args.bursts <= 50
            and 1 <= args.concurrency <= 200 and 1 <= args.worker_processes <= 8 and 1 <= args.rounds <= 5):
        parser.error("keep it bounded: events ≤ 20000, burst ≤ 200, bursts ≤ 50, concurrency ≤ 200, rounds ≤ 5")
    if args.index_from is None:
        from bot.settings import Settings

        args.index_from = Settings().data_dir
    runs = []
    with databases(args.postgres) as fresh:
        for n in range(args.rounds):
            for name, code in (("before", args.before), ("after", None)):
                with fresh() as url:
                    runs.append(side(f"{name}" + (f" #{n + 1}" if args.rounds > 1 else ""), code, args, url))
                print(json.dumps(runs[-1], ensure_ascii=False), flush=True)
    print(markdown_table(runs))


if __name__ == "__main__":
    main()
