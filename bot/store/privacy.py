"""Pseudonymous user ids and masking of personal data before anything is stored."""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata

from pydantic import SecretStr

from bot.store.names import find_buildings, find_names, find_names_after_addresses

# Place names: kanji and katakana; hiragana is left out so particles (住所は…) stay outside the match.
_PLACE = r"[一-龥々〆ヶァ-ヴー]"
_NUM = r"(?:\d+|[一二三四五六七八九十〇]+)"
# Phone number groups, optionally in brackets: (017)734-1111, 017(734)1111.
_AREA0 = r"(?:\(0\d{1,4}\)|0\d{1,4})"
_AREA = r"(?:\(\d{1,4}\)|\d{1,4})"
# Hyphen look-alikes people type between digits (incl. the katakana long-vowel mark ー).
_DASHES = frozenset("‐‑‒–—―−ーｰ")
# Japanese numbers have 10 digits (11 for mobiles; +81 plus 9-10): shorter runs are not phones.
_PHONE_MIN_DIGITS = 10
# Marks text already masked, so a later pattern cannot match across it.
_TAKEN = "\x00"

# Order matters: the longest and most specific patterns run first.
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("[メール]", re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")),
    ("[マイナンバー]", re.compile(r"(?<!\d)\d{4}[ -]?\d{4}[ -]?\d{4}(?!\d)")),
    ("[郵便番号]", re.compile(r"(?:〒|(?<=郵便番号)|(?<=郵便番号[:\s]))\s?\d{3}-?\d{4}(?!\d)")),
    ("[電話番号]", re.compile(
        rf"(?:\+81[ -]?{_AREA}|(?<![\d+]){_AREA0})[ -]?{_AREA}[ -]?\d{{3,4}}(?!\d)")),
    ("[郵便番号]", re.compile(r"(?<![\d-])\d{3}-\d{4}(?![\d-])")),
    (
        "[住所]",
        re.compile(
            rf"{_PLACE}{{0,12}}(?:{_NUM}丁目|{_NUM}番町)\s*(?:{_NUM}(?:番地?|-)\s*)?(?:{_NUM}号?)?"
            rf"|{_PLACE}{{0,12}}字{_PLACE}{{1,12}}{_NUM}(?:番地?(?:の?{_NUM})?)?(?:-{_NUM}){{0,2}}"
            rf"|{_PLACE}{{0,12}}(?:市|郡|町|村|字|通り?|台|野|沢|森|浜){_PLACE}{{0,12}}"
            rf"{_NUM}(?:-{_NUM}){{1,3}}(?:号)?"
            rf"|{_PLACE}{{1,12}}{_NUM}番地(?:の?{_NUM})?"
        ),
    ),
)


NAME_LABEL = "[氏名]"
BUILDING_LABEL = "[建物名]"


def find_personal_data(text: str) -> list[tuple[int, int, str]]:
    """(start, end, label) of every piece of personal data in `text`, in order, never overlapping.

    The patterns run on an NFKC-folded copy (so ０１７−７３４… and ０９０ー… are caught too); spans point
    into `text` as typed. Names need Sudachi and a context that shows a person (see `bot.store.names`).
    """
    folded, origin = _fold(text)
    spans: list[tuple[int, int, str]] = []

    def mark(start: int, end: int, label: str) -> None:
        nonlocal folded
        spans.append((origin[start], origin[end - 1] + 1, label))
        folded = folded[:start] + _TAKEN * (end - start) + folded[end:]

    for label, pattern in _PATTERNS:
        for match in list(pattern.finditer(folded)):
            if _TAKEN in match.group():
                continue
            if label == "[電話番号]" and sum(ch.isdigit() for ch in match.group()) < _PHONE_MIN_DIGITS:
                continue
            mark(match.start(), match.end(), label)
    for start, end in find_names_after_addresses(folded):
        mark(start, end, NAME_LABEL)
    for start, end in find_buildings(folded):
        if _TAKEN not in folded[start:end]:
            mark(start, end, BUILDING_LABEL)
    taken = sorted(spans)
    for start, end in find_names(text):
        if not any(s < end and start < e for s, e, _ in taken):
            spans.append((start, end, NAME_LABEL))
    return sorted(spans)


def mask_personal_data(text: str) -> str:
    """Replace phone numbers, e-mail addresses, My Numbers, postal codes, street addresses, building names
    and personal names with labels such as [電話番号] and [氏名]; everything else is kept as typed."""
    out, position = [], 0
    for start, end, label in find_personal_data(text):
        if start < position:
            continue
        out.append(text[position:start])
        out.append(label)
        position = end
    out.append(text[position:])
    return "".join(out)


def _fold(text: str) -> tuple[str, list[int]]:
    """NFKC per character, dashes between digits made "-", with each folded char's index in `text`."""
    chars: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        folded = unicodedata.normalize("NFKC", char).replace(_TAKEN, " ")
        chars.extend(folded)
        origin.extend([index] * len(folded))
    for i in range(1, len(chars) - 1):
        if chars[i] in _DASHES and chars[i - 1].isdigit() and chars[i + 1].isdigit():
            chars[i] = "-"
    return "".join(chars), origin


def hash_user(salt: SecretStr, platform: str, raw_user_id: str | None) -> str | None:
    """A salted, keyed hash of a platform user id; the raw id is never stored or logged."""
    if not raw_user_id:
        return None
    key = salt.get_secret_value().encode("utf-8")
    digest = hmac.new(key, f"{platform}:{raw_user_id}".encode(), hashlib.sha256).hexdigest()
    return digest[:32]
