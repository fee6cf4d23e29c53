"""Calibrate the core's decision thresholds on the dev split (never test): a coordinate grid search."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields, replace
from typing import Any

from bot.decide import Thresholds, decide
from bot.retrieval import Retrieval
from bot.service import PlanBot
from bot.types import Question
from bot.understand import Understanding
from evals.dataset import EvalRow
from evals.metrics import aggregate, score_row

#: Which thresholds are searched together, and over which values.
SEARCH_STAGES: tuple[dict[str, Sequence[float]], ...] = (
    {"dense_min": [0.84, 0.85, 0.86, 0.87, 0.88], "lexical_min": [2.0, 3.0, 4.0, 6.0]},
    {"refuse_kind_min": [0.4, 0.5, 0.6, 0.7, 0.8], "strong_dense": [0.88, 0.9, 0.92, 1.1]},
    {"figures_min": [0.3, 0.4, 0.5, 0.6, 0.7], "injection_min": [0.4, 0.5, 0.6, 0.7]},
    {"plausible_min": [0.8, 0.82, 0.83, 0.84, 1.1], "clarify_plan_max": [0.0, 0.2, 0.3, 0.4, 0.5]},
    {"structure_min": [0.2, 0.3, 0.4, 0.5], "unreadable_min": [0.5, 0.7, 0.9]},
    {"second_dense_gap": [0.0, 0.005, 0.01, 0.02], "second_lexical_ratio": [0.5, 0.7, 1.0, 1.5],
     "max_citations": [2, 3]},
    {"topic_dense_gap": [0.02, 0.03, 0.05], "topic_lexical_ratio": [0.2, 0.3, 0.5]},
)


@dataclass(frozen=True)
class Trial:
    """One setting and how it scored."""

    thresholds: Thresholds
    answer_accuracy: float
    citation_precision: float
    refusal_accuracy: float

    def key(self) -> tuple[float, float, float]:
        """Higher is better: accuracy first, then precision, then refusals."""
        return (round(self.answer_accuracy, 4), round(self.citation_precision, 4), self.refusal_accuracy)


def calibrate(base: PlanBot, rows: Sequence[EvalRow],
              progress: Callable[[str], None] | None = None) -> list[Trial]:
    """Search each stage's grid in turn, keeping the best setting; returns every trial, best first.

    Understanding and retrieval do not depend on the thresholds: they run once per row, and each candidate
    setting only re-runs the decision and the composition.
    """
    steps = [(row, base.understand(Question(row.question, channel="eval"))) for row in rows]
    read = [(row, u, base.retrieve(u)) for row, u in steps]
    best = base.thresholds
    trials: list[Trial] = []
    for stage in SEARCH_STAGES:
        names = list(stage)
        stage_trials = []
        for values in itertools.product(*(stage[n] for n in names)):
            changes: dict[str, Any] = dict(zip(names, values, strict=True))
            candidate = replace(best, **changes)
            trial = _score(base, read, candidate)
            stage_trials.append(trial)
            if progress:
                progress(f"{_describe(candidate, names)} → accuracy {trial.answer_accuracy:.3f}, "
                         f"precision {trial.citation_precision:.3f}, refusals {trial.refusal_accuracy:.3f}")
        best = max(stage_trials, key=Trial.key).thresholds
        trials.extend(stage_trials)
    return sorted(trials, key=Trial.key, reverse=True)


def _score(base: PlanBot, read: Sequence[tuple[EvalRow, Understanding, Retrieval | None]],
           thresholds: Thresholds) -> Trial:
    scores = [score_row(base.tree, row, base.compose(u, r, decide(u, r, base.tree, thresholds)))
              for row, u, r in read]
    metrics: dict[str, Any] = aggregate(scores)
    return Trial(thresholds, metrics["answer_accuracy"] or 0.0, metrics["citation_precision"] or 0.0,
                 metrics["refusal_accuracy"] or 0.0)


def _describe(thresholds: Thresholds, names: Sequence[str]) -> str:
    return ", ".join(f"{n}={getattr(thresholds, n)}" for n in names)


def as_code(thresholds: Thresholds) -> str:
    """The setting as the `Thresholds(...)` defaults to paste into bot/decide.py."""
    return "\n".join(f"{f.name} = {getattr(thresholds, f.name)!r}" for f in fields(thresholds))
