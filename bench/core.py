"""Core benchmark: index build time, cold start to first answer, warm latency p50/p95, peak RSS.

    .venv/bin/python -m bench.core [--rounds 5]

Each measurement that needs a cold process runs in a fresh subprocess with its own empty data dir.
"""

from __future__ import annotations

import argparse
import json
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


def run_child(data_dir: str, rounds: int) -> dict[str, float]:
    """One fresh process: import, build (or open) the index, answer."""
    out = subprocess.run([sys.executable, "-c", CHILD, data_dir, QUESTIONS[0], json.dumps(QUESTIONS), str(rounds)],
                         check=True, capture_output=True, text=True)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0–100) by nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data_dir:
        print("cold start, empty data dir (builds the index) …", file=sys.stderr)
        cold = run_child(data_dir, 0)
        print("cold start, index already built, then warm answers …", file=sys.stderr)
        warm = run_child(data_dir, args.rounds)
    lat = warm["latencies_ms"]
    assert isinstance(lat, list)
    rows = [
        ("index build (82 nodes, empty dir)", f"{cold['build_s']:.2f} s"),
        ("cold start → first answer, empty dir", f"{cold['cold_first_answer_s']:.2f} s"),
        ("cold start → first answer, index exists", f"{warm['cold_first_answer_s']:.2f} s"),
        ("  of which imports", f"{warm['import_s']:.2f} s"),
        (f"warm answer latency p50 (n={len(lat)})", f"{statistics.median(lat):.1f} ms"),
        ("warm answer latency p95", f"{percentile(lat, 95):.1f} ms"),
        ("peak RSS", f"{warm['peak_rss_mb']:.0f} MB"),
    ]
    width = max(len(r[0]) for r in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")


if __name__ == "__main__":
    main()
