"""Turn the blocks gathered under one node and section into passages: each 主な取組 item, each 指標 row whole,
and narrative text (現状と課題, 目指す姿, …) in sentence-aligned chunks."""

from __future__ import annotations

import re
from collections.abc import Iterator

from knowledge.documents.headings import normalize
from knowledge.documents.indicators import (
    TableLayout,
    has_figure,
    indicator_from_cells,
    indicator_from_line,
    read_header,
    with_year_row,
)
from knowledge.documents.model import Block, Indicator, Passage, PassageSource
from knowledge.documents.text import join_lines
from knowledge.documents.vocabulary import vocabulary

#: Narrative chunks stop at a sentence end once they pass this many characters.
CHUNK_CHARS = 200
_BULLET = re.compile(r"^(?:[・•●○◯■□◆◇▪▸►\-–*※✓]|\(\d{1,2}\)|（\d{1,2}）|\d{1,2}[.)、]|[①-⑳])\s*")
_LIST_MARK = re.compile(r"^[・•●○◯■□◆◇▪▸►]\s*")
_NOTE = re.compile(r"^(?:※|注\s*\d*[:：)）]|\*\s)")
_SENTENCE = re.compile(r"[^。！？!?]*[。！？!?]+|[^。！？!?]+$")


def passages_for_group(node_id: str, section: str, blocks: list[Block], source: PassageSource,
                       start: int) -> list[Passage]:
    """Passages for one (node, section) run of blocks; `start` numbers them in document order."""
    if section in vocabulary().list_sections:
        pieces = list(_items(blocks, section))
    elif section == "指標" or any(b.kind == "row" for b in blocks):
        pieces = list(_indicator_rows(blocks, section))
    else:
        pieces = [(section, text, page, None) for text, page in _narrative(blocks)]
    return [Passage(node_id, name, text, _at(source, page), indicator, order=start + i)
            for i, (name, text, page, indicator) in enumerate(pieces)]


_Piece = tuple[str, str, int | None, Indicator | None]


def _at(source: PassageSource, page: int | None) -> PassageSource:
    return PassageSource(source.version, source.file, page)


def _items(blocks: list[Block], section: str) -> Iterator[_Piece]:
    """Each 主な取組 item; a line without a bullet continues the item before it when the list has bullets."""
    bulleted = any(b.kind == "item" or _BULLET.match(b.text) for b in blocks)
    current: list[str] = []
    page: int | None = None
    for block in blocks:
        text = block.text if block.kind != "row" else " ｜ ".join(c for c in block.cells if c)
        starts_item = block.kind in ("item", "row") or bool(_BULLET.match(text)) or not bulleted
        if starts_item or not current:
            if current:
                yield section, _join(current), page, None
            current, page = [_BULLET.sub("", text, count=1)], block.page
        else:
            current.append(text)
    if current:
        yield section, _join(current), page, None


def _indicator_rows(blocks: list[Block], section: str) -> Iterator[_Piece]:
    """Each 指標 row whole. The header (repeated after a page break or not) sets the layout and is never a
    passage; a row cut by a page break is joined; wrapped lines are joined until a row has both values."""
    reader = _RowReader(section)
    for block in blocks:
        if block.kind == "row":
            reader.row(block)
        else:
            reader.line(block)
    yield from reader.finish()


class _RowReader:
    def __init__(self, section: str) -> None:
        self.section = section
        self.layout: TableLayout | None = None
        self.header: tuple[str, ...] | None = None  # the header row just read, for a second header row
        self.pieces: list[_Piece] = []
        self.pending: list[str] = []
        self.page: int | None = None

    def row(self, block: Block) -> None:
        cells = block.cells
        if (header := read_header(cells)) is not None:
            self.layout, self.header = header, cells
            return
        if self.header is not None and (two_rows := self._second_header_row(cells)) is not None:
            self.layout, self.header = two_rows, None
            return
        self.header = None
        if self.layout is not None and (years := with_year_row(self.layout, cells)) is not None:
            self.layout = years
            return
        if self._continues_name(cells):
            return
        indicator = indicator_from_cells(cells, self.layout)
        if indicator is not None:
            self.pieces.append(("指標", indicator.quote(), block.page, indicator))
        elif any(cells):
            self.pieces.append((self.section, " ｜ ".join(c for c in cells if c), block.page, None))

    def _second_header_row(self, cells: tuple[str, ...]) -> TableLayout | None:
        """「｜基準｜基準｜目標｜目標｜」 over 「｜年度｜値（%）｜年度｜値（%）｜」: the two rows read as one header."""
        assert self.header is not None
        if not any(c.strip() for c in cells) or any(has_figure(c) for c in cells):
            return None
        merged = tuple(join_lines([a, b]) if a != b else a for a, b in zip(self.header, cells, strict=False))
        return read_header(merged)

    def _continues_name(self, cells: tuple[str, ...]) -> bool:
        """A row holding only the rest of a name (a row cut by a page break): joined to the row before."""
        layout = self.layout
        if layout is None or not self.pieces or self.pieces[-1][3] is None:
            return False
        name = cells[layout.name] if layout.name < len(cells) else ""
        others = [c for i, c in enumerate(cells) if i != layout.name and c.strip()]
        if not name.strip() or others:
            return False
        kind, _, page, previous = self.pieces[-1]
        assert previous is not None
        joined = Indicator(join_lines([previous.name, normalize(name)]), previous.current_value,
                           previous.current_year, previous.target_value, previous.target_year, previous.unit)
        self.pieces[-1] = (kind, joined.quote(), page, joined)
        return True

    def line(self, block: Block) -> None:
        text = block.text
        if (header := read_header(tuple(normalize(text).split(" ")))) is not None:
            self._flush()
            self.layout = header
            return
        if _NOTE.match(text):
            self._flush()
            self.pieces.append((self.section, text, block.page, None))
            return
        if not self.pending:
            self.page = block.page
        self.pending.append(_BULLET.sub("", text, count=1) if block.kind == "item" else text)
        indicator = indicator_from_line(_join(self.pending), self.layout)
        if indicator is not None:
            self.pieces.append(("指標", indicator.quote(), self.page, indicator))
            self.pending = []
        elif sum(len(p) for p in self.pending) > CHUNK_CHARS:
            self._flush()

    def _flush(self) -> None:
        if self.pending:
            self.pieces.append((self.section, _join(self.pending), self.page, None))
            self.pending = []

    def finish(self) -> list[_Piece]:
        self._flush()
        return self.pieces


def _narrative(blocks: list[Block]) -> Iterator[tuple[str, int | None]]:
    """Sentence-aligned chunks of about CHUNK_CHARS, each with the page it starts on."""
    chunk: list[str] = []
    size = 0
    page: int | None = None
    for block in blocks:
        text = _LIST_MARK.sub("", block.text, count=1) if block.kind in ("item", "text") else block.text
        for sentence in _SENTENCE.findall(text):
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
    return join_lines(parts)
