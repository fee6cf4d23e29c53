"""Review-page sessions kept in the database (SQLite and PostgreSQL): the cookie is only a signed id; signing
out, disabling a reviewer or a new password ends the session, copies of the cookie included; the idle and
absolute timeouts; a new id at every sign-in; and the sign-in returning to the page first asked for, never
to another site."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import select, update

from adapters.app import create_app
from adapters.review import ReviewChannel
from adapters.review.auth import SESSION_COOKIE
from adapters.review.nextpath import safe_next
from bot.service import PlanBot
from bot.settings import Settings
from bot.store.db import Database, open_database
from bot.store.models import ReviewSessionRecord, utcnow
from bot.store.reviewers import ReviewerStore
from bot.store.sessions import ABSOLUTE, IDLE, ReviewSessions, id_hash
from tests.review_helpers import PASSWORD, REVIEWER, add_reviewer, form_token, signed_in
from tests.servers.app import LiveApp, live_app

HTML = {"accept": "text/html,application/xhtml+xml"}


@pytest.fixture()
def database(tmp_path: Path, database_url: str) -> Iterator[Database]:
    db = open_database(Settings(PLANBOT_DATA_DIR=tmp_path, PLANBOT_ENV="test", DATABASE_URL=database_url))
    ReviewerStore(db).add(REVIEWER, PASSWORD)
    yield db
    db.dispose()


def _age(database: Database, session_id: str, **by: timedelta) -> None:
    """Move a session's times into the past, as if it had been idle or open that long."""
    values = {column: utcnow() - delta for column, delta in by.items()}
    with database.session() as session:
        session.execute(update(ReviewSessionRecord).where(ReviewSessionRecord.id_hash == id_hash(session_id))
                        .values(**values))


def test_a_session_is_a_row_holding_only_the_id_s_hash(database: Database) -> None:
    sessions = ReviewSessions(database)
    started = sessions.start(REVIEWER)
    assert started is not None
    session_id, active = started
    assert sessions.check(session_id) == active and active.reviewer == REVIEWER and len(active.csrf) >= 32
    with database.session() as session:
        stored = session.scalars(select(ReviewSessionRecord.id_hash)).all()
    assert stored == [id_hash(session_id)] and session_id not in stored
    assert sessions.end(session_id) and sessions.check(session_id) is None and not sessions.end(session_id)
    assert sessions.start("nobody") is None


def test_idle_and_absolute_timeouts(database: Database) -> None:
    sessions = ReviewSessions(database)
    ids = []
    for _ in range(3):
        started = sessions.start(REVIEWER)
        assert started is not None
        ids.append(started[0])
    idle, old, fresh = ids
    _age(database, idle, last_seen_at=IDLE + timedelta(minutes=1))
    _age(database, old, created_at=ABSOLUTE + timedelta(minutes=1))  # used a minute ago, but too old
    _age(database, fresh, last_seen_at=IDLE - timedelta(minutes=5), created_at=ABSOLUTE - timedelta(minutes=5))
    assert [sessions.check(i) is not None for i in ids] == [False, False, True]
    assert sessions.count(REVIEWER) == 1
    with database.session() as session:  # using it counts: the idle clock starts again
        seen = session.scalar(select(ReviewSessionRecord.last_seen_at)
                              .where(ReviewSessionRecord.id_hash == id_hash(fresh)))
    assert seen is not None and utcnow() - seen < timedelta(minutes=1)


def test_a_new_password_or_disabling_ends_every_session(database: Database) -> None:
    sessions, reviewers = ReviewSessions(database), ReviewerStore(database)
    reviewers.add("other.reviewer", PASSWORD)
    mine = [sessions.start(REVIEWER), sessions.start(REVIEWER)]
    theirs = sessions.start("other.reviewer")
    assert all(mine) and theirs is not None
    assert reviewers.verify(REVIEWER, PASSWORD)  # signing in (and rehashing) ends nothing
    assert sessions.count(REVIEWER) == 2
    reviewers.add(REVIEWER, "a-brand-new-password")
    assert sessions.count(REVIEWER) == 0 and sessions.check(theirs[0]) is not None
    again = sessions.start(REVIEWER)
    assert again is not None and sessions.check(again[0]) is not None
    assert reviewers.deactivate(REVIEWER)
    assert sessions.check(again[0]) is None and sessions.start(REVIEWER) is None


