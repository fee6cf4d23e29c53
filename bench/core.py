"""Core benchmark: index build time, cold start to first answer, warm latency p50/p95, peak RSS.

    .venv/bin/python -m bench.core [--rounds 5]

Each measurement that needs a cold process runs in a fresh subprocess with its own empty data dir.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap

QUESTIONS = [
    "冬の除雪はどうなる？", "近所の空き家が心配", "子育ての支援ってどうなってる", "How will the city help tourism?",
    "バスが減って不便", "政策はいくつ？", "明日の天気は？", "ごみの分別がわからない", "お年寄りの見守り",
    "DXって何するの",
]

CHILD = textwrap.dedent("""
    import json, resource, sys, time
    t0 = time.perf_counter()
    from bot.service import build_planbot
    from bot.settings import Settings
    from bot.types import Question
    from knowledge.index import PlanIndex
    t_import = time.perf_counter()
    settings = Settings(PLANBOT_DATA_DIR=sys.argv[1])
    bot = build_planbot(settings)
    t_built = time.perf_counter()
    bot.ask(Question(sys.argv[2]))
    t_first = time.perf_counter()
    latencies = []
    questions = json.loads(sys.argv[3])
    for _ in range(int(sys.argv[4])):
        for q in questions:
            s = time.perf_counter(); bot.ask(Question(q)); latencies.append((time.perf_counter() - s) * 1000)
    print(json.dumps({"import_s": t_import - t0, "build_s": t_built - t_import, "cold_first_answer_s": t_first - t0,
                      "latencies_ms": latencies,
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
""")


def run_child(data_dir: str, rounds: int, code_dir: str | None = None) -> dict[str, float]:
    """One fresh process: import, build (or open) the index, answer. `code_dir`: another checkout's code."""
    env = {**os.environ, "PYTHONPATH": code_dir} if code_dir else None
    out = subprocess.run([sys.executable, "-c", CHILD, data_dir, QUESTIONS[0], json.dumps(QUESTIONS), str(rounds)],
                         check=True, capture_output=True, text=True, env=env, cwd=code_dir)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0–100) by nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--against", metavar="CHECKOUT", help="another checkout (e.g. an old commit's worktree) "
                        "measured in the same run, shown side by side with the ratio new/old")
    args = parser.parse_args()
    columns = [figures(None, args.rounds)]
    if args.against:
        columns.append(figures(args.against, args.rounds))
    width = max(len(name) for name, _, _ in columns[0])
    print(f"{'':<{width}}  {'this checkout':>14}" + (f"  {'--against':>14}  {'ratio':>6}" if args.against else ""))
    for i, (name, value, unit) in enumerate(columns[0]):
        line = f"{name:<{width}}  {value:>11.2f} {unit:<2}"
        if args.against:
            other = columns[1][i][1]
            line += f"  {other:>11.2f} {unit:<2}  {value / other if other else float('nan'):>6.2f}"
        print(line)


def figures(code_dir: str | None, rounds: int) -> list[tuple[str, float, str]]:
    """Cold and warm figures of one checkout, each in a fresh data dir and fresh processes."""
    with tempfile.TemporaryDirectory() as data_dir:
        print(f"[{code_dir or 'this checkout'}] cold start, empty data dir (builds the index) …", file=sys.stderr)
        cold = run_child(data_dir, 0, code_dir)
        print(f"[{code_dir or 'this checkout'}] index built; cold start, then warm answers …", file=sys.stderr)
        warm = run_child(data_dir, rounds, code_dir)
    lat = warm["latencies_ms"]
    assert isinstance(lat, list)
    return [
        ("index build, empty dir", cold["build_s"], "s"),
        ("cold start → first answer, empty dir", cold["cold_first_answer_s"], "s"),
        ("cold start → first answer, index exists", warm["cold_first_answer_s"], "s"),
        ("  of which imports", warm["import_s"], "s"),
        (f"warm answer latency p50 (n={len(lat)})", statistics.median(lat), "ms"),
        ("warm answer latency p95", percentile(lat, 95), "ms"),
        ("peak RSS", warm["peak_rss_mb"], "MB"),
    ]


if __name__ == "__main__":
    main()
