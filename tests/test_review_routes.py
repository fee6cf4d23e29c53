"""The review page under a real uvicorn: sign-in, CSRF, escaping, corrections and retiring them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import quote

import httpx
import pytest
from fastapi.routing import APIRoute

from adapters.app import create_app
from adapters.review import ReviewChannel
from bot.service import PlanBot
from bot.settings import Settings
from bot.store import ratelimit
from bot.store.reviewers import ReviewerStore
from tests.review_helpers import PASSWORD, REVIEWER, add_reviewer, form_token, signed_in
from tests.servers.app import LiveApp, live_app


@pytest.fixture()
def app_settings(database_url: str, settings: Settings) -> Settings:
    """A fresh database per test, SQLite and PostgreSQL; the session's index is reused."""
    return settings.model_copy(update={"database_url": database_url})


@pytest.fixture()
def live(app_settings: Settings, planbot: PlanBot) -> Iterator[LiveApp]:
    with live_app(create_app(app_settings, planbot=planbot, channels=[ReviewChannel()])) as running:
        add_reviewer(running)
        yield running


def _all_routes(live: LiveApp) -> Iterator[tuple[str, set[str]]]:
    """(path, methods) of every HTTP route of the app, also through included routers.

    FastAPI ≥ 0.16x keeps included routers as lazy `_IncludedRouter` entries; older versions flatten them.
    """
    for route in live.app.routes:
        contexts = getattr(route, "effective_route_contexts", None)
        if callable(contexts):
            for context in contexts():
                yield context.path, set(getattr(context.original_route, "methods", None) or ())
        elif isinstance(route, APIRoute):
            yield route.path, set(route.methods)


def _review_routes(live: LiveApp) -> list[tuple[str, str]]:
    """(method, path) of every route under /review except the sign-in page, from the app itself."""
    found = []
    for path, methods in _all_routes(live):
        if not path.startswith("/review") or path == "/review/login":
            continue
        found += [(method, re.sub(r"\{[^}]+\}", "1", path)) for method in sorted(methods - {"HEAD"})]
    return found


def _ask(live: LiveApp, question: str) -> dict[str, object]:
    reply = httpx.post(f"{live.url}/api/ask", json={"question": question, "user_id": "U1"}, timeout=30)
    assert reply.status_code == 200
    body: dict[str, object] = reply.json()
    return body


def test_every_review_route_needs_a_session(live: LiveApp) -> None:
    routes = _review_routes(live)
    assert len(routes) >= 10 and ("GET", "/review") in routes and ("GET", "/review/export.csv") in routes
    with httpx.Client(base_url=live.url, timeout=10) as anonymous:
        for method, path in routes:
            plain = anonymous.request(method, path, data={"csrf_token": "x"} if method == "POST" else None)
            assert plain.status_code == 401, (method, path)
            assert "Traceback" not in plain.text
            if method == "GET":
                browser = anonymous.get(path, headers={"accept": "text/html,application/xhtml+xml"})
                assert browser.status_code == 303, path
                assert browser.headers["location"] == ("/review/login" if path == "/review" else
                                                       f"/review/login?next={quote(path, safe='')}")
        forged = anonymous.get("/review", headers={"accept": "text/html"},
                               cookies={"planbot_review": "eyJyIjoia291aG91In0.forged.sig"})
        assert forged.status_code == 303


def test_every_post_needs_the_csrf_token(live: LiveApp) -> None:
    with signed_in(live) as (client, token):
        posts = [path for method, path in _review_routes(live) if method == "POST"]
        assert "/review/logout" in posts and len(posts) >= 5
        for path in posts:
            assert client.post(path, data={}).status_code == 403, path
            assert client.post(path, data={"csrf_token": token[:-2] + "xx"}).status_code == 403, path
        assert client.get("/review").status_code == 200  # still signed in: no POST went through
    with httpx.Client(base_url=live.url, timeout=10) as fresh:
        page = fresh.get("/review/login")
        without = fresh.post("/review/login", data={"name": REVIEWER, "password": PASSWORD})
        assert without.status_code == 403
        wrong = fresh.post("/review/login", data={"name": REVIEWER, "password": PASSWORD, "csrf_token": "nope"})
        assert wrong.status_code == 403
        assert form_token(page.text)


