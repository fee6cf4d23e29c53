"""指標 tables: one row whole → name, 現状値 with its year, 目標値 with its year, unit.

Rows arrive either as cells (Markdown, HTML and Word tables) or as lines of text (PDF, plain text), where a
long indicator name may wrap onto the line before its values; such lines are joined, never split.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from knowledge.documents.headings import normalize
from knowledge.documents.model import Indicator

_YEAR = r"(?:令和元|令和\s?\d{1,2}|平成\s?\d{1,2}|[RH]\s?\d{1,2}|(?:19|20)\d\d)\s?年度?"
_NUMBER = r"約?[-+]?\d[\d,]*(?:\.\d+)?"
_UNIT = r"[^\s\d()（）|｜]{0,8}?"
#: 「35.2%（令和5年度）」, 「1,200 件 (R5年度)」, 「35.2 % 令和5年度」.
_VALUE = re.compile(
    rf"(?P<num>{_NUMBER})\s*(?P<unit>{_UNIT})\s*(?:[(（]\s*(?P<pyear>{_YEAR})\s*[)）]|(?P<year>{_YEAR}))"
)
_BARE_VALUE = re.compile(rf"^(?P<num>{_NUMBER})\s*(?P<unit>{_UNIT})$")
_YEAR_ONLY = re.compile(rf"^[(（]?\s*(?P<year>{_YEAR})\s*[)）]?$")
_HEADER_WORDS = ("現状値", "目標値", "指標名", "基準値", "単位")


@dataclass(frozen=True, slots=True)
class _Columns:
    name: int = 0
    current: int | None = None
    current_year: int | None = None
    target: int | None = None
    target_year: int | None = None
    unit: int | None = None


def is_header(cells_or_line: tuple[str, ...] | str) -> bool:
    """A header row names the columns (現状値, 目標値, …) and carries no values."""
    text = normalize(" ".join(cells_or_line) if isinstance(cells_or_line, tuple) else cells_or_line)
    return sum(word in text for word in _HEADER_WORDS) >= 2 and not _VALUE.search(text)


def columns_from_header(cells: tuple[str, ...]) -> _Columns:
    """Which column holds what, from a header row such as 「指標名｜現状値（年度）｜目標値（年度）｜単位」."""
    found: dict[str, int] = {}
    last_value = ""
    for i, cell in enumerate(normalize(c) for c in cells):
        is_year = ("年度" in cell or "年次" in cell) and "値" not in cell
        if "単位" in cell:
            found["unit"] = i
        elif is_year:
            side = "current" if ("現状" in cell or "基準" in cell) else "target" if "目標" in cell else last_value
            if side:
                found.setdefault(f"{side}_year", i)
        elif "現状" in cell or "基準" in cell:
            found.setdefault("current", i)
            last_value = "current"
        elif "目標" in cell:
            found.setdefault("target", i)
            last_value = "target"
        elif "指標" in cell or "項目" in cell:
            found.setdefault("name", i)
    return _Columns(**found)


def indicator_from_cells(cells: tuple[str, ...], columns: _Columns | None) -> Indicator | None:
    """An indicator from one table row; None when the row holds no current and target values."""
    cells = tuple(normalize(c) for c in cells)
    if columns is None or columns.current is None or columns.target is None:
        return indicator_from_line(" ".join(cells))
    name = cells[columns.name] if columns.name < len(cells) else ""
    current = _value_cell(_cell(cells, columns.current), _cell(cells, columns.current_year))
    target = _value_cell(_cell(cells, columns.target), _cell(cells, columns.target_year))
    if not name or current is None or target is None:
        return None
    unit = _cell(cells, columns.unit) or current[1] or target[1]
    return Indicator(name, current[0], current[2], target[0], target[2], unit)


def indicator_from_line(line: str) -> Indicator | None:
    """An indicator from a line of text: the name, then two values each with a year. None otherwise."""
    text = normalize(line).replace("|", " ").replace("｜", " ")
    values = list(_VALUE.finditer(text))
    if len(values) < 2:
        return None
    first, last = values[0], values[-1]
    name = text[: first.start()].strip(" :：-")
    if not name:
        return None
    trailing = text[last.end():].strip()
    unit = first.group("unit") or last.group("unit") or (trailing if len(trailing) <= 8 else "")
    return Indicator(name, first.group("num"), _year(first), last.group("num"), _year(last), unit.strip())


def _cell(cells: tuple[str, ...], index: int | None) -> str:
    return cells[index] if index is not None and index < len(cells) else ""


def _value_cell(value: str, year_cell: str) -> tuple[str, str, str] | None:
    """(number, unit, year) from 「35.2%（令和5年度）」 or from 「35.2%」 plus a year column."""
    if match := _VALUE.search(value):
        return match.group("num"), match.group("unit").strip(), _year(match)
    if match := _BARE_VALUE.match(value.strip()):
        year = _YEAR_ONLY.match(year_cell.strip())
        return match.group("num"), match.group("unit").strip(), year.group("year") if year else year_cell.strip()
    if value.strip() and not year_cell:
        return value.strip(), "", ""  # a word value (「増加」, 「―」): kept as written
    return None


def _year(match: re.Match[str]) -> str:
    return re.sub(r"\s+", "", match.group("pyear") or match.group("year") or "")
