"""Two processes on one database: a burst of duplicated events is accepted once and handled once."""

from __future__ import annotations

import json
import multiprocessing
from collections import Counter
from pathlib import Path

from pydantic import SecretStr

from bot.store.db import Database
from bot.store.inbox import EventInbox
from bot.store.sealing import PayloadSealer

SEALER = PayloadSealer(SecretStr("salt-for-tests-0123456789"))

EVENTS = 120


def _worker(url: str, name: str, out: str) -> None:
    database = Database(url)
    inbox = EventInbox(database, SEALER, lease_seconds=30)
    accepted = [key for key in (f"ev-{i}" for i in range(EVENTS)) if inbox.accept("line", key, {"k": key})]
    handled: list[str] = []
    idle_rounds = 0
    while idle_rounds < 20:
        items = inbox.claim(name, limit=3)
        if not items:
            idle_rounds += 1
            continue
        idle_rounds = 0
        for item in items:
            handled.append(item.event_key)
            inbox.complete(item, name)
    Path(out).write_text(json.dumps({"accepted": accepted, "handled": handled}))
    database.dispose()


def test_two_processes_accept_and_handle_each_event_once(database_url: str, tmp_path: Path) -> None:
    Database(database_url).migrate()
    context = multiprocessing.get_context("spawn")
    outs = [tmp_path / f"w{i}.json" for i in range(2)]
    processes = [context.Process(target=_worker, args=(database_url, f"w{i}", str(out)))
                 for i, out in enumerate(outs)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=120)
        assert process.exitcode == 0
    results = [json.loads(out.read_text()) for out in outs]
    accepted = Counter(key for result in results for key in result["accepted"])
    handled = Counter(key for result in results for key in result["handled"])
    assert set(accepted) == {f"ev-{i}" for i in range(EVENTS)} and max(accepted.values()) == 1
    assert set(handled) == set(accepted) and max(handled.values()) == 1
    assert EventInbox(Database(database_url), SEALER).counts() == {"done": EVENTS}
