"""Turn the blocks gathered under one node and section into passages: each 主な取組 item, each 指標 row whole,
and narrative text (現状と課題, 目指す姿, …) in sentence-aligned chunks."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

from knowledge.documents.indicators import columns_from_header, indicator_from_cells, indicator_from_line, is_header
from knowledge.documents.model import Block, Indicator, Passage, PassageSource

#: Narrative chunks stop at a sentence end once they pass this many characters.
CHUNK_CHARS = 200
_BULLET = re.compile(r"^(?:[・•●○◯■□◆◇▪▸►\-–*※✓]|\(\d{1,2}\)|（\d{1,2}）|\d{1,2}[.)、]|[①-⑳])\s*")
_NOTE = re.compile(r"^(?:※|注\s*\d*[:：)）]|\*\s)")
_SENTENCE = re.compile(r"[^。！？!?]*[。！？!?]+|[^。！？!?]+$")


def passages_for_group(node_id: str, section: str, blocks: list[Block], source: PassageSource,
                       start: int) -> list[Passage]:
    """Passages for one (node, section) run of blocks; `start` numbers them in document order."""
    if section == "主な取組":
        pieces = list(_items(blocks))
    elif section == "指標" or any(b.kind == "row" for b in blocks):
        pieces = list(_indicator_rows(blocks, section))
    else:
        pieces = [(section, text, page, None) for text, page in _narrative(blocks)]
    return [Passage(node_id, name, text, _at(source, page), indicator, order=start + i)
            for i, (name, text, page, indicator) in enumerate(pieces)]


_Piece = tuple[str, str, int | None, Indicator | None]


def _at(source: PassageSource, page: int | None) -> PassageSource:
    return PassageSource(source.version, source.file, page)


def _items(blocks: list[Block]) -> Iterator[_Piece]:
    """Each 主な取組 item; a line without a bullet continues the item before it when the list has bullets."""
    bulleted = any(b.kind == "item" or _BULLET.match(b.text) for b in blocks)
    current: list[str] = []
    page: int | None = None
    for block in blocks:
        text = block.text if block.kind != "row" else " ｜ ".join(c for c in block.cells if c)
        starts_item = block.kind in ("item", "row") or bool(_BULLET.match(text)) or not bulleted
        if starts_item or not current:
            if current:
                yield "主な取組", _join(current), page, None
            current, page = [_BULLET.sub("", text, count=1)], block.page
        else:
            current.append(text)
    if current:
        yield "主な取組", _join(current), page, None


def _indicator_rows(blocks: list[Block], section: str) -> Iterator[_Piece]:
    """Each 指標 row whole. Wrapped lines are joined until a row has both values; notes stay apart."""
    columns = None
    pending: list[str] = []
    page: int | None = None
    for block in blocks:
        if block.kind == "row":
            if is_header(block.cells):
                columns = columns_from_header(block.cells)
                continue
            indicator = indicator_from_cells(block.cells, columns)
            if indicator is not None:
                yield "指標", indicator.quote(), block.page, indicator
            elif any(block.cells):
                yield section, " ｜ ".join(c for c in block.cells if c), block.page, None
            continue
        if is_header(block.text):
            continue
        if _NOTE.match(block.text):
            yield section, block.text, block.page, None
            continue
        if not pending:
            page = block.page
        pending.append(_BULLET.sub("", block.text, count=1) if block.kind == "item" else block.text)
        indicator = indicator_from_line(" ".join(pending))
        if indicator is not None:
            yield "指標", indicator.quote(), page, indicator
            pending = []
        elif sum(len(p) for p in pending) > CHUNK_CHARS:
            yield section, _join(pending), page, None
            pending = []
    if pending:
        yield section, _join(pending), page, None


def _narrative(blocks: list[Block]) -> Iterator[tuple[str, int | None]]:
    """Sentence-aligned chunks of about CHUNK_CHARS, each with the page it starts on."""
    chunk: list[str] = []
    size = 0
    page: int | None = None
    for block in blocks:
        for sentence in _SENTENCE.findall(block.text):
            if not chunk:
                page = block.page
            chunk.append(sentence)
            size += len(sentence)
            if size >= CHUNK_CHARS and re.search(r"[。！？!?]$", sentence):
                yield _join(chunk), page
                chunk, size = [], 0
    if chunk:
        yield _join(chunk), page


def _join(parts: list[str]) -> str:
    """Join lines the way Japanese wraps: no space between two Japanese characters, one between words."""
    text = ""
    for part in (p.strip() for p in parts):
        if not part:
            continue
        if text and not (_is_wide(text[-1]) or _is_wide(part[0])):
            text += " "
        text += part
    return text


def _is_wide(char: str) -> bool:
    return unicodedata.east_asian_width(char) in ("W", "F")
