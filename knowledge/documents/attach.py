"""Walk a document's blocks, attach its sections to the 柱 › 政策 › 施策 tree, and check the result.

Headings set the node; 現状と課題 / 目指す姿 / 主な取組 / 指標 headings set the section below it. A heading repeated
on every page (a running header), a table of contents (headings with nothing under them) and a chapter
title reappearing inside its own measure do not start anything new.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from knowledge.documents.errors import DocumentError
from knowledge.documents.headings import Context, HeadingMatch, HeadingMatcher, HeadingMiss, compact
from knowledge.documents.model import OVERVIEW, Block, Passage, PassageSource
from knowledge.documents.passages import passages_for_group
from knowledge.documents.readers import ReadDocument
from knowledge.documents.report import DocumentReport, TitleDifference, UnplacedSection
from knowledge.tree import PlanTree

#: Heading words of the sections below a measure, after brackets and numbering are stripped.
SECTION_ALIASES = {
    "現状と課題": ("現状と課題", "現状・課題", "現状及び課題", "現況と課題", "現状", "課題", "施策の現状と課題"),
    "目指す姿": ("目指す姿", "めざす姿", "目指すべき姿", "目指す将来像", "施策の目指す姿", "目指す方向性"),
    "主な取組": ("主な取組", "主な取り組み", "主な取組み", "主要な取組", "主な事業", "具体的な取組", "取組内容",
                 "主な取組内容"),
    "指標": ("指標", "成果指標", "指標と目標値", "指標・目標値", "目標指標", "数値目標", "評価指標", "成果指標と目標値",
             "指標名", "KPI"),
}
_SECTION_LOOKUP = {alias: name for name, aliases in SECTION_ALIASES.items() for alias in aliases}
_NUMBERING = re.compile(r"^(?:\(\d{1,2}\)|\d{1,2}[.)、]?|[①-⑳]|[ア-ン][.)、]|第\d+)")


def section_name(text: str) -> str | None:
    """「【主な取組】」, 「(3) 主な取り組み」, 「■指標」 → the section's canonical name; None for anything else."""
    line = compact(text).strip(":：")
    line = _NUMBERING.sub("", line).strip(":：・.")
    return _SECTION_LOOKUP.get(line)


@dataclass
class _Group:
    node_id: str
    section: str
    occurrence: int
    blocks: list[Block] = field(default_factory=list)


@dataclass
class _Walk:
    tree: PlanTree
    matcher: HeadingMatcher
    context: Context = field(default_factory=Context)
    group: _Group | None = None
    measure_level: int | None = None
    section_level: int = 0
    groups: list[_Group] = field(default_factory=list)
    occurrences: list[tuple[str, int | None]] = field(default_factory=list)
    unplaced: list[UnplacedSection] = field(default_factory=list)
    differences: dict[int, TitleDifference] = field(default_factory=dict)
    dropping: bool = False

    def feed(self, block: Block) -> None:
        if block.kind == "item" and self.matcher.starts_like_heading(block.text, self.context):
            # 「- 施策② 効果的・効率的な雪対策の推進」: a measure listed as a bullet (as the 体系図 text does).
            result = self.matcher.match(block.text, self.context, explicit=False)
            if isinstance(result, HeadingMatch):
                self._enter(result, block)
                return
        if block.kind in ("row", "item"):
            self._add(block)
            return
        section = section_name(block.text)
        if section is not None:
            self._start_section(section, block)
            return
        result = self.matcher.match(block.text, self.context, explicit=block.kind == "heading")
        if isinstance(result, HeadingMatch):
            self._enter(result, block)
        elif isinstance(result, HeadingMiss):
            self._miss(block, result.reason)
        elif block.kind == "heading":
            self._other_heading(block)
        else:
            self._add(block)

    def _start_section(self, section: str, block: Block) -> None:
        if self.group is None:
            if self.dropping:
                self._add(block)  # a section of the unplaced heading: not loaded either
            else:
                self._miss(block, "a section heading outside any 施策")
            return
        self._new_group(self.group.node_id, section, self.group.occurrence)
        self.section_level = block.level if block.kind == "heading" else 0

    def _enter(self, match: HeadingMatch, block: Block) -> None:
        node = self.tree[match.node_id]
        if self.group is not None and match.node_id in {n.id for n in self.tree.ancestors(self.group.node_id)}:
            return  # a running header, or the chapter title repeated inside its own measure
        ancestors = {n.kind: n.id for n in self.tree.ancestors(node.id)}
        self.context = Context(ancestors.get("pillar"), ancestors.get("policy"))
        if node.kind == "measure" and block.kind == "heading" and self.measure_level is None:
            self.measure_level = block.level
        self.occurrences.append((node.id, block.page))
        occurrence = len(self.occurrences) - 1
        if match.title_differs or match.number_note:
            self.differences[occurrence] = TitleDifference(node.id, match.document_title, node.title, block.page,
                                                           match.number_note)
        self._new_group(node.id, OVERVIEW, occurrence)

    def _other_heading(self, block: Block) -> None:
        """A heading that is neither a section word nor a node: a sub-heading of the measure, or unplaced."""
        inside_measure = self.group is not None and self.tree[self.group.node_id].kind == "measure"
        if inside_measure and self.group is not None and block.level > (self.measure_level or 0):
            if self.group.section in ("主な取組", "指標") and block.level > self.section_level:
                # 「取組1 除排雪の効率化」 over its description: an item (or row) of the list, not a new section.
                self.group.blocks.append(Block("item", block.text, page=block.page))
                return
            self._new_group(self.group.node_id, compact(block.text)[:40], self.group.occurrence)
            self.section_level = block.level
            return
        self._miss(block, "no 柱, 政策 or 施策 of the plan has this title")

    def _miss(self, block: Block, reason: str) -> None:
        self.unplaced.append(UnplacedSection(block.text, block.page, reason))
        self.group = None
        self.dropping = True

    def _new_group(self, node_id: str, section: str, occurrence: int) -> None:
        self.group = _Group(node_id, section, occurrence)
        self.groups.append(self.group)
        self.dropping = False

    def _add(self, block: Block) -> None:
        if self.group is not None:
            self.group.blocks.append(block)
        elif self.dropping and self.unplaced:
            last = self.unplaced[-1]
            self.unplaced[-1] = UnplacedSection(last.heading, last.page, last.reason, last.dropped + 1)


