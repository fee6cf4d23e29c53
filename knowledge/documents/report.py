"""The self-check of one document: what it covered, what it could not place, what it found twice or spelt
differently. Printed by `planbot index`, in the spirit of the 体系図 parser's check against its own totals."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

from knowledge.tree import PlanTree

if TYPE_CHECKING:
    from knowledge.documents.model import Passage
    from knowledge.documents.readers import ReadDocument

#: The sections a measure is expected to have: its 指標 rows and its 主な取組 (what --strict checks).
COUNTED = ("指標", "主な取組")


@dataclass(frozen=True, slots=True)
class UnplacedSection:
    """A heading that names no plan node; `dropped` blocks under it were not loaded."""

    heading: str
    page: int | None
    reason: str
    dropped: int = 0


@dataclass(frozen=True, slots=True)
class TitleDifference:
    """A heading placed on a node although its title is not the 体系図's letter for letter (or its number is
    not the node's)."""

    node_id: str
    document_title: str
    plan_title: str
    page: int | None
    note: str = ""


@dataclass(frozen=True, slots=True)
class DocumentPart:
    """Text that is no measure's and was left out: the 序論 (`intro`) or the 資料編 (`appendix`)."""

    kind: str
    heading: str
    page: int | None
    last_page: int | None
    blocks: int


@dataclass(frozen=True, slots=True)
class UnreadTable:
    """A measure's 指標 section in which no row could be read as an indicator."""

    node_id: str
    page: int | None
    blocks: int


@dataclass
class DocumentReport:
    """One document's self-check. `covered` lists the measures (施策) that got passages, in plan order."""

    file: str
    format: str
    pages: int | None
    covered: list[str] = field(default_factory=list)
    covered_other: list[str] = field(default_factory=list)
    unplaced: list[UnplacedSection] = field(default_factory=list)
    duplicates: dict[str, list[int | None]] = field(default_factory=dict)
    title_differences: list[TitleDifference] = field(default_factory=list)
    passages: int = 0
    sections: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    #: Per covered measure: how many 指標 rows and 主な取組 items it got (additive, 2026-12).
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    unread_tables: list[UnreadTable] = field(default_factory=list)
    parts: list[DocumentPart] = field(default_factory=list)
    contents_pages: list[int | None] = field(default_factory=list)

    def strict_failures(self, tree: PlanTree) -> list[str]:
        """Measures with a heading and content but no readable 指標 row or no 主な取組 item (`--strict`)."""
        failures = []
        for node_id in self.covered:
            missing = [name for name in COUNTED if not self.counts.get(node_id, {}).get(name)]
            if missing:
                failures.append(f"{self.file}: {node_id} {tree[node_id].title} has no readable "
                                + " and no ".join(missing))
        return failures

    def lines(self, tree: PlanTree) -> list[str]:
        """The report as lines for a terminal or a log."""
        measures = len(tree.of_kind("measure"))
        pages = f", {self.pages} pages" if self.pages else ""
        out = [f"{self.file} ({self.format}{pages}): {self.passages} passages on "
               f"{len(self.covered)}/{measures} measures"
               + (f" and {len(self.covered_other)} pillars/policies" if self.covered_other else "")]
        if self.covered:
            out.append("  covered: " + ", ".join(self.covered))
        if self.sections:
            out.append("  sections: " + ", ".join(f"{name} {count}" for name, count in self.sections.items()))
        for node_id in self.covered:
            counts = self.counts.get(node_id, {})
            out.append(f"  {node_id} {tree[node_id].title}: " + ", ".join(
                f"{name} {counts.get(name, 0)}" for name in COUNTED))
        for table in self.unread_tables:
            out.append(f"  指標 not read{_page(table.page)}: {table.node_id} {tree[table.node_id].title} — "
                       f"{table.blocks} passages under its 指標 heading, none of them an indicator row")
        for diff in self.title_differences:
            note = f" ({diff.note})" if diff.note else ""
            out.append(f"  title differs{_page(diff.page)}: {diff.node_id} 「{diff.document_title}」 "
                       f"≈ 「{diff.plan_title}」{note}")
        for node_id, pages_found in self.duplicates.items():
            where = ", ".join(_page(p).strip(" ,") or "?" for p in pages_found)
            out.append(f"  found twice: {node_id} {tree[node_id].title} ({where}); passages of both are kept")
        for section in self.unplaced:
            dropped = f", {section.dropped} blocks not loaded" if section.dropped else ""
            out.append(f"  not placed{_page(section.page)}: 「{section.heading}」 — {section.reason}{dropped}")
        for part in self.parts:
            name = "序論 (before the first 施策)" if part.kind == "intro" else "資料編 (after the last 施策)"
            heading = f" 「{part.heading}」" if part.heading else ""
            out.append(f"  left out{_pages(part.page, part.last_page)}: {name}{heading}, {part.blocks} blocks "
                       "(not filed under any measure)")
        if self.contents_pages:
            where = ", ".join(_page(p).strip() for p in self.contents_pages if p)
            out.append("  left out: the contents page" + (f" ({where})" if where else ""))
        out += [f"  note: {note}" for note in self.notes]
        return out

    def to_json(self) -> dict[str, object]:
        """The report as plain data (for --json output and the version registry)."""
        return asdict(self)


