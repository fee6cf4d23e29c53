"""Review-page sessions kept in the database: a session is valid only while its row exists.

The browser holds a random id (signed by the web layer); the table holds its SHA-256, the reviewer and the
session's CSRF token. A session ends when it is idle for `idle` or older than `absolute`, when the reviewer
signs out, and for every session of a reviewer who is disabled or gets a new password (see ReviewerStore).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from bot.store.db import Database
from bot.store.models import Reviewer, ReviewSessionRecord, utcnow

IDLE = timedelta(hours=2)
ABSOLUTE = timedelta(hours=12)
#: A request refreshes `last_seen_at` only when it is older than this: one write a minute, not one a page.
TOUCH_EVERY = timedelta(seconds=60)


@dataclass(frozen=True)
class ActiveSession:
    """A valid session: who is signed in, and the CSRF token every form of this session carries."""

    reviewer: str
    csrf: str


def id_hash(session_id: str) -> str:
    """What the table stores for a session id."""
    return hashlib.sha256(session_id.encode()).hexdigest()


def revoke_reviewer(session: Session, reviewer_id: int) -> None:
    """End every session of one reviewer, inside the caller's transaction."""
    session.execute(delete(ReviewSessionRecord).where(ReviewSessionRecord.reviewer_id == reviewer_id))


class ReviewSessions:
    """Starts, checks and ends review-page sessions."""

    def __init__(self, database: Database, idle: timedelta = IDLE, absolute: timedelta = ABSOLUTE) -> None:
        self.database = database
        self.idle = idle
        self.absolute = absolute

    def start(self, reviewer: str, replacing: str | None = None) -> tuple[str, ActiveSession] | None:
        """A new session for an active reviewer: (its id, the session). The session `replacing` (the one the
        browser held before signing in, if any) ends, so an id is never carried across a sign-in. None when
        there is no such active reviewer."""
        session_id, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        now = utcnow()
        with self.database.session() as session:
            reviewer_id = session.scalar(select(Reviewer.id).where(Reviewer.name == reviewer,
                                                                   Reviewer.active.is_(True)))
            if reviewer_id is None:
                return None
            if replacing:
                session.execute(delete(ReviewSessionRecord).where(ReviewSessionRecord.id_hash == id_hash(replacing)))
            self._delete_expired(session, now)
            session.add(ReviewSessionRecord(id_hash=id_hash(session_id), reviewer_id=reviewer_id, csrf_token=csrf,
                                            created_at=now, last_seen_at=now))
        return session_id, ActiveSession(reviewer, csrf)

    def check(self, session_id: str) -> ActiveSession | None:
        """The session, if it exists, is within both timeouts and its reviewer is active; it counts as use."""
        now = utcnow()
        with self.database.session() as session:
            found = session.execute(
                select(ReviewSessionRecord, Reviewer.name, Reviewer.active)
                .join(Reviewer, Reviewer.id == ReviewSessionRecord.reviewer_id)
                .where(ReviewSessionRecord.id_hash == id_hash(session_id))).first()
            if found is None:
                return None
            row, name, active = found
            if not active or self._expired(row, now):
                session.delete(row)
                return None
            if now - row.last_seen_at >= TOUCH_EVERY:
                row.last_seen_at = now
            return ActiveSession(str(name), row.csrf_token)

    def end(self, session_id: str) -> bool:
        """Sign out: the session stops working everywhere. False when it had already ended."""
        with self.database.session() as session:
            result = session.execute(delete(ReviewSessionRecord)
                                     .where(ReviewSessionRecord.id_hash == id_hash(session_id)))
            return bool(getattr(result, "rowcount", 0))

    def count(self, reviewer: str) -> int:
        """Open (not yet expired) sessions of one reviewer."""
        now = utcnow()
        with self.database.session() as session:
            rows = session.scalars(select(ReviewSessionRecord)
                                   .join(Reviewer, Reviewer.id == ReviewSessionRecord.reviewer_id)
                                   .where(Reviewer.name == reviewer)).all()
            return sum(1 for row in rows if not self._expired(row, now))

    def _expired(self, row: ReviewSessionRecord, now: datetime) -> bool:
        return now - row.last_seen_at >= self.idle or now - row.created_at >= self.absolute

    def _delete_expired(self, session: Session, now: datetime) -> None:
        session.execute(delete(ReviewSessionRecord).where(or_(
            ReviewSessionRecord.last_seen_at <= now - self.idle,
            ReviewSessionRecord.created_at <= now - self.absolute)))
