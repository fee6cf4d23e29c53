"""LINE answers from the real core, rendered as LINE lays out the Flex JSON (adapters/line/preview.py) in real
headless Chromium at phone width (390 px). Every text the citizen sees is on the page, nothing overflows
sideways, the bubble is 300 px wide. Screenshots go to $PLANBOT_LINE_SCREENSHOTS (docs/ for the README) or to
the test's temp dir."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from adapters.line.bubbles import render_answer
from adapters.line.client import to_line_messages
from adapters.line.flex import visible_texts
from adapters.line.preview import preview_html
from bot.assistant import with_contact
from bot.contacts import ContactBook
from bot.service import PlanBot
from bot.types import Question
from tests.test_review_browser import CHROMIUM, browser

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists() and os.environ.get("PLANBOT_REQUIRE_SERVERS") != "1",
    reason="Debian's chromium is not installed at /usr/bin/chromium",
)
__all__ = ["browser"]  # the fixture, shared with test_review_browser
SHOTS = {"answer": ("冬の除雪はどうなる？", True), "clarify": ("交通", False), "greeting": ("こんにちは", False),
         "english": ("What will the city do about empty houses?", True), "refusal": ("明日の天気は？", False)}


def sent_messages(planbot: PlanBot, question: str, show_note: bool) -> list[dict[str, Any]]:
    """The messages LINE would get for this question (logged as answer 1, so 👍/👎 show)."""
    settings = planbot.settings
    answer = with_contact(ContactBook.load(settings.contacts_file, settings.city_contact),
                          planbot.ask(Question(question, channel="line")))
    reply = render_answer(answer, planbot.compose.titles, 1, show_note=show_note)
    return [m.to_dict() for m in to_line_messages(reply)]


def test_the_preview_lays_out_every_visible_text_and_runs_no_script() -> None:
    messages = [{"type": "flex", "altText": "a", "contents": {"type": "bubble", "body": {
        "type": "box", "layout": "vertical", "contents": [{"type": "text", "text": "<b>雪</b>"}]}}}]
    page = preview_html("<質問>", messages)
    assert "&lt;b&gt;雪&lt;/b&gt;" in page and "&lt;質問&gt;" in page and "<script" not in page


@pytest.mark.parametrize("name", list(SHOTS))
def test_line_answers_render_on_a_phone(browser: Any, planbot: PlanBot, name: str, tmp_path: Path) -> None:
    question, show_note = SHOTS[name]
    messages = sent_messages(planbot, question, show_note)
    target = Path(os.environ.get("PLANBOT_LINE_SCREENSHOTS") or tmp_path)
    target.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 390, "height": 120}, device_scale_factor=2, locale="ja-JP")
    page = context.new_page()
    try:
        page.set_content(preview_html(question, messages))
        shown = page.inner_text("body")
        for text in visible_texts(messages):
            assert " ".join(text.split()) in " ".join(shown.split()), text
        assert page.evaluate("document.documentElement.scrollWidth") <= 391
        assert page.evaluate("document.querySelector('.bubble').getBoundingClientRect().width") == 300
        page.screenshot(path=str(target / f"line-{name}.png"), full_page=True)
    finally:
        context.close()
    assert (target / f"line-{name}.png").stat().st_size > 5_000
