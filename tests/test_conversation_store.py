"""What a chat remembers per user (migration 0006), on real SQLite and PostgreSQL: the scope note at most once
a day per user, even when two answers claim it at the same moment; a clarify's options until they go stale or
the next answer replaces them."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import pytest
from sqlalchemy import update

from bot.store.conversation import ConversationStore, Option
from bot.store.db import Database
from bot.store.models import ConversationState, utcnow


@pytest.fixture()
def store(database_url: str) -> Iterator[ConversationStore]:
    database = Database(database_url)
    database.migrate()
    yield ConversationStore(database)
    database.dispose()


def test_the_scope_note_is_due_once_a_day_per_user(store: ConversationStore) -> None:
    today = date(2026, 12, 3)
    assert store.claim_scope_note("user-a", today) is True
    assert store.claim_scope_note("user-a", today) is False
    assert store.claim_scope_note("user-b", today) is True  # per user
    assert store.claim_scope_note("user-a", today + timedelta(days=1)) is True  # and again the next day


def test_two_answers_at_once_show_the_note_once(store: ConversationStore) -> None:
    day = date(2026, 12, 4)
    with ThreadPoolExecutor(max_workers=8) as pool:
        claims = list(pool.map(lambda _: store.claim_scope_note("user-c", day), range(8)))
    assert claims.count(True) == 1


def test_clarify_options_are_kept_replaced_and_expire(store: ConversationStore) -> None:
    options = [Option("3.4.2", "域内交通の充実"), Option("3.4.1", "広域交通の機能充実", "en")]
    store.remember_options("user-d", options, minutes=30)
    assert store.options("user-d") == options
    assert store.options("user-e") == []
    store.remember_options("user-d", [], minutes=30)  # the next answer was not a clarify
    assert store.options("user-d") == []
    store.remember_options("user-d", options, minutes=30)
    with store.database.session() as session:
        session.execute(update(ConversationState).values(options_until=utcnow() - timedelta(seconds=1)))
    assert store.options("user-d") == []