def test_sign_in_cookie_and_sign_out(live: LiveApp) -> None:
    with httpx.Client(base_url=live.url, timeout=30) as client:
        login = client.get("/review/login")
        token = form_token(login.text)
        bad = client.post("/review/login", data={"csrf_token": token, "name": REVIEWER, "password": "wrong-password"})
        assert bad.status_code == 401 and "名前またはパスワードが違います" in bad.text
        good = client.post("/review/login", data={"csrf_token": token, "name": REVIEWER, "password": PASSWORD})
        assert good.status_code == 303
        cookie = good.headers["set-cookie"].lower()
        assert "planbot_review=" in cookie and "httponly" in cookie and "samesite=lax" in cookie
        assert "path=/review" in cookie and "secure" not in cookie
        page = client.get("/review")
        assert page.status_code == 200 and REVIEWER in page.text
        logout = client.post("/review/logout", data={"csrf_token": form_token(page.text)})
        assert logout.status_code == 303 and logout.headers["location"] == "/review/login"
        assert client.get("/review").status_code == 401


def test_secure_cookie_when_configured(app_settings: Settings, planbot: PlanBot) -> None:
    secure = app_settings.model_copy(update={"secure_cookies": True})
    with live_app(create_app(secure, planbot=planbot, channels=[ReviewChannel()])) as running:
        add_reviewer(running)
        with httpx.Client(base_url=running.url, timeout=30) as client:
            login = client.get("/review/login")
            assert "secure" in login.headers["set-cookie"].lower()
            # A Secure cookie is not sent back over plain http, so hand it over as a browser behind TLS would.
            login_cookie = login.headers["set-cookie"].split(";", 1)[0].split("=", 1)
            good = httpx.post(f"{running.url}/review/login", cookies={login_cookie[0]: login_cookie[1]},
                              data={"csrf_token": form_token(login.text), "name": REVIEWER, "password": PASSWORD})
            assert good.status_code == 303 and "secure" in good.headers["set-cookie"].lower()


def _attempt(url: str, address: str, name: str, password: str) -> int:
    """One sign-in from the loopback address `address` (127.0.0.0/8 all reach a server on 127.0.0.1)."""
    transport = httpx.HTTPTransport(local_address=address)
    with httpx.Client(base_url=url, timeout=30, transport=transport) as client:
        token = form_token(client.get("/review/login").text)
        return client.post("/review/login", data={"csrf_token": token, "name": name,
                                                  "password": password}).status_code


