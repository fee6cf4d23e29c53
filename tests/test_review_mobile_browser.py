"""The review views in real headless Chromium at a desk (1280 px) and on a phone (390 px): the list sorted by
👎 with answer starts and badges, the detail page with the payload as sent and the audit trail, what to fix
first, the dashboard, and the confirmation step. Nothing may overflow sideways and no text may be smaller
than 12 px (SVG text measured as drawn). Screenshots go to $PLANBOT_REVIEW_SCREENSHOTS (docs/ for the
README) or to the test's temp dir."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from adapters.app import create_app
from adapters.line.bubbles import render_answer
from adapters.line.client import rendered_payload
from adapters.review import ReviewChannel, actions
from bot.service import PlanBot
from bot.settings import Settings
from bot.types import Question
from tests.review_helpers import PASSWORD, REVIEWER, add_reviewer
from tests.servers.app import LiveApp, live_app
from tests.test_review_browser import ARGS, CHROMIUM

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists() and os.environ.get("PLANBOT_REQUIRE_SERVERS") != "1",
    reason="Debian's chromium is not installed at /usr/bin/chromium",
)
VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "mobile": {"width": 390, "height": 844}}
QUESTIONS = ("冬の除雪はどうなる？", "子育ての支援はありますか？", "空き家が増えて心配", "ゴミの分別は？",
             "ごみの分別方法を教えて", "ゴミ出しのルールは", "市営バスの時刻表を知りたい", "基本視点は？")


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, settings: Settings, planbot: PlanBot) -> Iterator[LiveApp]:
    db = tmp_path_factory.mktemp("review-mobile") / "log.sqlite3"
    app_settings = settings.model_copy(update={"database_url": f"sqlite:///{db}"})
    with live_app(create_app(app_settings, planbot=planbot, channels=[ReviewChannel()])) as running:
        add_reviewer(running)
        yield running


@pytest.fixture(scope="module")
def seeded(live: LiveApp) -> dict[str, int]:
    """LINE answers as citizens got them (payload stored as rendered), feedback, and a reviewer's changes."""
    assistant = live.services.assistant
    assert assistant is not None
    log = live.services.answer_log
    ids: dict[str, int] = {}
    for n, question in enumerate(QUESTIONS):
        logged = assistant.answer(Question(question, channel="line", user_id=f"U-citizen-{n}"))
        assert logged.answer_id is not None
        reply = render_answer(logged.answer, assistant.planbot.compose.titles, logged.answer_id)
        log.set_rendered(logged.answer_id, rendered_payload(reply))
        ids[question] = logged.answer_id
    snow = ids[QUESTIONS[0]]
    assert log.set_feedback(snow, "citizen-a", "down", reason="not_enough", note="除雪の日程が知りたい")
    assert log.set_feedback(snow, "citizen-b", "down", reason="wrong_measure")
    assert log.set_feedback(ids[QUESTIONS[1]], "citizen-c", "up")
    assert log.set_feedback(ids[QUESTIONS[2]], "citizen-d", "down", reason="unclear")
    for n, garbage in enumerate(QUESTIONS[3:6]):  # whatever the core made of them, citizens found it lacking
        assert log.set_feedback(ids[garbage], f"citizen-g{n}", "down", reason="not_enough")
    database = live.services.database
    assert actions.set_status(database, snow, "flag", REVIEWER)
    assert actions.set_note(database, snow, "除雪の日程は基本計画にない。案内文を検討。", REVIEWER)
    assert live.services.planbot is not None
    assert actions.save_correction(database, live.services.approved, live.services.planbot, ids[QUESTIONS[1]],
                                   "子育て支援は施策2.1.1「子育て環境の充実」に位置づけられています。", "2.1.1",
                                   REVIEWER)
    return ids


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        yield chromium
        chromium.close()


def _shots(tmp_path: Path) -> Path:
    target = Path(os.environ.get("PLANBOT_REVIEW_SCREENSHOTS") or tmp_path)
    target.mkdir(parents=True, exist_ok=True)
    return target


MIN_TEXT_PX = 12
#: Every rendered text node whose font, as drawn on screen, is below MIN_TEXT_PX (SVG text scaled by its CTM).
SMALL_TEXT = """(minimum) => {
  const small = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const element = node.parentElement;
    if (!node.textContent.trim() || !element || !element.getClientRects().length) continue;
    const style = getComputedStyle(element);
    if (style.visibility === "hidden") continue;
    let size = parseFloat(style.fontSize);
    if (element instanceof SVGElement && element.getScreenCTM()) {
      const m = element.getScreenCTM();
      size *= Math.hypot(m.a, m.b);
    }
    if (size < minimum) small.push(`${element.tagName} ${size.toFixed(1)}px: ${node.textContent.trim().slice(0, 30)}`);
  }
  return small;
}"""


