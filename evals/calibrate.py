"""Calibrate the core's thresholds on the dev split (never test): a coordinate grid search.

Retrieval is cached per question, so each candidate setting only re-runs the decisions and composition.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields, replace
from functools import lru_cache
from typing import Any

from bot.retrieval import HybridRetriever, Retrieval
from bot.service import PlanBot, Thresholds
from evals.dataset import EvalRow
from evals.runner import run_mode

#: Which thresholds are searched together, and over which values.
SEARCH_STAGES: tuple[dict[str, Sequence[float]], ...] = (
    {"dense_min": [0.83, 0.84, 0.85, 0.855, 0.86, 0.865, 0.87],
     "lexical_min": [2.0, 3.0, 4.0, 6.0]},
    {"off_topic_margin": [-0.04, -0.02, -0.01, 0.0, 0.01, 0.02, 0.04, 0.08, 1.0]},
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


class CachedRetriever:
    """The real retriever, memoised per (text, k): thresholds don't change what is retrieved."""

    def __init__(self, inner: HybridRetriever) -> None:
        self._inner = inner
        self.tree = inner.tree
        self.retrieve = lru_cache(maxsize=None)(self._retrieve)

    def _retrieve(self, text: str, k: int = 8) -> Retrieval:
        return self._inner.retrieve(text, k)

    def index_count(self) -> int:
        """Delegates to the real retriever."""
        return self._inner.index_count()


def calibrate(base: PlanBot, rows: Sequence[EvalRow],
              progress: Callable[[str], None] | None = None) -> list[Trial]:
    """Search each stage's grid in turn, keeping the best setting; returns every trial, best first."""
    cached = CachedRetriever(base.retriever)
    best = base.thresholds
    trials: list[Trial] = []
    for stage in SEARCH_STAGES:
        names = list(stage)
        stage_trials = []
        for values in itertools.product(*(stage[n] for n in names)):
            changes: dict[str, Any] = dict(zip(names, values, strict=True))
            candidate = replace(best, **changes)
            trial = _score(base, cached, candidate, rows)
            stage_trials.append(trial)
            if progress:
                progress(f"{_describe(candidate, names)} → accuracy {trial.answer_accuracy:.3f}, "
                         f"precision {trial.citation_precision:.3f}, refusals {trial.refusal_accuracy:.3f}")
        best = max(stage_trials, key=Trial.key).thresholds
        trials.extend(stage_trials)
    return sorted(trials, key=Trial.key, reverse=True)


def _score(base: PlanBot, retriever: CachedRetriever, thresholds: Thresholds, rows: Sequence[EvalRow]) -> Trial:
    bot = PlanBot(base.settings, base.tree, base.embedder, retriever, thresholds,  # type: ignore[arg-type]
                  off_topic=base.off_topic)
    metrics: dict[str, Any] = run_mode("calibrate", bot.ask, rows, base.tree).metrics
    return Trial(thresholds, metrics["answer_accuracy"] or 0.0, metrics["citation_precision"] or 0.0,
                 metrics["refusal_accuracy"] or 0.0)


def _describe(thresholds: Thresholds, names: Sequence[str]) -> str:
    return ", ".join(f"{n}={getattr(thresholds, n)}" for n in names)


def as_code(thresholds: Thresholds) -> str:
    """The setting as the `Thresholds(...)` defaults to paste into bot/service.py."""
    return "\n".join(f"{f.name} = {getattr(thresholds, f.name)!r}" for f in fields(thresholds))
