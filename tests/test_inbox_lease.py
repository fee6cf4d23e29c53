"""A worker that is still answering keeps its event: the lease is renewed, so no second worker takes it."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr

from bot.store.db import Database
from bot.store.inbox import EventInbox
from bot.store.sealing import PayloadSealer


def test_a_renewed_lease_keeps_the_event_and_an_expired_one_is_taken_over(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'lease.sqlite3'}")
    database.migrate(tmp_path)
    sealer = PayloadSealer(SecretStr("lease-test-salt-0123456789"))
    expiring = EventInbox(database, sealer, lease_seconds=0.000001)  # every lease it gives has run out
    lasting = EventInbox(database, sealer, lease_seconds=60)
    try:
        assert expiring.accept("line", "E1", {"text": "雪"}) and expiring.accept("line", "E2", {"text": "雪"})
        first, second = expiring.claim("worker-a", 2)
        # Without a renewal, a slow holder's event is taken over (that is how a killed worker's events return).
        assert [i.event_key for i in lasting.claim("worker-b", 1)] == ["E1"]
        assert not lasting.renew(first, "worker-a")  # worker-a lost E1: it may not extend it
        # worker-a renews E2 while still working on it: nobody else can claim it now.
        assert lasting.renew(second, "worker-a")
        assert lasting.claim("worker-c", 5) == []
        lasting.complete(second, "worker-a")
        assert not lasting.renew(second, "worker-a")  # done: nothing to renew
        assert lasting.counts() == {"done": 1, "processing": 1}
    finally:
        database.dispose()


def test_group_commit_stores_concurrent_events_once_each_and_reports_failures(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from adapters.services import GroupCommit
    from bot.errors import PlanBotError

    database = Database(f"sqlite:///{tmp_path / 'batch.sqlite3'}")
    database.migrate(tmp_path)
    inbox = EventInbox(database, PayloadSealer(SecretStr("batch-test-salt-0123456789")))
    writer = GroupCommit(inbox)
    keys = [f"E{i % 20}" for i in range(40)]  # every event twice, as redeliveries arrive
    with ThreadPoolExecutor(max_workers=16) as pool:
        stored = list(pool.map(lambda key: (key, writer.accept("line", key, {"text": key})), keys))
    assert sorted(key for key, ok in stored if ok) == sorted({*keys})  # each stored exactly once
    assert inbox.counts() == {"pending": 20}
    database.dispose()
    (tmp_path / "batch.sqlite3").unlink()
    (tmp_path / "batch.sqlite3").mkdir()  # the database file is gone and cannot be created: writes fail
    try:
        writer.accept("line", "E99", {"text": "x"})
        raise AssertionError("a failed commit must reach the caller (no 200 for an unstored event)")
    except PlanBotError:
        pass
    finally:
        writer.close()
