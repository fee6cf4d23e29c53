"""Personal names and building names in free text, found before anything is stored.

Names come from Sudachi's proper-noun tags (名詞-固有名詞-人名, with its 姓 and 名), but a surname alone is
often a place too (浜田, 堤町), so a name is masked only where the sentence shows it is a person: an honorific
after it (さん, 様…), a self-introduction (です, と申します), a full name (姓 + 名), or 「私は」「名前は」 before it.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator

from sudachipy import SplitMode, Tokenizer

from knowledge import sudachi

HONORIFICS = frozenset({"さん", "様", "さま", "君", "くん", "ちゃん", "氏", "先生", "殿", "さぁ"})
INTRO_AFTER = ("です", "でした", "と申し", "といい", "と言い", "と申す", "だ。", "と言う", "といいます")
INTRO_BEFORE = ("私は", "わたしは", "僕は", "ぼくは", "俺は", "名前は", "氏名は", "氏名：", "氏名:", "名前：",
                "名前:", "担当の", "担当者の", "担当は", "わたくしは", "自分は", "父の", "母の", "夫の", "妻の",
                "息子の", "娘の", "祖母の", "祖父の")
# Building names: a name part, then a kind of building, then perhaps a room or floor.
_NAME_PART = r"[ァ-ヴーA-Za-zＡ-Ｚａ-ｚ一-龥々・]"
_KINDS = r"(?:マンション|ハイツ|アパート|コーポラス|コーポ|ハイム|メゾン|レジデンス|パレス|ヴィラ|シャトー|荘|ビル)"
_ROOM = (r"(?:\s*[0-9０-９]{1,4}\s*号室"
         r"|\s*(?:[0-9０-９]+|[A-ZＡ-Ｚ])(?:号棟|棟|階|F)(?:\s*[0-9０-９]{1,4}\s*号室)?"
         r"|\s*[0-9０-９]{3,4}(?![0-9０-９]))?")
BUILDING = re.compile(
    rf"{_NAME_PART}{{1,12}}{_KINDS}{_NAME_PART}{{0,8}}{_ROOM}"
    rf"|(?:ハイツ|コーポ|メゾン|パレス|ヴィラ|シャトー|グランドメゾン){_NAME_PART}{{1,10}}{_ROOM}"
    rf"|[0-9０-９]{{1,4}}\s*号室"
)
# A name the dictionary does not know, introduced right after a masked address: 「浜田1-2-3の山田です」.
AFTER_ADDRESS = re.compile(r"(?<=\x00)\s*の\s*([一-龥々ァ-ヴー]{1,6})(?=です|と申します|といいます|と言います)")
STRONG_INTRO = ("と申し", "といい", "と言い", "と申す")

_local = threading.local()


def _tokenizer() -> Tokenizer:
    # Sudachi tokenizers are not safe to share between threads; the answer log writes from many.
    tokenizer = getattr(_local, "tokenizer", None)
    if tokenizer is None:
        tokenizer = sudachi.tokenizer(SplitMode.C)
        _local.tokenizer = tokenizer
    return tokenizer


def _is_name(pos: tuple[str, ...]) -> bool:
    return pos[1] == "固有名詞" and pos[2] == "人名"


def _is_place(pos: tuple[str, ...]) -> bool:
    return pos[1] == "固有名詞" and pos[2] == "地名"


def _groups(text: str) -> Iterator[tuple[int, int, int]]:
    """(start, end, tokens) of each run of consecutive 人名 tokens; a place-name token that only a strong
    context can make a person (奈良様, 鳴海と申します) comes as a run of 0 tokens."""
    start = end = count = 0
    for morpheme in _tokenizer().tokenize(text):
        pos = morpheme.part_of_speech()
        if _is_place(pos) and not count and _strong_context(text, morpheme.begin(), morpheme.end()):
            yield morpheme.begin(), morpheme.end(), 0
            continue
        if _is_name(pos):
            if count and morpheme.begin() == end:
                end, count = morpheme.end(), count + 1
                continue
            if count:
                yield start, end, count
            start, end, count = morpheme.begin(), morpheme.end(), 1
        elif count:
            yield start, end, count
            count = 0
    if count:
        yield start, end, count


def _strong_context(text: str, start: int, end: int) -> bool:
    """An honorific or 「と申します」 after, or 「私は」「名前は」 before: a person, whatever the word."""
    after = text[end:end + 6].lstrip()
    before = text[max(0, start - 6):start].rstrip(" 　、")
    return (any(after.startswith(h) for h in HONORIFICS) or after.startswith(STRONG_INTRO)
            or before.endswith(INTRO_BEFORE))


def _person_context(text: str, start: int, end: int, tokens: int) -> bool:
    after = text[end:end + 6].lstrip()
    before = text[max(0, start - 6):start].rstrip(" 　、")
    bracketed = before.endswith(("（", "(")) and after.startswith(("）", ")"))
    return (tokens != 1 or _strong_context(text, start, end) or after.startswith(INTRO_AFTER) or bracketed)


def find_names(text: str) -> list[tuple[int, int]]:
    """Spans of personal names (only where the context shows a person)."""
    if not text.strip():
        return []
    return [(s, e) for s, e, n in _groups(text) if _person_context(text, s, e, n)]


def find_buildings(text: str) -> list[tuple[int, int]]:
    """Spans of building names with their room numbers (マンション, ハイツ, …号室)."""
    return [(m.start(), m.end()) for m in BUILDING.finditer(text)]


def find_names_after_addresses(marked: str) -> list[tuple[int, int]]:
    """Names introduced right after an address already replaced by \\x00 marks."""
    return [(m.start(1), m.end(1)) for m in AFTER_ADDRESS.finditer(marked)]
