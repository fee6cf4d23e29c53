"""指標 tables: one row whole → name, 現状値 with its year, 目標値 with its year, unit.

One row reader for every format. Rows arrive as cells (Markdown, HTML, Word and PDF tables read cell by cell) or
as lines of text (plain text, a PDF line outside any table). The header is recognised by its words (指標名,
現状値, 基準値, 目標値, 単位, 年度 …, knowledge/documents/words.tsv), wherever the years stand: in the header
(「現状値（令和5年度）」), in their own column, or in the cell beside the value. The unit comes from its column,
from the header (「基準値（%）」), from the name (「受診率（%）」) or from the value itself (「255.8億円」).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import cache

from knowledge.documents.headings import normalize
from knowledge.documents.model import Indicator
from knowledge.documents.text import squash
from knowledge.documents.vocabulary import fold, vocabulary

_ERA = r"(?:令和元|令和\s?\d{1,2}|平成\s?\d{1,2}|[RH]\s?\d{1,2})(?:\s?[(（]\s?(?:19|20)\d\d\s?[)）])?\s?(?:年度|年)?"
_YEAR = rf"(?:{_ERA}|(?:19|20)\d\d\s?(?:年度|年))"
_YEAR_RE = re.compile(_YEAR)
_BRACKETED_YEAR = re.compile(rf"[(（]\s*(?:{_YEAR})\s*[)）]|{_YEAR}")
_NUMBER = r"約?\s?[-+−▲△]?\d[\d,]*(?:\.\d+)?"
_CELL_VALUE = re.compile(rf"^(?P<num>{_NUMBER})\s*(?P<unit>[^\d]{{0,10}}?)\s*$")
_WORD_VALUE = re.compile(r"^[^\d]{1,12}$")
_BRACKET = re.compile(r"[(（]\s*(?:単位\s*[:：]?\s*)?(?P<unit>[^()（）]{1,8})\s*[)）]")
#: 「35.2%（令和5年度）」, 「1,200 件 (R5年度)」, 「35.2 % 令和5年度」 inside a line of text.
_VALUE = re.compile(
    rf"(?P<num>{_NUMBER})\s*(?P<unit>[^\s\d()（）|｜]{{0,8}}?)\s*(?:[(（]\s*(?P<pyear>{_YEAR})\s*[)）]|(?P<year>{_YEAR}))"
)


@dataclass(frozen=True, slots=True)
class TableLayout:
    """Which column holds what, and what the header itself says (years, units)."""

    name: int = 0
    current: int | None = None
    target: int | None = None
    current_year: int | None = None
    target_year: int | None = None
    unit: int | None = None
    current_header_year: str = ""
    target_header_year: str = ""
    current_header_unit: str = ""
    target_header_unit: str = ""

    @property
    def complete(self) -> bool:
        return self.current is not None and self.target is not None


@cache
def _unit_pattern() -> re.Pattern[str]:
    units = "|".join(re.escape(u) for u in vocabulary().units)
    return re.compile(rf"^(?:千|万|億|百万)?(?:{units})(?:/(?:年|日|月|人|回))?$")


def is_unit(text: str) -> bool:
    """「%」, 「人」, 「億円」, 「件/年」 — a word that counts a figure."""
    return bool(_unit_pattern().match(normalize(text).replace(" ", "")))


def year_of(text: str) -> str:
    """The first year written in the text (「令和5年度」, 「R5」, 「2023年度」), spaces removed; else ""."""
    match = _YEAR_RE.search(normalize(text))
    return re.sub(r"\s+", "", match.group(0)) if match else ""


def has_figure(cell: str) -> bool:
    """A number that is not a year nor inside a bracketed unit: header cells have none."""
    rest = _BRACKET.sub(" ", _BRACKETED_YEAR.sub(" ", normalize(cell)))
    return bool(re.search(r"\d", rest))


def _role(cell: str) -> str | None:
    folded = fold(cell)
    words = vocabulary().header_words
    if any(w in folded for w in words["unit"]) and len(folded) <= 6:
        return "unit"
    side = ("current" if any(w in folded for w in words["current"])
            else "target" if any(w in folded for w in words["target"]) else None)
    is_year_column = any(w in folded for w in words["year"]) and "値" not in folded and not year_of(cell)
    if is_year_column:
        return f"{side or 'last'}_year"
    if side:
        return side
    if any(w in folded for w in words["name"]):
        return "name"
    return None


def read_header(cells: tuple[str, ...]) -> TableLayout | None:
    """The layout a header row names (「指標名｜現状値（令和5年度）｜目標値（令和12年度）｜単位」); None when the
    row is not a header (fewer than two column words, or a figure in it)."""
    roles = [_role(c) if c.strip() else None for c in cells]
    if sum(r is not None for r in roles) < 2 or any(has_figure(c) for c in cells):
        return None
    if not any(r in ("current", "target") for r in roles):
        return None
    found: dict[str, int] = {}
    last_side = "current"
    for index, role in enumerate(roles):
        if role in ("current", "target"):
            if role == "target" or role not in found:
                found[role] = index  # the last 目標 column is the final target
            last_side = role
        elif role == "last_year":
            found.setdefault(f"{last_side}_year", index)
        elif role is not None:
            found.setdefault(role, index)
    layout = TableLayout(**found)  # type: ignore[arg-type]
    return replace(
        layout,
        current_header_year=year_of(cells[layout.current]) if layout.current is not None else "",
        target_header_year=year_of(cells[layout.target]) if layout.target is not None else "",
        current_header_unit=_bracket_unit(cells[layout.current]) if layout.current is not None else "",
        target_header_unit=_bracket_unit(cells[layout.target]) if layout.target is not None else "",
    )


def with_year_row(layout: TableLayout, cells: tuple[str, ...]) -> TableLayout | None:
    """A second header row that holds only the years (「｜令和5年度｜令和12年度｜」): the layout with them."""
    filled = [c for c in cells if c.strip()]
    if not filled or not all(year_of(c) and not has_figure(c) for c in filled):
        return None
    current = year_of(_cell(cells, layout.current)) or layout.current_header_year
    target = year_of(_cell(cells, layout.target)) or layout.target_header_year
    return replace(layout, current_header_year=current, target_header_year=target)


def spread_merged(texts: list[str], spans: list[int]) -> tuple[str, ...]:
    """One text per grid column from cells that span `spans` columns: a header's 「現状値」 over two columns is
    repeated (the value's and the year's), a data cell spanning columns is written once and the rest left empty,
    so that every row keeps the header's column positions."""
    header = read_header(tuple(texts)) is not None
    grid: list[str] = []
    for text, span in zip(texts, spans, strict=True):
        grid += [text] + [text if header else ""] * (max(span, 1) - 1)
    return tuple(grid)


