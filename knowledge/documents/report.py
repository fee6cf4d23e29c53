"""The self-check of one document: what it covered, what it could not place, what it found twice or spelt
differently. Printed by `planbot index`, in the spirit of the 体系図 parser's check against its own totals."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from knowledge.tree import PlanTree


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
        out += [f"  note: {note}" for note in self.notes]
        return out

    def to_json(self) -> dict[str, object]:
        """The report as plain data (for --json output and the version registry)."""
        return asdict(self)


def _page(page: int | None) -> str:
    return f" p.{page}" if page else ""
