"""One PDF page through pdfplumber: ruled tables cell by cell (merged cells filled, wrapped cells joined), the
rest as lines, and an unruled 指標 table read by the columns its header's words stand in."""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from knowledge.documents.furniture import PAGE_NUMBER
from knowledge.documents.indicators import parse_value, read_header
from knowledge.documents.model import Block
from knowledge.documents.text import join_lines, squash

#: Words closer than this (points) on one baseline belong to one line.
LINE_TOLERANCE = 3.0


@dataclass
class _Line:
    top: float
    bottom: float
    words: list[dict[str, Any]] = field(default_factory=list)

    @property
    def text(self) -> str:
        return " ".join(w["text"] for w in sorted(self.words, key=lambda w: w["x0"]))

    @property
    def x1(self) -> float:
        return max(w["x1"] for w in self.words)


def page_blocks(page: Any, number: int) -> list[Block]:
    """The page's blocks in reading order (top to bottom)."""
    tables = [t for t in page.find_tables() if len(t.rows) >= 2 and max(len(r.cells) for r in t.rows) >= 2]
    placed: list[tuple[float, Block]] = []
    rest = page
    for table in tables:
        for offset, cells in enumerate(_table_cells(table)):
            placed.append((table.bbox[1] + offset * 1e-3, Block("row", " | ".join(cells), page=number, cells=cells)))
        rest = rest.outside_bbox(table.bbox)
    lines = _lines(rest.extract_words(keep_blank_chars=False, use_text_flow=False))
    placed += _unruled(lines, number)
    return [block for _, block in sorted(placed, key=lambda item: item[0])]


def _table_cells(table: Any) -> list[tuple[str, ...]]:
    """Rows of texts. A cell merged across rows is repeated below; one merged across columns (a header's
    「現状値」 over its value and year) is repeated to the right in a header and left empty in a data row."""
    texts = table.extract()
    boxes = [row.cells for row in table.rows]
    rows: list[tuple[str, ...]] = []
    above: list[str] = []
    for raw, cells in zip(texts, boxes, strict=False):
        values = [squash(v) if v is not None else None for v in raw]
        header = read_header(tuple(v or "" for v in values)) is not None
        filled: list[str] = []
        for column, value in enumerate(values):
            if value is not None:
                filled.append(value)
            elif header or _spanned_from_left(cells, column):
                filled.append(filled[-1] if header and filled else "")
            else:
                filled.append(above[column] if column < len(above) else "")
        rows.append(tuple(filled))
        above = filled
    return rows


def _spanned_from_left(cells: list[Any], column: int) -> bool:
    """Is the missing cell covered by the cell to its left (a merge across columns)?"""
    for left in range(column - 1, -1, -1):
        if cells[left] is not None:
            return column < len(cells) and _right_edge(cells, left) > _left_edge(cells, column)
    return False


def _right_edge(cells: list[Any], index: int) -> float:
    return float(cells[index][2])


def _left_edge(cells: list[Any], index: int) -> float:
    known = [c for c in cells[index:] if c is not None]
    return float(known[0][0]) - 1.0 if known else float("inf")


def _lines(words: list[dict[str, Any]]) -> list[_Line]:
    lines: list[_Line] = []
    for word in sorted(words, key=lambda w: (round(w["top"]), w["x0"])):
        if lines and abs(word["top"] - lines[-1].top) <= LINE_TOLERANCE:
            lines[-1].words.append(word)
            lines[-1].bottom = max(lines[-1].bottom, word["bottom"])
        else:
            lines.append(_Line(word["top"], word["bottom"], [word]))
    return lines


def _unruled(lines: list[_Line], number: int) -> list[tuple[float, Block]]:
    """Text lines, except where a header line opens an unruled table: its rows become row blocks."""
    placed: list[tuple[float, Block]] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        words = sorted(line.words, key=lambda w: w["x0"])
        if len(words) >= 2 and read_header(tuple(squash(w["text"]) for w in words)) is not None:
            rows, index = _read_unruled(lines, index, words)
            placed += [(top, Block("row", " | ".join(cells), page=number, cells=cells)) for top, cells in rows]
            continue
        placed.append((line.top, Block("text", line.text, page=number)))
        index += 1
    return placed


def _read_unruled(lines: list[_Line], start: int, header: list[dict[str, Any]]
                  ) -> tuple[list[tuple[float, tuple[str, ...]]], int]:
    """The header and rows of an unruled table from `lines[start]`; returns them and the next line's index."""
    starts = [float("-inf")] + [(a["x1"] + b["x0"]) / 2 for a, b in pairwise(header)]
    width = len(header)
    layout = read_header(tuple(squash(w["text"]) for w in header))
    assert layout is not None
    value_columns = {c for c in (layout.current, layout.target) if c is not None}
    table: list[tuple[_Line, list[str]]] = []
    size = lines[start].bottom - lines[start].top
    pitch = size * 1.9
    index = start + 1
    previous = lines[start]
    while index < len(lines):
        line = lines[index]
        cells = _columns(line, starts, width)
        gap = line.top - previous.bottom
        if gap > pitch * 1.6 or line.bottom - line.top > size * 1.3 or PAGE_NUMBER.match(line.text.strip()):
            break  # far below, in larger type (a heading), or a page number: the table has ended
        if not any(cells[1:]) and line.x1 > header[1]["x0"]:
            break  # a paragraph running across the columns
        table.append((line, cells))
        previous = line
        index += 1
    anchors = [i for i, (_, cells) in enumerate(table) if _has_number(cells, value_columns)]
    if not anchors:
        return [(lines[start].top, tuple(squash(w["text"]) for w in header))], start + 1
    last_used = max(anchors[-1] + 1, _attached_tail(table, anchors))
    rows: dict[int, list[list[str]]] = {a: [[] for _ in range(width)] for a in anchors}
    for i, (line, cells) in enumerate(table[:last_used]):
        anchor = min(anchors, key=lambda a: (abs(table[a][0].top - line.top), a > i))
        for column, text in enumerate(cells):
            if text:
                rows[anchor][column].append(text)
    out = [(lines[start].top, tuple(squash(w["text"]) for w in header))]
    out += [(table[a][0].top, tuple(join_lines(parts) for parts in rows[a])) for a in anchors]
    return out, start + 1 + last_used


def _attached_tail(table: list[tuple[_Line, list[str]]], anchors: list[int]) -> int:
    """Lines after the last row that still belong to it: name-only lines right below it."""
    end = anchors[-1] + 1
    while end < len(table) and not any(table[end][1][1:]) and end - anchors[-1] <= 2 \
            and table[end][0].top - table[end - 1][0].bottom <= (table[end][0].bottom - table[end][0].top):
        end += 1
    return end


def _columns(line: _Line, starts: list[float], width: int) -> list[str]:
    cells: list[list[str]] = [[] for _ in range(width)]
    for word in sorted(line.words, key=lambda w: w["x0"]):
        column = max(i for i, start in enumerate(starts) if start <= word["x0"] + 1)
        cells[column].append(squash(word["text"]))
    return [" ".join(parts) for parts in cells]


def _has_number(cells: list[str], columns: set[int]) -> bool:
    values = [parse_value(cells[c]) for c in columns if c < len(cells) and cells[c]]
    return any(v is not None and v.numeric for v in values)