def test_signing_in_again_replaces_the_old_id(database: Database) -> None:
    sessions = ReviewSessions(database)
    first = sessions.start(REVIEWER)
    assert first is not None
    second = sessions.start(REVIEWER, replacing=first[0])
    assert second is not None and second[0] != first[0] and second[1].csrf != first[1].csrf
    assert sessions.check(first[0]) is None and sessions.check(second[0]) is not None


@pytest.fixture()
def live(database_url: str, settings: Settings, planbot: PlanBot) -> Iterator[LiveApp]:
    app_settings = settings.model_copy(update={"database_url": database_url})
    with live_app(create_app(app_settings, planbot=planbot, channels=[ReviewChannel()])) as running:
        add_reviewer(running)
        yield running


def _refused(live: LiveApp, cookie: str) -> bool:
    """A copy of the cookie, used from elsewhere, no longer opens any review page."""
    with httpx.Client(base_url=live.url, timeout=30, cookies={SESSION_COOKIE: cookie}) as thief:
        page = thief.get("/review", headers=HTML)
        plain = thief.get("/review/export.csv")
        return page.status_code == 303 and page.headers["location"] == "/review/login" and plain.status_code == 401


def _cookie(client: httpx.Client) -> str:
    value = client.cookies.get(SESSION_COOKIE)
    assert value
    return value


def test_a_copied_cookie_stops_working_after_sign_out(live: LiveApp) -> None:
    with signed_in(live) as (client, token):
        copy = _cookie(client)
        assert not _refused(live, copy)  # the copy works while the session is open
        assert client.post("/review/logout", data={"csrf_token": token}).status_code == 303
        assert _refused(live, copy)


def test_a_new_password_and_disabling_end_open_sessions(live: LiveApp) -> None:
    store = ReviewerStore(live.services.database)
    with signed_in(live) as (client, _):
        copy = _cookie(client)
        store.add(REVIEWER, "another-password-2026")
        assert _refused(live, copy) and client.get("/review").status_code == 401
    with signed_in(live, password="another-password-2026") as (client, _):
        copy = _cookie(client)
        assert store.deactivate(REVIEWER)
        assert _refused(live, copy)


def test_an_idle_session_ends(live: LiveApp) -> None:
    sessions = ReviewSessions(live.services.database)
    with signed_in(live) as (client, _):
        assert sessions.count(REVIEWER) == 1
        with live.services.database.session() as session:
            session.execute(update(ReviewSessionRecord).values(last_seen_at=utcnow() - IDLE - timedelta(seconds=1)))
        assert client.get("/review").status_code == 401 and sessions.count(REVIEWER) == 0


def test_the_cookie_is_only_a_signed_id_and_a_new_one_at_every_sign_in(live: LiveApp) -> None:
    with signed_in(live) as (client, _):
        planted = _cookie(client)
    payload = planted.split(".")[0]
    decoded = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode()
    assert REVIEWER not in planted and REVIEWER not in decoded  # no name, no CSRF token: an id
    assert decoded.strip('"').replace("-", "").replace("_", "").isalnum()
    tampered = planted[:-2] + ("AA" if not planted.endswith("AA") else "BB")
    assert _refused(live, tampered)
    # A browser that still holds (or was handed) an id signs in: it gets a new id, and the old one ends.
    login = httpx.get(f"{live.url}/review/login", timeout=30)
    login_cookie = login.headers["set-cookie"].split(";", 1)[0]
    signed = httpx.post(f"{live.url}/review/login", timeout=30,
                        headers={"cookie": f"{login_cookie}; {SESSION_COOKIE}={planted}"},
                        data={"csrf_token": form_token(login.text), "name": REVIEWER, "password": PASSWORD})
    assert signed.status_code == 303
    fresh = next(c.split(";", 1)[0].split("=", 1)[1] for c in signed.headers.get_list("set-cookie")
                 if c.startswith(f"{SESSION_COOKIE}="))
    assert fresh != planted and not _refused(live, fresh)
    assert _refused(live, planted)


