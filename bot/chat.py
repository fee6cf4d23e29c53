"""Greetings, thanks and 「使い方」: recognised from the phrases of knowledge/chat_phrases.tsv, so that
「こんにちは」 gets a friendly word and example questions instead of "not in the plan"."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from bot.intents import Language

CHAT_PHRASES_FILE = Path(__file__).resolve().parent.parent / "knowledge" / "chat_phrases.tsv"
ChatKind = Literal["greeting", "thanks", "usage"]
#: After a greeting or thanks, at most this much small talk ("今日もさみぃね", "助かったわ") still makes it one;
#: when the plan matched weakly (a clarify), only a word or two ("元気？").
MAX_REST = 12
MAX_REST_WEAK = 4
_NOISE = re.compile(r"[\s\u3000、。，．,.!！?？~〜ー…・☆★♪]+")
_EDGE = " \u3000\n、。，．,.!！?？~〜ー…・☆★♪"

REPLIES: dict[ChatKind, dict[Language, str]] = {
    "greeting": {"ja": "こんにちは。青森市総合計画（まちづくりの計画）について、気軽に聞いてください。たとえば：",
                 "en": "Hello! Ask me anything about Aomori City's comprehensive plan. For example:"},
    "thanks": {"ja": "どういたしまして。ほかにも計画について気軽に聞いてください。たとえば：",
               "en": "You're welcome. Ask me anything else about the plan. For example:"},
    "usage": {"ja": "知りたいことを文章で送ってください。総合計画の記載から、市が何をするかをお答えします。たとえば：",
              "en": "Send your question as a message, and I answer from the comprehensive plan what the city "
                    "will do. For example:"},
}


def _fold(text: str) -> str:
    return _NOISE.sub("", unicodedata.normalize("NFKC", text).lower())


@dataclass(frozen=True)
class ChatPhrases:
    """The phrases by kind (NFKC, lower case)."""

    phrases: tuple[tuple[ChatKind, str], ...]

    @staticmethod
    def load(path: Path = CHAT_PHRASES_FILE) -> ChatPhrases:
        """Read kind<TAB>phrase rows; `#` comments and blank lines skipped."""
        found: list[tuple[ChatKind, str]] = []
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip() or line.startswith("#"):
                continue
            kind, _, phrase = line.partition("\t")
            phrase = " ".join(unicodedata.normalize("NFKC", phrase).lower().split())
            if kind in ("greeting", "thanks", "usage") and _fold(phrase):
                found.append((kind, phrase))  # type: ignore[arg-type]
        # The longest phrase first, so that "ありがとう" wins over "ありがと".
        return ChatPhrases(tuple(sorted(found, key=lambda kp: len(kp[1]), reverse=True)))

    def kind_of(self, text: str, refused: bool, weak: bool = False) -> ChatKind | None:
        """What chat this message is, or None. `refused`: the core found no plan answer for it; `weak`: the plan
        matched it only weakly (the core would ask which topic).

        A usage phrase must be the whole message; a greeting or thanks must open a message the plan does not
        answer (or matches only weakly), followed by little more than small talk.
        """
        folded = _fold(text)
        if not folded:
            return None
        for kind, phrase in self.phrases:
            if kind == "usage" and folded == _fold(phrase):
                return kind
        if not refused and not weak:
            return None
        limit = MAX_REST if refused else MAX_REST_WEAK
        lowered = _NOISE.sub(" ", unicodedata.normalize("NFKC", text).lower()).strip()
        for kind, phrase in self.phrases:
            if kind == "usage":
                continue
            if phrase.isascii():
                # "hi" opens "hi there" but not "hiking"
                match = re.match(rf"{re.escape(phrase)}(?![a-z])", lowered)
                rest = _fold(lowered[match.end():]) if match else None
            else:
                rest = folded[len(_fold(phrase)):] if folded.startswith(_fold(phrase)) else None
            if rest is not None and len(rest) <= limit:
                return kind
        return None


    def opening(self, text: str) -> str | None:
        """What follows an opening greeting or thanks (「こんにちは。冬の除雪は…」 → 「冬の除雪は…」), or None when
        the message does not open with one or holds nothing after it."""
        normal = unicodedata.normalize("NFKC", text)
        lowered = normal.lower()
        start = len(lowered) - len(lowered.lstrip(_EDGE))
        for kind, phrase in self.phrases:
            if kind == "usage" or not lowered.startswith(phrase, start):
                continue
            end = start + len(phrase)
            if phrase.isascii() and lowered[end:end + 1].isascii() and lowered[end:end + 1].isalpha():
                continue
            rest = normal[end:].lstrip(_EDGE)
            return rest if _fold(rest) else None
        return None


def chat_reply(kind: ChatKind, language: Language) -> str:
    """The friendly opening of the reply; the example questions follow it."""
    return REPLIES[kind][language]
