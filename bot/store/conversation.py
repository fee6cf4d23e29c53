"""What a chat remembers about one user between messages: the day the scope note was shown, and the options of
the last clarify answer (so that 「2」 picks option 2). Keyed by the salted user hash, never the raw id."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.store.db import Database
from bot.store.models import ConversationState, utcnow


@dataclass(frozen=True, slots=True)
class Option:
    """One choice a clarify answer offered: the plan node and the words its button showed."""

    node_id: str
    label: str
    language: str = "ja"


class ConversationStore:
    """Small per-user state for chat channels. Every method is one short transaction."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def claim_scope_note(self, user_hash: str, day: date) -> bool:
        """True the first time this user is due the scope note on `day` (and marks it shown), else False.

        One conditional UPDATE decides, so two answers at the same moment cannot both show it.
        """
        stamp = day.isoformat()
        with self.database.session() as session:
            self._ensure(session, user_hash)
            result = session.execute(
                update(ConversationState)
                .where(ConversationState.user_hash == user_hash,
                       or_(ConversationState.scope_note_day.is_(None), ConversationState.scope_note_day != stamp))
                .values(scope_note_day=stamp, updated_at=utcnow()))
            return bool(getattr(result, "rowcount", 0))

    def remember_options(self, user_hash: str, options: list[Option], minutes: float) -> None:
        """Keep the options a clarify offered; a number reply within `minutes` picks one. Empty: forget them."""
        until = utcnow() + timedelta(minutes=minutes) if options else None
        stored = [{"id": o.node_id, "label": o.label, "lang": o.language} for o in options] or None
        with self.database.session() as session:
            self._ensure(session, user_hash)
            session.execute(update(ConversationState).where(ConversationState.user_hash == user_hash)
                            .values(options=stored, options_until=until, updated_at=utcnow()))

    def options(self, user_hash: str) -> list[Option]:
        """The options of the user's last clarify, while they are still fresh (else empty)."""
        with self.database.session() as session:
            row = session.scalars(select(ConversationState).where(
                ConversationState.user_hash == user_hash)).first()
            if row is None or not row.options or row.options_until is None or row.options_until < utcnow():
                return []
            return [Option(str(o.get("id", "")), str(o.get("label", "")), str(o.get("lang", "ja")))
                    for o in row.options if o.get("id")]

    def _ensure(self, session: Session, user_hash: str) -> None:
        dialect = sqlite if self.database.is_sqlite else postgresql
        insert = dialect.insert(ConversationState).values(user_hash=user_hash, updated_at=utcnow())
        session.execute(insert.on_conflict_do_nothing())
