"""Per-user rate limit counted in the database, so every worker and machine shares one count."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from bot.store.db import Database
from bot.store.models import RateWindow, utcnow


class RateLimiter:
    """At most `per_minute` questions per user in each clock minute."""

    def __init__(self, database: Database, per_minute: int) -> None:
        self.database = database
        self.per_minute = per_minute

    def allow(self, user_hash: str | None) -> bool:
        """Count this question; False when the user is over the limit. Anonymous callers are not limited."""
        if user_hash is None:
            return True
        window = utcnow().replace(second=0, microsecond=0)
        dialect = sqlite if self.database.is_sqlite else postgresql
        insert = dialect.insert(RateWindow).values(user_hash=user_hash, window_start=window, count=0)
        with self.database.session() as session:
            session.execute(insert.on_conflict_do_nothing())
            session.execute(update(RateWindow)
                            .where(RateWindow.user_hash == user_hash, RateWindow.window_start == window)
                            .values(count=RateWindow.count + 1))
            count = session.scalar(select(RateWindow.count).where(
                RateWindow.user_hash == user_hash, RateWindow.window_start == window))
            session.execute(delete(RateWindow).where(RateWindow.window_start < window - timedelta(minutes=5)))
        return (count or 0) <= self.per_minute
