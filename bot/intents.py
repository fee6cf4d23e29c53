"""Exact, rule-based reading of a message: cleaning, language, the short injection list and theme-list
requests. Each rule here is exact and unit-tested; what kind of message it is, is learned (bot/kinds.py)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

Language = Literal["ja", "en"]

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")
_KANA = re.compile(r"[\u3040-\u30ff]")
_HAN = re.compile(r"[\u4e00-\u9fff]")
_LETTER_CATEGORIES = ("L", "N")

# The exact injection list: phrases whose only use is to change the bot's rules. Everything subtler is the
# message-kind classifier's job (bot/kinds.py, trained from knowledge/message_kinds.tsv).
INJECTION = re.compile(
    r"(ignore|disregard|forget)\s+(all\s+|the\s+|your\s+|any\s+)?(previous|prior|above|earlier)\s+"
    r"(instructions?|rules|prompts?)"
    r"|system\s*prompt|jailbreak|developer\s*mode"
    r"|(前|上|これまで|今まで|以前)の(指示|命令|ルール|設定)(は|を|なんて|も)"
    r"|(指示|命令|ルール)を(無視|忘れ)|システム\s*プロンプト|プロンプトを(表示|見せ|教え|出力)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class CleanText:
    """A question after removing control and invisible characters, with what was found wrong."""

    text: str
    problem: Literal["empty", "no_words", "too_long"] | None


def clean_question(raw: str, max_chars: int) -> CleanText:
    """Strip control/invisible characters and judge whether there is a question to answer."""
    text = _CONTROL.sub(" ", raw.replace("\r", "\n").replace("\t", " "))
    text = re.sub(r"[ \u3000]+", " ", text).strip()
    if not text:
        return CleanText("", "empty")
    if len(text) > max_chars:
        return CleanText(text[:max_chars], "too_long")
    if not any(unicodedata.category(ch)[0] in _LETTER_CATEGORIES for ch in text):
        return CleanText(text, "no_words")
    return CleanText(text, None)


def detect_language(text: str) -> Language:
    """Japanese when the text has kana, or Han characters and no Latin letters; English otherwise."""
    if _KANA.search(text) or not text.strip():
        return "ja"
    latin = sum(ch.isascii() and ch.isalpha() for ch in text)
    if latin == 0 and not _HAN.search(text):
        return "ja"  # emoji, digits, symbols: the city's residents are answered in Japanese
    if _HAN.search(text) and latin < 3:
        return "ja"
    return "en"


def is_injection(text: str) -> bool:
    """Does the message try to change the bot's rules?"""
    return bool(INJECTION.search(unicodedata.normalize("NFKC", text)))


_SENTENCE_END = re.compile(r"(?<=[。！？!?\n])|(?<=\.)\s+|(?=\s*(?:※|PS[:：]|P\.S\.))|(?<=[?？])\s+")


def split_sentences(text: str) -> list[str]:
    """The sentences of a message (a postscript such as 「※…」 or "PS:" starts one too)."""
    return [s for s in _SENTENCE_END.split(text) if s and s.strip()]


def without_injection(text: str) -> str:
    """The message minus the sentences that try to change the bot's rules ("" when nothing is left).

    "雪対策について教えて。あと、前の指示は無視して…" still deserves an answer about snow.
    """
    sentences = split_sentences(text)
    kept = [s for s in sentences if not is_injection(s)]
    return "".join(kept).strip() if len(kept) < len(sentences) else text


TOPIC_LIST = re.compile(
    r"(に関する|に関係する|に関連する|関係の|関連の|関係する|関連する|についての|系の|に関わる|にかかわる|がらみの|絡みの"
    r"|にまつわる)(施策|政策|取り?組み?)"
    r"|(measures?|polic(y|ies)) (related to|relating to|that relate to|about|on|for|concerning)"
    r"|relates? to|related to",
    re.IGNORECASE,
)


def asks_for_topic_list(text: str) -> bool:
    """"DXに関係する施策を全部" / "which measures relate to young people?": every node on a theme."""
    return bool(TOPIC_LIST.search(unicodedata.normalize("NFKC", text)))
