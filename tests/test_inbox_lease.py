"""A worker that is still answering keeps its event: the lease is renewed, so no second worker takes it."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr
from sqlalchemy import select

from bot.store.db import Database
from bot.store.inbox import EventInbox
from bot.store.models import InboxEvent
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


def test_sealed_payloads_open_in_both_versions_and_refuse_tampering() -> None:
    import base64
    import json

    from cryptography.fernet import Fernet
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    from bot.errors import StorageError

    secret = SecretStr("sealing-test-salt-0123456789")
    sealer = PayloadSealer(secret)
    payload = {"type": "message", "source": {"userId": "U-raw"}, "text": "雪かき 090-1234-5678"}
    sealed = sealer.seal(payload)
    assert sealed["v"] == 3 and sealed["type"] == "message" and "U-raw" not in json.dumps(sealed)
    assert sealer.open(sealed) == payload
    assert sealer.seal(payload)["sealed"] != sealed["sealed"]  # a fresh nonce each time
    # An event queued by the previous version (Fernet, v2) still opens after an upgrade.
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"planbot/inbox-payload/v2").derive(
        secret.get_secret_value().encode())
    old = {"v": 2, "type": "message", "sealed": Fernet(base64.urlsafe_b64encode(key)).encrypt(
        json.dumps(payload, ensure_ascii=False).encode()).decode()}
    assert sealer.open(old) == payload
    raw = bytearray(base64.b64decode(sealed["sealed"]))
    raw[-1] ^= 1
    for broken in ({**sealed, "sealed": base64.b64encode(bytes(raw)).decode()}, {**sealed, "sealed": "%%%"},
                   {**sealed, "v": 9}, {"v": 3}):
        try:
            sealer.open(broken)
            raise AssertionError(f"opened a tampered payload {broken}")
        except StorageError:
            pass
    try:
        PayloadSealer(SecretStr("another-salt-0123456789")).open(sealed)
        raise AssertionError("opened with another key")
    except StorageError:
        pass


def test_delivery_marks_only_while_held_and_are_kept_across_a_takeover(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'marks.sqlite3'}")
    database.migrate(tmp_path)
    sealer = PayloadSealer(SecretStr("marks-test-salt-0123456789"))
    expiring = EventInbox(database, sealer, lease_seconds=0.000001)
    try:
        assert expiring.accept("line", "E1", {"text": "雪"})
        (first,) = expiring.claim("worker-a")
        assert first.worker == "worker-a" and first.delivery is None
        assert expiring.mark_delivery(first, "replying")
        (taken,) = expiring.claim("worker-b")  # worker-a's lease ran out: worker-b resumes where it stopped
        assert taken.delivery == "replying" and taken.attempts == 2
        assert not expiring.mark_delivery(first, "reply_failed")  # worker-a lost it: it may not record
        expiring.complete(first, "worker-a", "sent")  # nor finish it
        assert expiring.counts() == {"processing": 1}
        expiring.complete(taken, "worker-b", "sent")
        with database.session() as session:
            row = session.scalars(select(InboxEvent)).one()
            assert (row.status, row.delivery) == ("done", "sent")
    finally:
        database.dispose()
