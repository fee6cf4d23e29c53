"""Run gold rows through one or more answerers ("modes") and score them side by side."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from bot.types import Answer, Question
from evals.dataset import EvalRow
from evals.metrics import RowScore, aggregate, score_row
from knowledge.tree import PlanTree

log = logging.getLogger(__name__)

Answerer = Callable[[Question], Answer]
#: (mode, rows done, rows total)
RunProgress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class RowResult:
    """One row, the answer one mode gave, and its score."""

    row: EvalRow
    answer: Answer
    score: RowScore


@dataclass(frozen=True)
class ModeResult:
    """Every row of one mode plus the aggregated metrics."""

    mode: str
    results: list[RowResult]
    metrics: dict[str, Any]

    @property
    def failures(self) -> list[RowResult]:
        """The rows this mode got wrong, in dataset order."""
        return [r for r in self.results if not r.score.correct]


@dataclass(frozen=True)
class EvalRun:
    """A whole eval: which split/files, and the result per mode (in the order the modes were given)."""

    split: str
    sources: list[str]
    modes: dict[str, ModeResult] = field(default_factory=dict)

    @property
    def n(self) -> int:
        """Rows evaluated (the same rows for every mode)."""
        return max((len(m.results) for m in self.modes.values()), default=0)

    def metrics(self) -> dict[str, dict[str, Any]]:
        """mode → metrics."""
        return {name: result.metrics for name, result in self.modes.items()}


def ask_row(answer: Answerer, row: EvalRow) -> Answer:
    """One answer for one row. An answerer that raises scores as a failed, refused answer."""
    started = time.perf_counter()
    try:
        result = answer(Question(row.question, channel="eval"))
    except Exception as exc:
        # The eval must report a broken mode, not die on it; the type is enough to debug from the log.
        log.exception("answerer raised on row %s", row.id)
        result = Answer(row.question, f"(answerer raised {type(exc).__name__})", False, kind="error")
    if result.latency_ms <= 0:
        # Answerers other than PlanBot may not time themselves.
        result = replace(result, latency_ms=(time.perf_counter() - started) * 1000)
    return result


def run_mode(name: str, answer: Answerer, rows: Sequence[EvalRow], tree: PlanTree,
             progress: RunProgress | None = None) -> ModeResult:
    """Answer and score every row with one answerer."""
    results: list[RowResult] = []
    for done, row in enumerate(rows, start=1):
        reply = ask_row(answer, row)
        results.append(RowResult(row, reply, score_row(tree, row, reply)))
        if progress is not None:
            progress(name, done, len(rows))
    return ModeResult(name, results, aggregate([r.score for r in results]))


def run_eval(rows: Sequence[EvalRow], modes: Mapping[str, Answerer], tree: PlanTree, *, split: str,
             sources: Sequence[str] = (), progress: RunProgress | None = None) -> EvalRun:
    """Run the same rows through every mode."""
    run = EvalRun(split=split, sources=list(sources))
    for name, answer in modes.items():
        run.modes[name] = run_mode(name, answer, rows, tree, progress)
    return run