def is_header(cells_or_line: tuple[str, ...] | str) -> bool:
    """A header row (or line) names the columns and carries no figure."""
    cells = cells_or_line if isinstance(cells_or_line, tuple) else tuple(normalize(cells_or_line).split(" "))
    return read_header(cells) is not None


def _bracket_unit(text: str) -> str:
    """「基準値（%）」, 「受診率（単位：%）」 → 「%」; "" when the bracket holds no unit."""
    for match in _BRACKET.finditer(normalize(text)):
        if is_unit(match.group("unit")):
            return match.group("unit").strip()
    return ""


def _cell(cells: tuple[str, ...], index: int | None) -> str:
    return cells[index] if index is not None and index < len(cells) else ""


@dataclass(frozen=True, slots=True)
class _Value:
    number: str
    unit: str
    year: str
    numeric: bool


def parse_value(text: str) -> _Value | None:
    """「35.2%（令和5年度）」, 「35.2」, 「255.8億円」, 「1,200件\\n(R5)」, 「増加」 → number, unit, year."""
    cell = squash(normalize(text))
    year = year_of(cell)
    rest = _BRACKETED_YEAR.sub(" ", cell).strip(" ()（）")
    rest = re.sub(r"\s+", " ", rest)
    if match := _CELL_VALUE.match(rest):
        number = re.sub(r"\s+", "", match.group("num")).replace("−", "-")
        return _Value(number, match.group("unit").strip(), year, True)
    if rest and _WORD_VALUE.match(rest) and not is_unit(rest):
        return _Value(rest, "", year, False)  # a word value (「増加」, 「―」): kept as written
    return None


def indicator_from_cells(cells: tuple[str, ...], layout: TableLayout | None) -> Indicator | None:
    """An indicator from one table row; None when the row holds no current and target values."""
    cells = tuple(squash(normalize(c)) for c in cells)
    if layout is None or not layout.complete:
        return _from_bare_cells(cells) or indicator_from_line(" ".join(c for c in cells if c), layout)
    name, name_unit = _name_and_unit(_cell(cells, layout.name))
    current = parse_value(_cell(cells, layout.current))
    target = parse_value(_cell(cells, layout.target))
    if not name or current is None or target is None or not (current.numeric or target.numeric):
        return None
    if has_figure(name) and not re.search(r"[^\d\s.,%]", name):
        return None  # a number where the name should be: not a row of this layout
    current_year = current.year or year_of(_cell(cells, layout.current_year)) or layout.current_header_year
    target_year = target.year or year_of(_cell(cells, layout.target_year)) or layout.target_header_year
    unit = (_cell(cells, layout.unit).strip() or current.unit or target.unit or layout.current_header_unit
            or layout.target_header_unit or name_unit)
    return Indicator(name, current.number, current_year, target.number, target_year, unit)