def _sign_in_from(live: LiveApp, asked: str) -> str:
    """Open `asked` signed out, follow the sign-in as a browser does; where the sign-in sends us."""
    with httpx.Client(base_url=live.url, timeout=30) as browser:
        first = browser.get(asked, headers=HTML)
        assert first.status_code == 303
        login = browser.get(first.headers["location"], headers=HTML)
        assert login.status_code == 200
        fields = {"csrf_token": form_token(login.text), "name": REVIEWER, "password": PASSWORD}
        wanted = parse_qs(urlsplit(first.headers["location"]).query).get("next")
        if wanted:
            assert f'name="next" value="{wanted[0].replace("&", "&amp;")}"' in login.text
            fields["next"] = wanted[0]
        done = browser.post("/review/login", data=fields)
        assert done.status_code == 303
        landed = done.headers["location"]
        assert browser.get(landed, headers=HTML).status_code == 200
        return landed


def test_sign_in_returns_to_the_deep_link(live: LiveApp) -> None:
    deep = "/review?channel=line&q=%E9%99%A4%E9%9B%AA&down=1"
    assert _sign_in_from(live, deep) == deep
    fix = "/review/fix?from=2025-01-01&to=2025-01-31"
    assert _sign_in_from(live, fix) == fix
    assert _sign_in_from(live, "/review") == "/review"


HOSTILE_NEXT = [
    "//evil.example", "//evil.example/review", "https://evil.example/review", "http:/review", "javascript:alert(1)",
    "/\\evil.example", "/review\\..\\..\\x", "\\\\evil.example", "/review/../", "/review/..", "/review/./answers",
    "/review//evil.example", "/review/%2e%2e/x", "/review/%2F%2Fevil.example", "/%2F%2Fevil.example",
    "/review%2F..%2F..", "/reviewer", "/review@evil.example", "/api/ask", "/", "review", " /review",
    "/review\n/x", "/review\t", "/review?q=雪", "/review/login", "/review/logout", "", "/review" + "x" * 3000,
]


@pytest.mark.parametrize("hostile", HOSTILE_NEXT)
def test_next_is_refused_unless_a_plain_review_path(hostile: str) -> None:
    assert safe_next(hostile) is None


def test_plain_review_paths_are_kept() -> None:
    for good in ("/review", "/review/answers/12", "/review?channel=line&q=%E9%99%A4%E9%9B%AA",
                 "/review/fix?from=2025-01-01&to=2025-01-31", "/review/dashboard?channel=api"):
        assert safe_next(good) == good
    assert safe_next("/review/answers/3#feedback") == "/review/answers/3"


def test_the_sign_in_never_sends_anyone_elsewhere(live: LiveApp) -> None:
    with httpx.Client(base_url=live.url, timeout=30) as browser:
        for hostile in HOSTILE_NEXT:
            page = browser.get("/review/login", params={"next": hostile}, headers=HTML)
            assert page.status_code == 200 and 'name="next"' not in page.text, hostile
        token = form_token(browser.get("/review/login").text)
        for hostile in HOSTILE_NEXT[:12]:  # each sign-in starts a session; a dozen show the rule holds
            done = browser.post("/review/login", data={"csrf_token": token, "name": REVIEWER, "password": PASSWORD,
                                                      "next": hostile})
            assert done.status_code == 303 and done.headers["location"] == "/review", hostile
            browser.cookies.delete(SESSION_COOKIE)
            token = form_token(browser.get("/review/login").text)