def attach(document: ReadDocument, tree: PlanTree, version_label: str) -> tuple[list[Passage], DocumentReport]:
    """Passages of one document and its report. Raises `DocumentError` when nothing could be placed."""
    walk = _Walk(tree, HeadingMatcher(tree))
    blocks = document.blocks
    index = 0
    while index < len(blocks):
        joined = _wrapped_heading(walk, blocks[index], blocks[index + 1] if index + 1 < len(blocks) else None)
        walk.feed(joined or blocks[index])
        index += 2 if joined else 1
    passages: list[Passage] = []
    source = PassageSource(version_label, document.path.name)
    for group in walk.groups:
        if group.blocks:
            passages += passages_for_group(group.node_id, group.section, group.blocks, source, len(passages))
    report = _report(document, tree, walk, passages)
    if not passages:
        raise DocumentError(document.path, "nothing in it could be placed on the plan: no heading names a 施策 "
                                           "of the 体系図 by number or title")
    return passages, report


def _wrapped_heading(walk: _Walk, block: Block, following: Block | None) -> Block | None:
    """A PDF heading whose title wrapped onto the next line (「施策2-1-1 多様なニーズに応じた切れ目のない」 +
    「子育て支援」): the two lines joined, when only together do they name a node."""
    if block.kind != "text" or following is None or following.kind != "text" or following.page != block.page:
        return None
    matcher, context = walk.matcher, walk.context
    if not matcher.starts_like_heading(block.text, context):
        return None
    alone = matcher.match(block.text, context, explicit=False)
    if isinstance(alone, HeadingMatch) and not alone.title_differs:
        return None
    joined = Block("text", f"{block.text}{following.text}", page=block.page)
    match = matcher.match(joined.text, context, explicit=False)
    return joined if isinstance(match, HeadingMatch) and not match.title_differs else None


def _report(document: ReadDocument, tree: PlanTree, walk: _Walk, passages: list[Passage]) -> DocumentReport:
    with_content = {g.occurrence for g in walk.groups if g.blocks}
    by_node: dict[str, list[int | None]] = {}
    for occurrence, (node_id, page) in enumerate(walk.occurrences):
        if occurrence in with_content:
            by_node.setdefault(node_id, []).append(page)
    placed = {p.node_id for p in passages}
    order = list(tree.nodes)
    sections: dict[str, int] = {}
    for passage in passages:
        sections[passage.section] = sections.get(passage.section, 0) + 1
    return DocumentReport(
        file=document.path.name, format=document.format, pages=document.pages,
        covered=[n for n in order if n in placed and tree[n].kind == "measure"],
        covered_other=[n for n in order if n in placed and tree[n].kind != "measure"],
        unplaced=walk.unplaced,
        duplicates={n: pages for n, pages in by_node.items() if len(pages) > 1 and tree[n].kind == "measure"},
        title_differences=[d for o, d in sorted(walk.differences.items()) if o in with_content],
        passages=len(passages), sections=sections, notes=list(document.notes),
    )
