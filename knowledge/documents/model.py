"""The typed values documents turn into: blocks read from a file, and passages attached to plan nodes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

BlockKind = Literal["heading", "text", "item", "row"]

#: Section names a passage may carry. Other headings under a measure keep their own text as the section.
OVERVIEW = "概要"
SECTION_NAMES = ("現状と課題", "目指す姿", "主な取組", "指標")


@dataclass(frozen=True, slots=True)
class Block:
    """One unit of a document in reading order.

    `heading` blocks come from real heading markup (Markdown #, HTML h1–h6, Word heading styles) with `level`;
    `text` is a paragraph or a line (PDF and plain text have only lines); `item` a list item; `row` a table
    row with its `cells`. `page` is 1-based where the format has pages.
    """

    kind: BlockKind
    text: str
    page: int | None = None
    level: int = 0
    cells: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Indicator:
    """One 指標 row, whole: name, current value and its year, target value and its year, unit."""

    name: str
    current_value: str
    current_year: str
    target_value: str
    target_year: str
    unit: str

    def quote(self) -> str:
        """「除排雪の満足度: 現状値 35.2% (令和5年度) → 目標値 50.0% (令和12年度)」."""
        current = f"現状値 {self.current_value}{self.unit}" + (f" ({self.current_year})" if self.current_year else "")
        target = f"目標値 {self.target_value}{self.unit}" + (f" ({self.target_year})" if self.target_year else "")
        return f"{self.name}: {current} → {target}"


@dataclass(frozen=True, slots=True)
class PassageSource:
    """Where a passage comes from: the version's label, the file name, the page where there is one."""

    version: str
    file: str
    page: int | None = None

    def cite(self) -> str:
        """「基本計画2026 / plan.pdf p.12」."""
        page = f" p.{self.page}" if self.page else ""
        return f"{self.version} / {self.file}{page}"


@dataclass(frozen=True, slots=True)
class Passage:
    """A piece of the 基本計画 attached to one plan node (`3.2.2`), under one section (主な取組, 指標, …).

    `indicator` is set for 指標 rows. `score` is the cosine similarity when it came from a search.
    """

    node_id: str
    section: str
    text: str
    source: PassageSource
    indicator: Indicator | None = None
    order: int = 0
    score: float = 0.0
