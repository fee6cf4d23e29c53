"""Errors for people, under a real uvicorn: a browser gets a Japanese page for 401, 403, 404, 429, 500 and
503 with a way back (sign in again, reload the form, try later); an API client keeps the JSON it had. No page
ever shows a stack trace or the exception's text."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import quote

import httpx
import pytest

from adapters.app import create_app
from adapters.review import ReviewChannel
from bot.service import PlanBot
from bot.settings import Settings
from tests.review_helpers import PASSWORD, REVIEWER, add_reviewer, form_token, signed_in
from tests.servers.app import LiveApp, live_app

HTML = {"accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
JSON = {"accept": "application/json"}
INTERNAL = "zz-internal-detail-4711"


@pytest.fixture()
def app_settings(database_url: str, settings: Settings) -> Settings:
    return settings.model_copy(update={"database_url": database_url,
                                       "api_rate_limit_per_minute": 1, "environment": "development"})


@pytest.fixture()
def live(app_settings: Settings, planbot: PlanBot) -> Iterator[LiveApp]:
    app = create_app(app_settings, planbot=planbot, channels=[ReviewChannel()])

    @app.get("/review/broken-for-the-test")
    async def broken() -> None:
        # A route added by this test: any bug that raises must reach people as the 500 page.
        raise RuntimeError(INTERNAL)

    with live_app(app) as running:
        add_reviewer(running)
        yield running


def _page(reply: httpx.Response, status: int, title: str) -> str:
    """The error page's way back, after checking it is the Japanese HTML page for `status`."""
    assert reply.status_code == status, reply.text[:300]
    assert reply.headers["content-type"].startswith("text/html")
    text = reply.text
    assert '<html lang="ja">' in text and f"<h1>{title}</h1>" in text and f"エラーコード {status}" in text
    assert "Traceback" not in text and INTERNAL not in text and '"detail"' not in text
    assert reply.headers["content-security-policy"].startswith("default-src 'none'")
    back = re.search(r'id="way-back" href="([^"]*)"', text)
    assert back is not None
    return back.group(1).replace("&amp;", "&")


def _json(reply: httpx.Response, status: int) -> object:
    assert reply.status_code == status and reply.headers["content-type"] == "application/json"
    body = reply.json()
    assert isinstance(body, dict) and "detail" in body
    return body["detail"]


def test_expired_sign_in_form_403(live: LiveApp) -> None:
    with httpx.Client(base_url=live.url, timeout=30) as first:
        form = first.get("/review/login", params={"next": "/review/fix"}, headers=HTML)
        token = form_token(form.text)
    # The form's cookie is gone (expired, or another browser): the token alone is not enough.
    referer = f"{live.url}/review/login?next=%2Freview%2Ffix"
    stale = httpx.post(f"{live.url}/review/login", timeout=30, headers={**HTML, "referer": referer},
                       data={"csrf_token": token, "name": REVIEWER, "password": PASSWORD, "next": "/review/fix"})
    assert _page(stale, 403, "フォームの有効期限が切れました") == "/review/login?next=%2Freview%2Ffix"
    assert "読み込み直して" in stale.text
    api = httpx.post(f"{live.url}/review/login", timeout=30, data={"csrf_token": token})
    assert _json(api, 403) == "the form expired; reload the page and try again"


def test_a_form_sent_after_the_session_ended_401(live: LiveApp) -> None:
    answer = httpx.post(f"{live.url}/api/ask", json={"question": "冬の除雪はどうなる？"}, timeout=30).json()
    detail = f"/review/answers/{answer['answer_id']}"
    with signed_in(live) as (client, token):
        client.post("/review/logout", data={"csrf_token": token})
        late = client.post(f"{detail}/note", data={"csrf_token": token, "note": "あとで"},
                           headers={**HTML, "referer": f"{live.url}{detail}"})
        assert _page(late, 401, "ログインが必要です") == f"/review/login?next={quote(detail, safe='')}"
        assert _json(client.post(f"{detail}/note", data={"csrf_token": token}), 401) == "sign in first"
        form_page = client.post(f"{detail}/note", data={"csrf_token": "x"}, headers=HTML)
        assert _page(form_page, 401, "ログインが必要です") == "/review/login"


