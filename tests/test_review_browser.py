"""The review page in real headless Chromium (Debian's /usr/bin/chromium) against the real app under uvicorn.

Open a deep link signed out and land on it after signing in, filter to 👎 answers, open one, write a
corrected answer, see the bot reuse it, export the CSV, retire it only through the confirmation step (with
JavaScript off), and check that a question containing <script> is shown as text and never runs.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from adapters.app import create_app
from adapters.review import ReviewChannel
from bot.service import PlanBot
from bot.settings import Settings
from bot.types import Question
from tests.review_helpers import PASSWORD, REVIEWER, add_reviewer
from tests.servers.app import LiveApp, live_app

CHROMIUM = Path("/usr/bin/chromium")
# CI (PLANBOT_REQUIRE_SERVERS=1) must run these: there a missing browser fails instead of skipping.
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists() and os.environ.get("PLANBOT_REQUIRE_SERVERS") != "1",
    reason="Debian's chromium is not installed at /usr/bin/chromium",
)
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
SNOW = "冬の除雪はどうなる？"
KIDS = "子育ての支援はありますか？"
HOSTILE = "<script>alert(1)</script>ゴミの分別は？"
# Two lines: a browser sends a textarea's line break as CRLF, the page stores "\n".
CORRECTED = "冬の除雪は「効果的・効率的な雪対策の推進」（施策3.2.2）に\n位置づけられています。"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, settings: Settings, planbot: PlanBot) -> Iterator[LiveApp]:
    db = tmp_path_factory.mktemp("review-browser") / "log.sqlite3"
    app_settings = settings.model_copy(update={"database_url": f"sqlite:///{db}"})
    with live_app(create_app(app_settings, planbot=planbot, channels=[ReviewChannel()])) as running:
        add_reviewer(running)
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture(params=[True, False], ids=["javascript", "no-javascript"])
def page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    # The pages run no script; with JavaScript switched off every step must work the same.
    context = browser.new_context(accept_downloads=True, locale="ja-JP", java_script_enabled=request.param)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.dialogs = []  # type: ignore[attr-defined]
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    yield page
    context.close()


def _ask(live: LiveApp, question: str) -> dict[str, Any]:
    reply = httpx.post(f"{live.url}/api/ask", json={"question": question, "user_id": "U-citizen"}, timeout=30)
    assert reply.status_code == 200
    body: dict[str, Any] = reply.json()
    return body


@pytest.fixture(scope="module")
def seeded(live: LiveApp) -> dict[str, int]:
    """Citizens' questions on LINE (API traffic is hidden from the list by default)."""
    assistant = live.services.assistant
    assert assistant is not None
    ids = {}
    for question in (SNOW, KIDS, HOSTILE):
        answer_id = assistant.answer(Question(question, channel="line", user_id="U-citizen")).answer_id
        assert answer_id is not None
        ids[question] = answer_id
    log = live.services.answer_log
    assert log.set_feedback(ids[SNOW], "citizen-a", "down", note="知りたいのは除雪の日程")
    assert log.set_feedback(ids[HOSTILE], "citizen-b", "down")
    assert log.set_feedback(ids[KIDS], "citizen-a", "up")
    return ids


def _sign_in(page: Any, live: LiveApp, deep_link: str = "/review") -> None:
    page.goto(f"{live.url}{deep_link}")
    assert "/review/login" in page.url  # sent to sign in first
    page.fill("input[name=name]", REVIEWER)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live.url}{deep_link}")  # and back to the page first asked for


def test_filter_correct_reuse_and_export(page: Any, live: LiveApp, seeded: dict[str, int]) -> None:
    _sign_in(page, live, "/review?channel=line&sort=old")
    assert page.locator("a.question").all_inner_texts()[0] == SNOW  # the deep link's filters hold
    page.check("input[name=down]")
    page.click("text=絞り込む")
    page.wait_for_url("**/review?*down=1*")
    listed = page.locator("a.question").all_inner_texts()
    assert sorted(listed) == sorted([SNOW, HOSTILE])

    page.click(f"a.question:has-text('{SNOW}')")
    page.wait_for_url(f"**/review/answers/{seeded[SNOW]}")
    assert SNOW in page.inner_text("#question")
    assert "施策② 効果的・効率的な雪対策の推進" in page.inner_text("#citations")
    assert "知りたいのは除雪の日程" in page.inner_text("body")
    page.fill("textarea[name=answer]", CORRECTED)
    page.fill("input[name=citations]", "3.2.2 3.2")
    page.click("text=修正を保存して承認")
    page.wait_for_selector("text=保存しました。")
    assert CORRECTED in page.inner_text("#corrected-answer")
    stored = live.services.answer_log.get(seeded[SNOW])
    assert stored is not None and stored.corrected_answer == CORRECTED and "\r" not in stored.corrected_answer

    again = _ask(live, SNOW)
    assert again["mode"] == "approved" and again["answerable"] is True
    assert [c["id"] for c in again["citations"]] == ["3.2.2", "3.2"]
    assert CORRECTED in again["answer"] and "市の担当者が確認した内容" in again["answer"]

    page.goto(f"{live.url}/review?down=1")
    with page.expect_download() as info:
        page.click("#csv-export")
    text = Path(info.value.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert sorted(int(r["ID"]) for r in rows) == sorted([seeded[SNOW], seeded[HOSTILE]])
    snow = next(r for r in rows if int(r["ID"]) == seeded[SNOW])
    assert snow["修正した回答"] == CORRECTED and snow["修正後の引用"] == "3.2.2 3.2"
    assert snow["状態"] == "確認済み" and snow["担当者"] == REVIEWER and snow["👎の数"] == "1"

    # 取り下げる asks first; やめる leaves it in use, the second step retires it.
    page.goto(f"{live.url}/review/approved")
    cards = page.locator(".card.approved")
    assert cards.count() == 1 and CORRECTED.split("\n")[0] in cards.first.inner_text()
    cards.first.locator("a.retire").click()
    page.wait_for_url("**/review/approved/*/retire")
    assert "取り下げますか" in page.inner_text("h1")
    page.click("text=やめる")
    page.wait_for_url(f"{live.url}/review/approved")
    assert page.locator(".card.approved").count() == 1 and _ask(live, SNOW)["mode"] == "approved"
    page.locator("a.retire").first.click()
    page.wait_for_url("**/review/approved/*/retire")
    page.click("#confirm button[type=submit]")
    page.wait_for_url(f"{live.url}/review/approved")
    assert page.locator(".card.approved").count() == 0 and _ask(live, SNOW)["mode"] != "approved"
    assert page.dialogs == []


def test_script_in_a_question_is_shown_as_text(page: Any, live: LiveApp, seeded: dict[str, int]) -> None:
    _sign_in(page, live)
    page.goto(f"{live.url}/review/answers/{seeded[HOSTILE]}")
    assert "<script>alert(1)</script>" in page.inner_text("#question")
    assert page.locator("script").count() == 0  # the page has no script element at all
    page.goto(f"{live.url}/review?q=alert")
    assert HOSTILE in page.locator("a.question").all_inner_texts()
    page.goto(f"{live.url}/review/dashboard")
    assert page.locator(".chart").count() == 4
    assert page.dialogs == []
