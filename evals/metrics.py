"""Deterministic eval metrics (no LLM judge): retrieval, ancestor-aware citations, answers, refusals.

Hierarchy rules (ids are plan node ids, `3.2.2` is a measure under policy `3.2` under pillar `3`):
- a retrieved id hits a gold id when it equals it or lies below it (gold `2.4`, retrieved `2.4.1`);
- a cited id covers itself and its ancestors (citing `3.2.2` covers `3.2` and `3`), never its descendants;
- a cited id is correct when it is gold/acceptable, an ancestor of one (vague, not wrong), or lies below one.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.types import Answer
from evals.dataset import EvalRow
from knowledge.tree import PlanTree

HIGHER_IS_BETTER = (
    "answer_accuracy", "citation_precision", "citation_recall", "refusal_accuracy",
    "hit@1", "hit@3", "hit@5", "mrr", "ndcg@5",
)
LOWER_IS_BETTER = ("false_refusal_rate", "dead_end_rate")
NOT_IN_PLAN_TAG = "not_in_plan"


def ancestors_of(tree: PlanTree, node_id: str) -> frozenset[str]:
    """The strict ancestors of a node (empty for unknown ids and top-level nodes)."""
    if node_id not in tree:
        return frozenset()
    return frozenset(n.id for n in tree.ancestors(node_id) if n.id != node_id)


def is_at_or_below(tree: PlanTree, node_id: str, other: str) -> bool:
    """True when `node_id` is `other` or one of its descendants."""
    return node_id == other or other in ancestors_of(tree, node_id)


def normalize(text: str) -> str:
    """NFKC, case-folded: how must_include / must_not_include are matched."""
    return unicodedata.normalize("NFKC", text).casefold()


def _dedupe(ids: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(ids))


@dataclass(frozen=True, slots=True)
class RetrievalScore:
    """Ranking quality of one answerable row."""

    hit1: float
    hit3: float
    hit5: float
    reciprocal_rank: float
    ndcg5: float


def retrieval_score(tree: PlanTree, gold: Sequence[str], retrieved: Sequence[str]) -> RetrievalScore:
    """hit@k, reciprocal rank and nDCG@5; each gold id counts once, at the first rank that hits it."""
    ranked = _dedupe(retrieved)
    remaining = list(dict.fromkeys(gold))
    gains: list[float] = []
    for node_id in ranked:
        matched = next((g for g in remaining if is_at_or_below(tree, node_id, g)), None)
        if matched is not None:
            remaining.remove(matched)
        gains.append(1.0 if matched is not None else 0.0)
    first = next((rank for rank, gain in enumerate(gains, start=1) if gain), None)
    dcg = sum(gain / math.log2(rank + 1) for rank, gain in enumerate(gains[:5], start=1))
    ideal = sum(1 / math.log2(rank + 1) for rank in range(1, min(len(set(gold)), 5) + 1))
    return RetrievalScore(
        hit1=float(first is not None and first <= 1),
        hit3=float(first is not None and first <= 3),
        hit5=float(first is not None and first <= 5),
        reciprocal_rank=1 / first if first else 0.0,
        ndcg5=dcg / ideal if ideal else 0.0,
    )


def citation_correct(tree: PlanTree, cited: str, allowed: Iterable[str]) -> bool:
    """A cited id is correct if allowed, an ancestor of an allowed id, or below an allowed id."""
    return any(is_at_or_below(tree, cited, a) or is_at_or_below(tree, a, cited) for a in allowed)


def citation_precision(tree: PlanTree, cited: Sequence[str], allowed: Iterable[str]) -> float | None:
    """Share of (distinct) cited ids that are correct; None when nothing is cited."""
    distinct = _dedupe(cited)
    if not distinct:
        return None
    allowed = frozenset(allowed)
    return sum(citation_correct(tree, c, allowed) for c in distinct) / len(distinct)


def covered_ids(tree: PlanTree, cited: Iterable[str]) -> frozenset[str]:
    """What the citations cover: the cited ids and all their ancestors."""
    covered: set[str] = set()
    for node_id in cited:
        covered.add(node_id)
        covered |= ancestors_of(tree, node_id)
    return frozenset(covered)


def citation_recall(tree: PlanTree, cited: Sequence[str], gold: Sequence[str]) -> float | None:
    """Share of gold ids covered by the citations; None when there is no gold."""
    distinct = set(gold)
    if not distinct:
        return None
    covered = covered_ids(tree, cited)
    return sum(g in covered for g in distinct) / len(distinct)


@dataclass(frozen=True)
class RowScore:
    """How one answer fared against its gold row; `reasons` says why it is wrong (empty when correct)."""

    row_id: str
    answerable_expected: bool
    answerable_actual: bool
    correct: bool
    reasons: tuple[str, ...]
    precision: float | None
    recall: float | None
    retrieval: RetrievalScore | None
    latency_ms: float
    tags: tuple[str, ...] = field(default_factory=tuple)
    clarified: bool = False
    # An answerable row whose answer was wrong but offered a gold node to tap (clarify or nearest topics).
    offered_gold: bool = False


def score_row(tree: PlanTree, row: EvalRow, answer: Answer) -> RowScore:
    """Score one answer. Answerable rows: answered, gold covered, precision ≥ 0.5, text checks; rows that
    expect a clarification: a clarify answer offering a gold node. Unanswerable rows: refused, text checks,
    no measure cited (unless tagged not_in_plan). A clarify answer cites nothing and has no precision."""
    cited = [c.id for c in answer.citations]
    precision = citation_precision(tree, cited, row.allowed)
    reasons = _text_reasons(row, answer.text)
    clarified = answer.kind == "clarify"
    offered = any(citation_correct(tree, c.id, row.gold) for c in answer.candidates)
    if row.answerable and row.expect == "clarify":
        precision = None
        reasons = ([] if clarified and offered else [f"expected a clarification offering {', '.join(row.gold)}"
                                                     f" (kind={answer.kind})"]) + reasons
        recall, retrieval = None, retrieval_score(tree, row.gold, [c.id for c in answer.candidates])
    elif row.answerable and clarified:
        precision = None
        reasons = [f"asked to clarify instead of answering (offered gold: {offered})", *reasons]
        recall, retrieval = 0.0, retrieval_score(tree, row.gold, [r.id for r in answer.retrieved])
    elif row.answerable:
        precision = 0.0 if precision is None else precision
        reasons = _answerable_reasons(tree, row, answer, cited, precision) + reasons
        recall = citation_recall(tree, cited, row.gold)
        retrieval = retrieval_score(tree, row.gold, [r.id for r in answer.retrieved])
    else:
        reasons = _unanswerable_reasons(tree, row, answer, cited) + reasons
        recall, retrieval = None, None
    return RowScore(
        row_id=row.id, answerable_expected=row.answerable, answerable_actual=answer.answerable,
        correct=not reasons, reasons=tuple(reasons), precision=precision, recall=recall,
        retrieval=retrieval, latency_ms=answer.latency_ms, tags=row.tags, clarified=clarified,
        offered_gold=offered,
    )


def _answerable_reasons(tree: PlanTree, row: EvalRow, answer: Answer, cited: list[str],
                        precision: float) -> list[str]:
    reasons = []
    if not answer.answerable:
        reasons.append(f"refused an answerable question (kind={answer.kind})")
    covered = covered_ids(tree, cited)
    uncovered = [g for g in row.gold if g not in covered]
    if uncovered:
        reasons.append(f"gold not covered by citations: {', '.join(uncovered)}")
    if precision < 0.5:
        wrong = [c for c in _dedupe(cited) if not citation_correct(tree, c, row.allowed)]
        detail = ", ".join(wrong) or "none cited"
        reasons.append(f"citation precision {precision:.2f} < 0.50 (wrong: {detail})")
    return reasons


def _unanswerable_reasons(tree: PlanTree, row: EvalRow, answer: Answer, cited: list[str]) -> list[str]:
    reasons = []
    if answer.answerable:
        reasons.append(f"answered a question the plan does not cover (kind={answer.kind})")
    if NOT_IN_PLAN_TAG not in row.tags:
        measures = [c for c in cited if c in tree and tree[c].kind == "measure"]
        if measures:
            reasons.append(f"cited measures on an unanswerable question: {', '.join(measures)}")
    return reasons


def _text_reasons(row: EvalRow, text: str) -> list[str]:
    body = normalize(text)
    reasons = [f"missing required text {s!r}" for s in row.must_include if normalize(s) not in body]
    reasons += [f"contains forbidden text {s!r}" for s in row.must_not_include if normalize(s) in body]
    return reasons


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0–100) with linear interpolation between closest ranks; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _mean(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None


def aggregate(scores: Sequence[RowScore]) -> dict[str, Any]:
    """The metrics of one mode over a set of rows (None where a metric has no rows to average)."""
    answerable = [s for s in scores if s.answerable_expected]
    unanswerable = [s for s in scores if not s.answerable_expected]
    retrieval = [s.retrieval for s in answerable if s.retrieval is not None]
    latencies = [s.latency_ms for s in scores]
    return {
        "n": len(scores),
        "n_answerable": len(answerable),
        "answer_accuracy": _mean(float(s.correct) for s in scores),
        "citation_precision": _mean(s.precision for s in scores),
        "citation_recall": _mean(s.recall for s in answerable),
        "refusal_accuracy": _mean(float(not s.answerable_actual) for s in unanswerable),
        "false_refusal_rate": _mean(float(not s.answerable_actual) for s in answerable),
        "clarify_rate": _mean(float(s.clarified) for s in answerable),
        # Answerable, yet neither answered right nor offered the right node to choose: the user is stuck.
        "dead_end_rate": _mean(float(not s.correct and not s.offered_gold) for s in answerable),
        "hit@1": _mean(r.hit1 for r in retrieval),
        "hit@3": _mean(r.hit3 for r in retrieval),
        "hit@5": _mean(r.hit5 for r in retrieval),
        "mrr": _mean(r.reciprocal_rank for r in retrieval),
        "ndcg@5": _mean(r.ndcg5 for r in retrieval),
        "latency_p50_ms": percentile(latencies, 50),
        "latency_p95_ms": percentile(latencies, 95),
        "by_tag": by_tag(scores),
    }


def by_tag(scores: Sequence[RowScore]) -> dict[str, dict[str, float | int | None]]:
    """Answer accuracy per tag (a row counts under each of its tags), tags sorted."""
    tags = sorted({tag for s in scores for tag in s.tags})
    result: dict[str, dict[str, float | int | None]] = {}
    for tag in tags:
        tagged = [s for s in scores if tag in s.tags]
        result[tag] = {"n": len(tagged), "answer_accuracy": _mean(float(s.correct) for s in tagged)}
    return result
