"""Approved answers: reviewers' corrections, reused when a new question closely matches (Dify-style)."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
from sqlalchemy import select

from bot.store.db import Database
from bot.store.models import ApprovedAnswerRecord, utcnow
from bot.store.privacy import mask_personal_data


@dataclass(frozen=True)
class ApprovedMatch:
    """An approved answer that matches a question, with the similarity that matched it."""

    id: int
    answer_text: str
    citations: tuple[str, ...]
    similarity: float


class ApprovedAnswers:
    """Stores approved answers and finds the closest one by embedding similarity.

    Matching happens on every question, so embeddings are cached in memory and reloaded when the table
    changes (checked by its newest id and retired count, cheap on every lookup).
    """

    def __init__(self, database: Database, min_similarity: float = 0.95) -> None:
        self.database = database
        self.min_similarity = min_similarity
        self._lock = threading.Lock()
        self._version: tuple[int, int] | None = None
        self._ids: list[int] = []
        self._matrix = np.zeros((0, 0), dtype=np.float32)

    def add(self, question: str, embedding: list[float], answer_text: str, citations: list[str],
            reviewer: str, source_answer_id: int | None = None) -> int:
        """Approve an answer for a question; returns its id."""
        row = ApprovedAnswerRecord(question=mask_personal_data(question), question_embedding=embedding,
                                   answer_text=answer_text, citations=citations, created_by=reviewer,
                                   source_answer_id=source_answer_id)
        with self.database.session() as session:
            session.add(row)
            session.flush()
            return row.id

    def retire(self, approved_id: int) -> bool:
        """Stop reusing an approved answer. False when there is no such active answer."""
        with self.database.session() as session:
            row = session.get(ApprovedAnswerRecord, approved_id)
            if row is None or row.retired_at is not None:
                return False
            row.retired_at = utcnow()
            return True

    def active(self) -> list[ApprovedAnswerRecord]:
        """Every approved answer still in use, newest first."""
        with self.database.session() as session:
            return list(session.scalars(select(ApprovedAnswerRecord)
                                        .where(ApprovedAnswerRecord.retired_at.is_(None))
                                        .order_by(ApprovedAnswerRecord.id.desc())))

    def match(self, embedding: list[float]) -> ApprovedMatch | None:
        """The closest active approved answer at or above `min_similarity`, if any."""
        self._refresh()
        with self._lock:
            if not self._ids:
                return None
            vector = np.asarray(embedding, dtype=np.float32)
            vector /= float(np.linalg.norm(vector)) or 1.0
            similarities = self._matrix @ vector
            best = int(np.argmax(similarities))
            best_id, similarity = self._ids[best], float(similarities[best])
        if similarity < self.min_similarity:
            return None
        with self.database.session() as session:
            row = session.get(ApprovedAnswerRecord, best_id)
            if row is None or row.retired_at is not None:
                return None
            return ApprovedMatch(row.id, row.answer_text, tuple(row.citations), similarity)

    def _refresh(self) -> None:
        from sqlalchemy import func

        with self.database.session() as session:
            newest = session.scalar(select(func.max(ApprovedAnswerRecord.id))) or 0
            retired = session.scalar(select(func.count()).where(ApprovedAnswerRecord.retired_at.is_not(None)))
        version = (int(newest), int(retired or 0))
        if version == self._version:
            return
        rows = self.active()
        ids = [row.id for row in rows]
        matrix = np.zeros((0, 0), dtype=np.float32)
        if rows:
            matrix = np.asarray([row.question_embedding for row in rows], dtype=np.float32)
            matrix /= np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-9)
        with self._lock:
            self._ids, self._matrix, self._version = ids, matrix, version