def _fits(page: Any) -> None:
    """No sideways scrolling, and no text under 12 px."""
    width = page.evaluate("document.documentElement.scrollWidth")
    viewport = page.evaluate("window.innerWidth")
    assert width <= viewport + 1, f"{page.url}: {width}px wide in a {viewport}px window"
    small = page.evaluate(SMALL_TEXT, MIN_TEXT_PX)
    assert small == [], f"{page.url}: text under {MIN_TEXT_PX}px: {small[:5]}"


@pytest.mark.parametrize("device", list(VIEWPORTS))
def test_review_views_fit_desk_and_phone(browser: Any, live: LiveApp, seeded: dict[str, int], device: str,
                                         tmp_path: Path) -> None:
    shots = _shots(tmp_path)
    suffix = "" if device == "desktop" else "-mobile"
    context = browser.new_context(viewport=VIEWPORTS[device], locale="ja-JP", device_scale_factor=1)
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        page.goto(f"{live.url}/review/login")
        _fits(page)
        page.fill("input[name=name]", REVIEWER)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{live.url}/review")
        _fits(page)

        page.goto(f"{live.url}/review?sort=down")
        first = page.locator("#answers tbody tr").first
        assert "冬の除雪はどうなる？" in first.inner_text()  # two 👎: first when sorted by 👎
        assert "要対応" in first.inner_text() and page.locator(".answer-start").count() == len(QUESTIONS)
        assert first.locator(".question").is_visible()
        assert "API" not in page.locator("#answers").inner_text()  # LINE traffic only; API rows hidden
        _fits(page)
        page.screenshot(path=str(shots / f"review-list{suffix}.png"), full_page=device == "desktop")

        page.goto(f"{live.url}/review/answers/{seeded['冬の除雪はどうなる？']}")
        payload = page.inner_text("#shown-payload")
        assert "LINE" in payload and "👎 違う・足りない" in (page.text_content("#shown-raw") or "")  # as sent
        assert "情報が足りない" in page.inner_text("body") and "除雪の日程が知りたい" in page.inner_text("body")
        audit = page.inner_text("#audit")
        assert REVIEWER in audit and "要対応" in audit and "案内文を検討" in audit
        assert "計画の文言から作成" in page.inner_text("#facts")
        scores = page.locator("#scores li")
        assert scores.count() >= 3
        # Each hit is a few lines, not a column of one word per line (1,500 px for the table before).
        tallest = max(scores.nth(i).bounding_box()["height"] for i in range(scores.count()))
        assert tallest <= 110, f"a score row {tallest:.0f}px tall"
        _fits(page)
        page.screenshot(path=str(shots / f"review-detail{suffix}.png"), full_page=False)

        page.goto(f"{live.url}/review/fix")
        groups = page.locator("#groups .group")
        # The three garbage questions (refused, clarified or 👎) form the biggest group: one node, one subject.
        count = int(groups.first.locator(".count").inner_text().strip())
        assert count == 3 and ("ゴミ" in groups.first.inner_text() or "ごみ" in groups.first.inner_text())
        assert "3.6.2" in groups.first.locator(".node").inner_text()
        assert "空き家" not in groups.first.inner_text() and "除雪" not in groups.first.inner_text()
        groups.first.locator("details summary").click()  # the rows, each with its own 対応不要 button
        assert groups.first.locator(".row-no-action").count() == 3
        _fits(page)
        page.screenshot(path=str(shots / f"review-fix{suffix}.png"), full_page=device == "desktop")
        groups.first.locator("a.group-no-action").click()
        page.wait_for_url("**/review/fix/no-action?ids=*")
        assert page.locator("#confirm-items li").count() == count and page.locator("text=やめる").is_visible()
        _fits(page)
        page.click("text=やめる")
        page.wait_for_url("**/review/fix")
        page.locator("#groups .group").first.locator("a.fix-group").click()
        page.wait_for_url("**/review/fix/correct?ids=*")
        assert page.locator("#group-questions li").count() == count
        _fits(page)

        page.goto(f"{live.url}/review/dashboard")
        assert page.locator("#weekly tbody tr").count() >= 1 and page.locator("#monthly tbody tr").count() >= 1
        assert not page.locator("#channels input[value=api]").is_checked()
        assert page.locator(".chart").count() == 4 and "LINE" in page.inner_text(".legend")
        _fits(page)
        page.screenshot(path=str(shots / f"review-dashboard{suffix}.png"), full_page=True)

        page.goto(f"{live.url}/review/approved")
        _fits(page)
        page.locator("a.retire").first.click()  # 取り下げる asks first
        page.wait_for_url("**/review/approved/*/retire")
        assert page.locator("#confirm button[type=submit]").is_visible()
        _fits(page)
        page.click("text=やめる")
        page.wait_for_url(f"{live.url}/review/approved")

        missing = page.goto(f"{live.url}/review/answers/999999")
        assert missing is not None and missing.status == 404 and "ページが見つかりません" in page.inner_text("h1")
        _fits(page)
    finally:
        context.close()
