"""planbot beside the textbook LangChain pipeline, on the same eval questions, in one run.

    .venv/bin/python -m bench.compare_textbook [--splits dev,test] [--json]

The textbook pipeline (bench/textbook.py): Chroma similarity search, k=4, the same embedder, the answer is
the top document, the citations are the k ids. Both are scored by evals.metrics on every row of the splits:
answer accuracy, citation precision and recall, refusal accuracy, p50/p95 latency, and the ratios.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from bot.service import build_planbot
from bot.settings import Settings
from bot.types import Answer, Question
from evals.dataset import EvalRow, load_rows, split_paths
from evals.metrics import aggregate, score_row
from knowledge.tree import PlanTree

METRICS = ("answer_accuracy", "citation_precision", "citation_recall", "refusal_accuracy", "false_refusal_rate",
           "hit@1", "mrr", "latency_p50_ms", "latency_p95_ms")


def score(tree: PlanTree, rows: list[EvalRow], ask: Callable[[Question], Answer]) -> dict[str, Any]:
    """Ask every row (warm: one untimed question first) and aggregate the scores."""
    ask(Question("ウォームアップ", channel="eval"))
    scores = []
    for row in rows:
        started = time.perf_counter()
        answer = ask(Question(row.question, channel="eval"))
        timed = replace(answer, latency_ms=(time.perf_counter() - started) * 1000)  # the same clock for both
        scores.append(score_row(tree, row, timed))
    figures = aggregate(scores)
    return {name: figures[name] for name in METRICS} | {"n": figures["n"]}


def ratio(ours: float | None, theirs: float | None) -> float | None:
    """ours / theirs, when both exist and theirs is not zero."""
    if ours is None or theirs is None or theirs == 0:
        return None
    return round(ours / theirs, 2)


def run(splits: list[str]) -> dict[str, Any]:
    """Build both pipelines once and score them on the same rows."""
    from bench.textbook import TextbookPipeline

    settings = Settings()
    planbot = build_planbot(settings)
    textbook = TextbookPipeline(planbot.tree, planbot.embedder)
    rows = load_rows([p for split in splits for p in split_paths(split)], planbot.tree)
    ours = score(planbot.tree, rows, planbot.ask)
    theirs = score(planbot.tree, rows, textbook.ask)
    return {"splits": splits, "rows": len(rows), "planbot": ours, "textbook": theirs,
            "ratio_planbot_over_textbook": {m: ratio(ours[m], theirs[m]) for m in METRICS}}


def table(result: dict[str, Any]) -> str:
    """A Markdown table of the figures."""
    lines = ["| metric | planbot | textbook (k=4, top doc) | planbot / textbook |", "| --- | --- | --- | --- |"]
    for name in METRICS:
        ours, theirs = result["planbot"][name], result["textbook"][name]
        times = result["ratio_planbot_over_textbook"][name]
        lines.append(f"| {name} | {_fmt(ours)} | {_fmt(theirs)} | {_fmt(times)} |")
    return "\n".join(lines)


def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}" if value < 10 else f"{value:.1f}"


def main() -> None:
    """Parse arguments, run, print a table (or JSON)."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--splits", default="dev,test")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = run([s.strip() for s in args.splits.split(",") if s.strip()])
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
        return
    print(f"{result['rows']} questions ({', '.join(result['splits'])})\n")
    print(table(result))


if __name__ == "__main__":
    main()