def test_wrong_csrf_on_a_review_form_403_goes_back_to_the_form(live: LiveApp) -> None:
    with signed_in(live) as (client, _):
        wrong = client.post("/review/logout", data={"csrf_token": "stale"},
                            headers={**HTML, "referer": f"{live.url}/review/approved"})
        assert _page(wrong, 403, "フォームの有効期限が切れました") == "/review/approved"
        elsewhere = client.post("/review/logout", data={"csrf_token": "stale"},
                                headers={**HTML, "referer": "https://evil.example/review/approved"})
        assert _page(elsewhere, 403, "フォームの有効期限が切れました") == "/review"


def test_missing_pages_404(live: LiveApp) -> None:
    with signed_in(live) as (client, _):
        assert _page(client.get("/review/answers/999999", headers=HTML), 404, "ページが見つかりません") == "/review"
        assert _json(client.get("/review/answers/999999"), 404) == "no such answer"
        assert _page(client.get("/review/answers/abc", headers=HTML), 422, "この操作は受け付けられませんでした")
        assert isinstance(_json(client.get("/review/answers/abc"), 422), list)  # FastAPI's validation list
    assert _page(httpx.get(f"{live.url}/no-such-page", headers=HTML, timeout=30), 404, "ページが見つかりません")
    assert _json(httpx.get(f"{live.url}/no-such-page", timeout=30), 404) == "Not Found"


def test_too_many_requests_429_says_when_to_try_again(live: LiveApp) -> None:
    first = httpx.post(f"{live.url}/api/ask", json={"question": "子育て"}, headers=HTML, timeout=30)
    replies = [first] + [httpx.post(f"{live.url}/api/ask", json={"question": "子育て"}, headers=HTML, timeout=30)
                         for _ in range(2)]
    limited = next(r for r in replies if r.status_code == 429)  # 1 per minute: the 2nd or (a minute on) 3rd
    assert _page(limited, 429, "アクセスが多すぎます") == "/review"
    seconds = limited.headers["retry-after"]
    assert f"{seconds}秒ほどおいてから" in limited.text
    api = [httpx.post(f"{live.url}/api/ask", json={"question": "子育て"}, timeout=30) for _ in range(2)]
    refused = next(r for r in api if r.status_code == 429)
    assert _json(refused, 429) == "too many requests" and refused.headers["retry-after"]


def test_an_unexpected_failure_500_shows_no_internals(live: LiveApp) -> None:
    # (uvicorn closes a connection whose request raised, so each request here opens its own.)
    page = httpx.get(f"{live.url}/review/broken-for-the-test", headers=HTML, timeout=30)
    assert _page(page, 500, "エラーが発生しました") == "/review/broken-for-the-test"  # try again
    assert "もう一度お試しください" in page.text
    api = httpx.get(f"{live.url}/review/broken-for-the-test", timeout=30)
    assert _json(api, 500) == "Internal Server Error" and INTERNAL not in api.text


def test_core_unavailable_503_asks_to_try_later(app_settings: Settings) -> None:
    # A web-only process whose core cannot load (here: an embedding model that is not shipped).
    broken = app_settings.model_copy(update={"embedding_model": "not-a-shipped-model"})
    with live_app(create_app(broken, channels=[ReviewChannel()], role="web")) as running:
        add_reviewer(running)
        with signed_in(running) as (client, _):
            page = client.get("/review/dashboard?from=2025-01-01", headers=HTML)
            assert _page(page, 503, "ただいま利用できません") == "/review/dashboard?from=2025-01-01"
            assert "少し時間をおいてから" in page.text
            assert _json(client.get("/review/dashboard"), 503) == "starting up, try again in a few seconds"
