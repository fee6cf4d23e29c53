"""`planbot serve` as an operator runs it: cold start, index build, peak RSS, webhook throughput with 1 and 4
workers, and answer latency embedded (Chroma files + SQLite) vs server mode (Chroma server + PostgreSQL).

    .venv/bin/python -m bench.serve [--events 200] [--rounds 3] [--skip-server-mode]

Everything runs on loopback and stops by itself. Server mode needs PostgreSQL (Debian package) installed.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from bench.core import QUESTIONS, percentile
from bench.load import Layout
from bench.load import run as run_load
from tests.servers.serve import ServeProcess, child_env, planbot_executable, planbot_serve, seed_data_dir


def peak_rss_mb(pid: int) -> float | None:
    """Peak resident set size (VmHWM) of a live process, in MB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def cold_start(data_dir: Path, database_url: str) -> dict[str, Any]:
    """Seconds from `planbot serve` to /healthz 200 in `data_dir`, and the server's peak RSS after one answer."""
    env = {"PLANBOT_DATA_DIR": str(data_dir), "PLANBOT_ENV": "test", "DATABASE_URL": database_url}
    server = ServeProcess(env)
    server.start()
    try:
        healthy_s = server.wait_healthy(timeout_s=600)
        httpx.post(f"{server.url}/api/ask", json={"question": QUESTIONS[0]}, timeout=60)
        assert server.process is not None
        return {"to_healthz_s": round(healthy_s, 2), "peak_rss_mb": peak_rss_mb(server.process.pid)}
    finally:
        server.terminate()


def index_build_s(data_dir: Path) -> float:
    """Seconds `planbot index` takes on an empty data dir (parse, embed, write Chroma)."""
    env = child_env({"PLANBOT_DATA_DIR": str(data_dir), "PLANBOT_ENV": "test"})
    started = time.perf_counter()
    subprocess.run([planbot_executable(), "index"], env=env, check=True, capture_output=True, timeout=900)
    return round(time.perf_counter() - started, 2)


BENCH_API_TOKEN = "bench-api-token-0123456789"


def answer_latency(env: dict[str, str], rounds: int) -> dict[str, Any]:
    """p50/p95 of POST /api/ask over QUESTIONS x rounds against a server started with `env`.

    As a trusted backend (bearer token): an open /api/ask is limited per client address.
    """
    env = {**env, "PLANBOT_API_TOKEN": BENCH_API_TOKEN}
    headers = {"authorization": f"Bearer {BENCH_API_TOKEN}"}
    with planbot_serve(env, timeout_s=600) as server, httpx.Client(timeout=60, headers=headers) as client:
        client.post(f"{server.url}/api/ask", json={"question": QUESTIONS[0]})
        latencies = []
        for _ in range(rounds):
            for n, question in enumerate(QUESTIONS):
                started = time.perf_counter()
                client.post(f"{server.url}/api/ask", json={"question": question, "user_id": f"bench{n}"})
                latencies.append((time.perf_counter() - started) * 1000)
    return {"n": len(latencies), "p50_ms": round(percentile(latencies, 50), 1),
            "p95_ms": round(percentile(latencies, 95), 1)}


@contextmanager
def server_mode(tmp: Path) -> Iterator[dict[str, str]]:
    """A Chroma server and a PostgreSQL server on loopback; the settings that point planbot at them."""
    from tests.servers.chroma import chroma_server
    from tests.servers.postgres import postgres_server

    with chroma_server(tmp / "chroma-server") as port, postgres_server() as url:
        yield {"CHROMA_HOST": "127.0.0.1", "CHROMA_PORT": str(port), "DATABASE_URL": url}


def run(events: int, rounds: int, server: bool, warm_source: Path) -> dict[str, Any]:
    """Every figure of this benchmark."""
    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        figures["index_build_s"] = index_build_s(tmp / "index-only")
        figures["cold_start_fresh_data_dir"] = cold_start(tmp / "fresh", f"sqlite:///{tmp / 'fresh.sqlite3'}")
        warm = seed_data_dir(warm_source, tmp / "warm")
        figures["cold_start_warm_data_dir"] = cold_start(warm, f"sqlite:///{tmp / 'warm.sqlite3'}")
        for workers in (1, 4):
            figures[f"webhooks_{workers}_workers"] = run_load(events, events, 1, 0.01, 32, Layout(workers=workers),
                                                              None, warm)
        embedded = {"PLANBOT_DATA_DIR": str(warm), "PLANBOT_ENV": "test",
                    "DATABASE_URL": f"sqlite:///{tmp / 'latency.sqlite3'}", "PLANBOT_RATE_LIMIT_PER_MINUTE": "10000"}
        figures["answer_latency_embedded"] = answer_latency(embedded, rounds)
        if server:
            with server_mode(tmp) as engines:
                remote = embedded | engines | {"PLANBOT_DATA_DIR": str(tmp / "server-mode")}
                figures["answer_latency_server_mode"] = answer_latency(remote, rounds)
    return figures


def main() -> None:
    """Parse arguments, run, print JSON."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=200, help="LINE and Slack events each, per worker count")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--skip-server-mode", action="store_true")
    args = parser.parse_args()
    if not 1 <= args.events <= 2000 or not 1 <= args.rounds <= 20:
        parser.error("keep it bounded: 1-2000 events, 1-20 rounds")
    from bot.settings import Settings

    print(json.dumps(run(args.events, args.rounds, not args.skip_server_mode, Settings().data_dir),
                     ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