def _page(page: int | None) -> str:
    return f" p.{page}" if page else ""


def _pages(first: int | None, last: int | None) -> str:
    if first and last and last != first:
        return f" pp.{first}–{last}"
    return _page(first or last)


def build_report(document: ReadDocument, tree: PlanTree, occurrences: Sequence[tuple[str, int | None]],
                 unplaced: list[UnplacedSection], differences: dict[int, TitleDifference],
                 passages: Sequence[Passage], groups: Sequence[tuple[str, str, int, int | None, int]],
                 parts: list[DocumentPart], contents_pages: list[int | None]) -> DocumentReport:
    """The report of one attached document. `groups`: (node, section, passages made, first page, occurrence)
    of every run of blocks that had content."""
    with_content = {occurrence for *_, occurrence in groups}
    by_node: dict[str, list[int | None]] = {}
    for occurrence, (node_id, page) in enumerate(occurrences):
        if occurrence in with_content:
            by_node.setdefault(node_id, []).append(page)
    placed = {p.node_id for p in passages}
    order = list(tree.nodes)
    sections: dict[str, int] = {}
    counts: dict[str, dict[str, int]] = {}
    for passage in passages:
        sections[passage.section] = sections.get(passage.section, 0) + 1
        counted = passage.indicator is not None if passage.section == "指標" else passage.section in COUNTED
        if counted and tree[passage.node_id].kind == "measure":
            per = counts.setdefault(passage.node_id, {})
            per[passage.section] = per.get(passage.section, 0) + 1
    unread = _unread_tables(passages, groups)
    return DocumentReport(
        file=document.path.name, format=document.format, pages=document.pages,
        covered=[n for n in order if n in placed and tree[n].kind == "measure"],
        covered_other=[n for n in order if n in placed and tree[n].kind != "measure"],
        unplaced=unplaced,
        duplicates={n: pages for n, pages in by_node.items() if len(pages) > 1 and tree[n].kind == "measure"},
        title_differences=[d for o, d in sorted(differences.items()) if o in with_content],
        passages=len(passages), sections=sections, notes=list(document.notes),
        counts={n: counts.get(n, {}) for n in order if n in placed and tree[n].kind == "measure"},
        unread_tables=unread, parts=parts, contents_pages=contents_pages,
    )


def _unread_tables(passages: Sequence[Passage], groups: Sequence[tuple[str, str, int, int | None, int]]
                   ) -> list[UnreadTable]:
    unread = []
    start = 0
    for node_id, section, made, page, _ in groups:
        found = passages[start:start + made]
        start += made
        if section == "指標" and not any(p.indicator is not None for p in found):
            unread.append(UnreadTable(node_id, page, made))
    return unread
