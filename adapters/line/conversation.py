"""What a LINE conversation needs beyond one answer: reading a reply to a clarify as a number (「2」「２」「②」
「2番」「二つ目」 "the second"), the question a topic button asks, and the day in Japan. Pure functions."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta, timezone

from bot.intents import Language
from knowledge.titles import NodeTitles
from knowledge.tree import PlanTree

#: Japan keeps no daylight saving time: the scope note's "once a day" is counted in this zone.
JST = timezone(timedelta(hours=9))
#: How long a clarify's options stay pickable by number.
OPTIONS_MINUTES = 30.0
_KANJI = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_KANA = {"ひとつ": 1, "ふたつ": 2, "みっつ": 3, "よっつ": 4, "いち": 1, "に": 2, "さん": 3, "よん": 4}
_ENGLISH = {"first": 1, "second": 2, "third": 3, "fourth": 4, "one": 1, "two": 2, "three": 3, "four": 4}
_WORD = "|".join(sorted([*_KANJI, *_KANA], key=len, reverse=True))
_PICK_JA = re.compile(
    rf"^(?:番号)?(?P<n>[1-9]|{_WORD})(?:番目?|つ目|つめ|個目|こめ|目|め|番の?(?:やつ|もの|こと)?)?"
    r"(?:で(?:す|お願いします|おねがいします)?|に(?:します)?|を(?:お願いします)?|が(?:いい|知りたい))?(?:ね|よ)?$")
_PICK_EN = re.compile(r"^(?:the\s+)?(?:(?:number|no\.?|option|#)\s*)?(?P<n>[1-9]|first|second|third|fourth|one|two|"
                      r"three|four)(?:\s+(?:one|option|please))?$")
_EDGES = re.compile(r"^[\s「『(（\"']+|[\s」』)）\"'。．.!！?？]+$")


def pick_number(text: str) -> int | None:
    """The option number a short reply picks, or None when the message is not just a number."""
    folded = _EDGES.sub("", unicodedata.normalize("NFKC", text).strip().lower())
    folded = re.sub(r"\s+", " ", folded)
    if len(folded) > 24:
        return None
    for pattern in (_PICK_JA, _PICK_EN):
        found = pattern.match(folded.replace(" ", "") if pattern is _PICK_JA else folded)
        if found is not None:
            word = found.group("n")
            return int(word) if word.isdigit() else _KANJI.get(word) or _KANA.get(word) or _ENGLISH.get(word)
    return None


def question_for(titles: Mapping[str, NodeTitles], tree: PlanTree, node_id: str, language: Language) -> str:
    """The question a topic button (or a number pick) stands for, in the citizen's words and language; the
    answer is about exactly this node (`Assistant.answer(…, about=node_id)`)."""
    found = titles.get(node_id)
    if language == "en":
        return f"Tell me about {found.en if found else node_id}"
    return f"「{found.plain_ja if found else tree[node_id].title}」について教えて"


def today_in_japan(now: datetime | None = None) -> date:
    """The calendar day in Japan."""
    return (now or datetime.now(UTC)).astimezone(JST).date()
