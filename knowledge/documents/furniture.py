"""The document's own furniture, recognised and left out: contents pages (dot leaders, page numbers), running
headers and footers (text repeating at the same place on most pages), and page numbers."""

from __future__ import annotations

import math
import re
from collections import Counter

from knowledge.documents.headings import normalize
from knowledge.documents.indicators import is_header
from knowledge.documents.model import Block
from knowledge.documents.vocabulary import vocabulary

#: A page number alone: 「12」, 「- 12 -」, 「― 12 ―」, 「12 / 150」, 「P.12」, 「12ページ」.
PAGE_NUMBER = re.compile(
    r"^(?:[-–—―－(（]?\s*(?:p\.?|P\.?)?\s*\d{1,4}\s*(?:ページ|頁)?\s*[-–—―－)）]?|\d{1,4}\s*/\s*\d{1,4})$")
#: A contents line: a title, dot leaders (or a long run of spaces), a page number.
_LEADERS = re.compile(r"(?:[.．・･…‥·⋯\u2026\u22ef_＿]{3,}|[.．・･…‥·⋯]\s*[.．・･…‥·⋯]\s*[.．・･…‥·⋯]).*?\d{1,4}\s*$")
_ENDS_IN_PAGE = re.compile(r"\S.{1,70}?\s+[-–(（]?\d{1,4}[)）-]?$")
#: Lines this close to the top or bottom of a page are where running headers and footers sit.
ZONE = 2
#: A line is a running header or footer when it stands in the zone of at least this share of the pages.
MOST_PAGES = 0.5


def strip_contents(blocks: list[Block]) -> tuple[list[Block], list[int | None]]:
    """Blocks without the contents: every dot-leader line, and after a 「目次」 title every line that ends in a
    page number (and a chapter title between two such lines). Returns the rest and the contents' pages."""
    kept: list[Block] = []
    pages: list[int | None] = []
    in_contents = False
    for index, block in enumerate(blocks):
        if block.kind == "row":
            in_contents = False
            kept.append(block)
            continue
        line = normalize(block.text)
        if vocabulary().is_contents_title(line):
            in_contents = True
        elif not (_LEADERS.search(line) or (in_contents and _ENDS_IN_PAGE.match(line))):
            following = blocks[index + 1] if index + 1 < len(blocks) else None
            if not (in_contents and len(line) <= 40 and following is not None and _is_entry(following)):
                in_contents = False
                kept.append(block)
                continue
        _note(pages, block.page)
    return kept, pages


def _is_entry(block: Block) -> bool:
    line = normalize(block.text)
    return block.kind != "row" and bool(_LEADERS.search(line) or _ENDS_IN_PAGE.match(line))


def _note(pages: list[int | None], page: int | None) -> None:
    if page not in pages:
        pages.append(page)


def strip_page_furniture(pages: list[list[Block]]) -> tuple[list[Block], list[str]]:
    """The blocks of every page without page numbers and running headers and footers, and what was left out."""
    pages = [_without_page_numbers(blocks) for blocks in pages]
    running = _running_lines(pages)
    kept: list[Block] = []
    removed: Counter[str] = Counter()
    shown: dict[str, str] = {}
    for blocks in pages:
        zone = _zone_indexes(blocks)
        for index, block in enumerate(blocks):
            key = _key(block)
            if index in zone and key in running:
                removed[key] += 1
                shown.setdefault(key, block.text)
                continue
            kept.append(block)
    notes = [f"running header or footer left out on {count} pages: 「{shown[key]}」"
             for key, count in removed.most_common(5)]
    return kept, notes


def _without_page_numbers(blocks: list[Block]) -> list[Block]:
    blocks = list(blocks)
    for _ in range(ZONE):
        if blocks and blocks[-1].kind == "text" and PAGE_NUMBER.match(blocks[-1].text.strip()):
            blocks.pop()
        if blocks and blocks[0].kind == "text" and PAGE_NUMBER.match(blocks[0].text.strip()):
            blocks.pop(0)
    return blocks


def _zone_indexes(blocks: list[Block]) -> set[int]:
    texts = [i for i, b in enumerate(blocks) if b.kind == "text"]
    return {*texts[:ZONE], *texts[-ZONE:]}


def _key(block: Block) -> str:
    """Digits made one symbol, spaces dropped: 「基本計画 12」 and 「基本計画 13」 are the same footer."""
    return re.sub(r"\d+", "#", re.sub(r"\s+", "", normalize(block.text)))


def _running_lines(pages: list[list[Block]]) -> set[str]:
    with_text = [p for p in pages if p]
    if len(with_text) < 2:
        return set()
    seen: Counter[str] = Counter()
    texts: dict[str, str] = {}
    for blocks in with_text:
        zone = {_key(blocks[i]): blocks[i].text for i in _zone_indexes(blocks)}
        seen.update(zone.keys())
        texts.update(zone)
    needed = max(2, math.ceil(MOST_PAGES * len(with_text)))
    return {key for key, count in seen.items() if count >= needed and key.strip("#") and not _is_content(texts[key])}


def _is_content(text: str) -> bool:
    """Section headings and table headers repeat on many pages, and are never furniture."""
    return vocabulary().section_of(text) is not None or is_header(text)