def _from_bare_cells(cells: tuple[str, ...]) -> Indicator | None:
    """A row without a header: a name, then value cells (each with its year), then perhaps a unit cell."""
    filled = [c for c in cells if c]
    if len(filled) < 3:
        return None
    unit = filled[-1] if is_unit(filled[-1]) else ""
    values = [parse_value(c) for c in filled[1:len(filled) - (1 if unit else 0)]]
    numbers = [v for v in values if v is not None and v.numeric]
    name, name_unit = _name_and_unit(filled[0])
    if len(numbers) < 2 or len(numbers) != len(values) or (has_figure(name) and not name.strip("0123456789., ")):
        return None
    first, last = numbers[0], numbers[-1]
    if not (first.year and last.year):
        return None
    return Indicator(name, first.number, first.year, last.number, last.year,
                     unit or first.unit or last.unit or name_unit)


def _name_and_unit(name: str) -> tuple[str, str]:
    """「特定健康診査の受診率（%）」 → (「特定健康診査の受診率」, 「%」)."""
    name = name.strip(" :：")
    match = re.search(r"[(（]\s*(?:単位\s*[:：]?\s*)?([^()（）]{1,8})\s*[)）]$", name)
    if match and is_unit(match.group(1)):
        return name[: match.start()].strip(), match.group(1).strip()
    return name, ""


def indicator_from_line(line: str, layout: TableLayout | None = None) -> Indicator | None:
    """An indicator from a line of text: the name, then two values (each with a year, or the years of the
    header above), and perhaps a unit. None otherwise."""
    text = squash(normalize(line).replace("|", " ").replace("｜", " "))
    values = list(_VALUE.finditer(text))
    if len(values) >= 2:
        first, last = values[0], values[-1]
        name, name_unit = _name_and_unit(text[: first.start()])
        if not name:
            return None
        trailing = text[last.end():].strip()
        unit = first.group("unit") or last.group("unit") or (trailing if is_unit(trailing) else "") or name_unit
        return Indicator(name, _num(first.group("num")), _year(first), _num(last.group("num")), _year(last),
                         unit.strip())
    return _from_tokens(text, layout)


def _from_tokens(text: str, layout: TableLayout | None) -> Indicator | None:
    """「市内高校卒業者の市内就職率 42.3 50.0 %」 under a header that holds the years."""
    tokens = text.split(" ")
    tail: list[str] = []
    while tokens and (_token_value(tokens[-1]) or is_unit(tokens[-1]) or year_of(tokens[-1]) == tokens[-1]):
        tail.insert(0, tokens.pop())
    name, name_unit = _name_and_unit(" ".join(tokens))
    numbers: list[list[str]] = []  # [number, unit, year]
    unit = ""
    for token in tail:
        value = _token_value(token)
        if value is not None:
            numbers.append([value[0], value[1], ""])
        elif year_of(token) == token and numbers:
            numbers[-1][2] = token
        elif is_unit(token):
            unit = token
    if not name or len(numbers) < 2:
        return None
    first, last = numbers[0], numbers[-1]
    current_year = first[2] or (layout.current_header_year if layout else "")
    target_year = last[2] or (layout.target_header_year if layout else "")
    if not (current_year or target_year or unit or first[1]):
        return None  # two bare numbers at the end of a sentence are not a row
    header_unit = (layout.current_header_unit or layout.target_header_unit) if layout else ""
    return Indicator(name, first[0], current_year, last[0], target_year,
                     unit or first[1] or last[1] or header_unit or name_unit)


def _token_value(token: str) -> tuple[str, str] | None:
    match = re.match(rf"^({_NUMBER})(.*)$", token)
    if match is None or year_of(token) == token:
        return None
    unit = match.group(2)
    if unit and not is_unit(unit):
        return None
    return _num(match.group(1)), unit


def _num(number: str) -> str:
    return re.sub(r"\s+", "", number).replace("−", "-")


def _year(match: re.Match[str]) -> str:
    return re.sub(r"\s+", "", match.group("pyear") or match.group("year") or "")
