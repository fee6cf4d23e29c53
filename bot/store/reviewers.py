"""Reviewer accounts for the review page: argon2 password hashes, never the password itself.

A new password or a disabled account ends every open session of that reviewer (bot/store/sessions.py).
"""

from __future__ import annotations

import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select

from bot.store.db import Database
from bot.store.models import Reviewer
from bot.store.sessions import revoke_reviewer

MIN_PASSWORD_CHARS = 10
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,79}$")
_HASHER = PasswordHasher()
# Verified when the name is unknown, so a wrong name costs as much time as a wrong password.
_DUMMY_HASH = _HASHER.hash("planbot-no-such-reviewer")


class ReviewerError(ValueError):
    """A reviewer name or password was refused (too short, malformed, already taken)."""


class ReviewerStore:
    """Adds reviewers and checks their passwords."""

    def __init__(self, database: Database, hasher: PasswordHasher | None = None) -> None:
        self.database = database
        self.hasher = hasher or _HASHER

    def add(self, name: str, password: str) -> int:
        """Create a reviewer, or set a new password for an existing one (ending their sessions); returns its id."""
        check_name(name)
        check_password(password)
        password_hash = self.hasher.hash(password)
        with self.database.session() as session:
            row = session.scalars(select(Reviewer).where(Reviewer.name == name)).first()
            if row is None:
                row = Reviewer(name=name, password_hash=password_hash, active=True)
                session.add(row)
            else:
                row.password_hash = password_hash
                row.active = True
                revoke_reviewer(session, row.id)
            session.flush()
            return row.id

    def deactivate(self, name: str) -> bool:
        """Stop a reviewer from signing in; their open sessions end at once."""
        with self.database.session() as session:
            row = session.scalars(select(Reviewer).where(Reviewer.name == name)).first()
            if row is None or not row.active:
                return False
            row.active = False
            revoke_reviewer(session, row.id)
            return True

    def verify(self, name: str, password: str) -> bool:
        """True when `name` is an active reviewer and `password` is theirs."""
        with self.database.session() as session:
            row = session.scalars(select(Reviewer).where(Reviewer.name == name)).first()
            stored = row.password_hash if row is not None and row.active else _DUMMY_HASH
            reviewer_id = row.id if row is not None and row.active else None
        try:
            self.hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return False
        if reviewer_id is None:
            return False
        if self.hasher.check_needs_rehash(stored):
            self._rehash(reviewer_id, password)
        return True

    def is_active(self, name: str) -> bool:
        """The reviewer exists and may sign in."""
        with self.database.session() as session:
            return bool(session.scalar(select(Reviewer.active).where(Reviewer.name == name)))

    def names(self) -> list[tuple[str, bool]]:
        """Every reviewer name with its active flag, alphabetical."""
        with self.database.session() as session:
            return [(n, bool(a)) for n, a in session.execute(select(Reviewer.name, Reviewer.active)
                                                              .order_by(Reviewer.name))]

    def _rehash(self, reviewer_id: int, password: str) -> None:
        with self.database.session() as session:
            row = session.get(Reviewer, reviewer_id)
            if row is not None:
                row.password_hash = self.hasher.hash(password)


def check_name(name: str) -> None:
    """Reviewer names are short ASCII handles (they appear in the log as `reviewer`)."""
    if not _NAME.match(name):
        raise ReviewerError("reviewer names use letters, digits and . _ @ - (at most 80 characters)")


def check_password(password: str) -> None:
    """At least MIN_PASSWORD_CHARS characters, not only whitespace."""
    if len(password.strip()) < MIN_PASSWORD_CHARS:
        raise ReviewerError(f"the password must have at least {MIN_PASSWORD_CHARS} characters")