def test_sign_in_attempts_are_limited_per_name_and_per_address(app_settings: Settings, planbot: PlanBot,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    # The limit counts per clock minute: the attempts are all made in one (frozen) minute, so that a minute
    # turning over mid-test cannot reset the count.
    frozen = datetime.now(UTC).replace(second=30, microsecond=0)
    monkeypatch.setattr(ratelimit, "utcnow", lambda: frozen)
    strict = app_settings.model_copy(update={"rate_limit_per_minute": 3})
    with live_app(create_app(strict, planbot=planbot, channels=[ReviewChannel()])) as running:
        add_reviewer(running)
        # One name guessed from a new address each time: the count per name stops it.
        codes = [_attempt(running.url, f"127.0.0.{i + 2}", REVIEWER, f"guess-{i}-xxxxxx") for i in range(4)]
        assert codes == [401, 401, 401, 429]
        # Even the right password waits out the minute: guessing gains nothing.
        assert _attempt(running.url, "127.0.0.9", REVIEWER, PASSWORD) == 429
        # A new name each time from one address: the count per client address stops it.
        codes = [_attempt(running.url, "127.0.0.20", f"guess{i}", "guess-xxxxxxxx") for i in range(4)]
        assert codes == [401, 401, 401, 429]
        assert _attempt(running.url, "127.0.0.21", "someone", "guess-xxxxxxxx") == 401  # others are not held up


def test_pages_carry_a_no_script_policy(live: LiveApp) -> None:
    with signed_in(live) as (client, _):
        for path in ("/review", "/review/dashboard", "/review/approved", "/review/export.csv"):
            reply = client.get(path)
            assert reply.status_code == 200
            policy = reply.headers["content-security-policy"]
            assert "default-src 'none'" in policy and "script-src" not in policy
            assert reply.headers["x-frame-options"] == "DENY" and reply.headers["cache-control"] == "no-store"


def test_disabled_reviewer_loses_the_session(live: LiveApp) -> None:
    with signed_in(live) as (client, _):
        assert ReviewerStore(live.services.database).deactivate(REVIEWER)
        assert client.get("/review").status_code == 401


def test_detail_shows_the_answer_escaped_with_breadcrumbs_and_scores(live: LiveApp) -> None:
    hostile = "<script>alert(1)</script> 冬の除雪はどうなる？"
    body = _ask(live, hostile)
    with signed_in(live) as (client, _):
        page = client.get(f"/review/answers/{body['answer_id']}")
        assert page.status_code == 200
        assert "<script>alert(1)</script>" not in page.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
        assert "まちをデザインする › 政策2 災害防止・雪対策の充実 › 施策② 効果的・効率的な雪対策の推進" in page.text
        assert "検索で近かった項目" in page.text and "意味" in page.text and "3.2.2" in page.text
        listing = client.get("/review", params={"q": "alert", "api": "1"})
        assert "&lt;script&gt;" in listing.text and "<script>alert" not in listing.text
        assert client.get("/review/answers/999999").status_code == 404


def test_status_note_and_invalid_correction(live: LiveApp) -> None:
    answer_id = _ask(live, "子育て支援はある？")["answer_id"]
    with signed_in(live) as (client, token):
        flagged = client.post(f"/review/answers/{answer_id}/status", data={"csrf_token": token, "action": "flag"})
        assert flagged.status_code == 303
        noted = client.post(f"/review/answers/{answer_id}/note", data={"csrf_token": token, "note": "要確認 <b>"})
        assert noted.status_code == 303
        row = live.services.answer_log.get(int(str(answer_id)))
        assert row is not None and row.review_status == "flagged" and row.review_note == "要確認 <b>"
        assert row.reviewer == REVIEWER
        bad = client.post(f"/review/answers/{answer_id}/correct",
                          data={"csrf_token": token, "answer": "修正文", "citations": "2.1 9.9.9"})
        assert bad.status_code == 422 and "9.9.9" in bad.text and "修正文" in bad.text
        empty = client.post(f"/review/answers/{answer_id}/correct",
                            data={"csrf_token": token, "answer": "  ", "citations": "2.1"})
        assert empty.status_code == 422
        assert live.services.approved.active() == []
        flagged_list = client.get("/review", params={"status": "flagged", "api": "1"}).text
        assert flagged_list.count(f"/review/answers/{answer_id}") >= 1
        assert f"/review/answers/{answer_id}" not in client.get("/review", params={"status": "flagged"}).text


def test_correction_is_reused_then_retired(live: LiveApp) -> None:
    question = "雪が多くて道路が心配です。市はどうしますか？"
    first = _ask(live, question)
    with signed_in(live) as (client, token):
        saved = client.post(f"/review/answers/{first['answer_id']}/correct",
                            data={"csrf_token": token, "answer": "除雪は計画の施策3.2.2で扱っています。",
                                  "citations": "3.2.2, 3.2"})
        assert saved.status_code == 303
        again = _ask(live, question)
        assert again["mode"] == "approved" and again["answerable"] is True
        assert [c["id"] for c in again["citations"]] == ["3.2.2", "3.2"]  # type: ignore[index, union-attr]
        assert "除雪は計画の施策3.2.2で扱っています。" in str(again["answer"])
        assert "市の担当者が確認した内容" in str(again["answer"])
        approved = live.services.approved.active()
        assert len(approved) == 1 and approved[0].source_answer_id == first["answer_id"]
        page = client.get("/review/approved")
        assert "除雪は計画の施策3.2.2で扱っています。" in page.text
        step = f"/review/approved/{approved[0].id}/retire"
        assert f'href="{step}"' in page.text  # 取り下げる opens the confirmation step
        confirm = client.get(step)
        assert confirm.status_code == 200 and "取り下げますか" in confirm.text and "やめる" in confirm.text
        assert "除雪は計画の施策3.2.2で扱っています。" in confirm.text
        unconfirmed = client.post(step, data={"csrf_token": token})  # an old form, or a crafted one
        assert unconfirmed.status_code == 303 and unconfirmed.headers["location"] == step
        assert _ask(live, question)["mode"] == "approved"  # not retired without the confirmation
        retired = client.post(step, data={"csrf_token": token, "confirm": "yes"})
        assert retired.status_code == 303 and retired.headers["location"] == "/review/approved"
        assert client.post(step, data={"csrf_token": token, "confirm": "yes"}).status_code == 404
        assert client.get(step).status_code == 404
        assert _ask(live, question)["mode"] != "approved"


def test_dashboard_renders_svg_charts(live: LiveApp) -> None:
    for question in ("冬の除雪はどうなる？", "おすすめのラーメン屋は？"):
        _ask(live, question)
    with signed_in(live) as (client, _):
        assert re.search(r'id="total">0<', client.get("/review/dashboard").text)  # API traffic left out
        page = client.get("/review/dashboard", params={"channel": "api"})
        assert page.status_code == 200
        assert page.text.count('class="chart') == 4 and page.text.count("<svg") == 2
        assert re.search(r'id="total">2<', page.text)
        assert "50.0%" in page.text  # one of the two was refused
        never = re.search(r'id="never-count">(\d+)<', page.text)
        assert never is not None and int(never.group(1)) < 52
