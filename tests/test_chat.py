"""Greetings, thanks and 「使い方」 (knowledge/chat_phrases.tsv): what counts as one, and what follows an opening
greeting. Pure rules, tested by example."""

from __future__ import annotations

import pytest

from bot.chat import ChatPhrases

PHRASES = ChatPhrases.load()


@pytest.mark.parametrize(("text", "refused", "weak", "expected"), [
    ("こんにちは", True, False, "greeting"),
    ("こんにちは！元気？", False, True, "greeting"),  # the plan matched only weakly
    ("おはよ〜今日もさみぃね", True, False, "greeting"),
    ("ありがとー助かったわ", True, False, "thanks"),
    ("Thanks a lot!", True, False, "thanks"),
    ("hi there", True, False, "greeting"),
    ("使い方", False, False, "usage"),  # a usage phrase needs no refusal: it is the whole message
    ("How do I use this?", False, False, "usage"),
    ("hiking trails?", True, False, None),  # "hi" does not open "hiking"
    ("こんにちは、ゴミの出し方と粗大ごみの申し込み方法を教えて", True, False, None),  # a question, not small talk
    ("こんにちは、今日は雪がすごいね", False, True, None),  # weak match: only a word or two of small talk
    ("こんにちは", False, False, None),  # the core answered it: not taken for a greeting
    ("使い方が難しい制度はある？", True, False, None),
])
def test_what_counts_as_chat(text: str, refused: bool, weak: bool, expected: str | None) -> None:
    assert PHRASES.kind_of(text, refused=refused, weak=weak) == expected


@pytest.mark.parametrize(("text", "rest"), [
    ("こんにちは。冬の除雪はどうなりますか？", "冬の除雪はどうなりますか?"),
    ("おはようございます。子育て支援は？", "子育て支援は?"),
    ("Hello, what about snow?", "what about snow?"),
    ("hiking trails?", None),
    ("こんにちは！", None),
    ("冬の除雪", None),
])
def test_what_follows_an_opening_greeting(text: str, rest: str | None) -> None:
    assert PHRASES.opening(text) == rest
