"""Walk a document's blocks, attach its sections to the 柱 › 政策 › 施策 tree, and check the result.

Headings set the node; section headings (現状と課題 / 目指す姿 / 主な取組 / 指標, and the sub-headings that are
not 取組: 役割, 関連計画, SDGs, コラム — knowledge/documents/words.tsv) set the section below it. What is no
measure's is never filed under one: a contents page, the 序論 before the first measure, a plan-wide listing of
measures (施策の体系), the 資料編 after the last one. A heading repeated on every page (a running header) and a
chapter title reappearing inside its own measure do not start anything new.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from knowledge.documents.errors import DocumentError
from knowledge.documents.furniture import strip_contents
from knowledge.documents.headings import Context, HeadingMatch, HeadingMatcher, HeadingMiss, compact
from knowledge.documents.model import OVERVIEW, Block, Passage, PassageSource
from knowledge.documents.passages import passages_for_group
from knowledge.documents.readers import ReadDocument
from knowledge.documents.report import DocumentPart, DocumentReport, TitleDifference, UnplacedSection, build_report
from knowledge.documents.vocabulary import vocabulary
from knowledge.tree import PlanTree

#: This many measure headings in a row with nothing under them are a listing (施策の体系, a contents page the
#: extractor kept): the next one is believed only when a section heading follows it.
LISTING_RUN = 2


def section_name(text: str) -> str | None:
    """「【主な取組】」, 「(3) 主な取り組み」, 「■指標」, 「市民・地域・事業者に期待される役割」 → its section."""
    return vocabulary().section_of(text)


@dataclass
class _Group:
    node_id: str
    section: str
    occurrence: int
    blocks: list[Block] = field(default_factory=list)


@dataclass(frozen=True)
class _State:
    group: _Group | None
    context: Context
    dropping: bool
    part: _Part | None


@dataclass
class _Part:
    """A stretch of the document that is no measure's: 序論 (before the first measure or under its own
    heading) or 資料編 (to the end)."""

    kind: str  # "intro" or "appendix"
    heading: str
    page: int | None
    explicit: bool
    blocks: int = 0
    last_page: int | None = None


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
    part: _Part | None = None
    parts: list[_Part] = field(default_factory=list)
    empty_measures: int = 0
    before_listing: _State | None = None
    tentative: bool = False

    def feed(self, block: Block) -> None:
        if self.part is not None and self.part.kind == "appendix":
            self._in_part(block)
            return
        if block.kind in ("heading", "text") and (kind := vocabulary().part_of(block.text)) is not None:
            self._start_part(kind, block)
            return
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

    def _start_part(self, kind: str, block: Block) -> None:
        self.group, self.dropping, self.tentative = None, False, False
        self.part = _Part(kind, block.text, block.page, explicit=True, last_page=block.page)
        self.parts.append(self.part)

    def _in_part(self, block: Block) -> None:
        assert self.part is not None
        self.part.blocks += 1
        self.part.last_page = block.page or self.part.last_page

    def _start_section(self, section: str, block: Block) -> None:
        self.tentative = False
        if self.group is None:
            if self.dropping:
                self._add(block)  # a section of the unplaced heading: not loaded either
            elif self.part is not None:
                self._in_part(block)
            else:
                self._miss(block, "a section heading outside any 施策")
            return
        self.part = None
        self._new_group(self.group.node_id, section, self.group.occurrence)
        self.section_level = block.level if block.kind == "heading" else 0

    def _enter(self, match: HeadingMatch, block: Block) -> None:
        node = self.tree[match.node_id]
        if self.group is not None and match.node_id in {n.id for n in self.tree.ancestors(self.group.node_id)}:
            return  # a running header, or the chapter title repeated inside its own measure
        ancestors = {n.kind: n.id for n in self.tree.ancestors(node.id)}
        in_intro = self.part is not None and self.part.explicit
        if node.kind != "measure" and in_intro:
            self.context = Context(ancestors.get("pillar"), ancestors.get("policy"))
            self._in_part(block)  # a chapter title inside the 序論 (施策の体系): no 概要 of its own
            return
        if node.kind == "measure":
            self._track_listing()
        self.context = Context(ancestors.get("pillar"), ancestors.get("policy"))
        if node.kind == "measure" and block.kind == "heading" and self.measure_level is None:
            self.measure_level = block.level
        self.occurrences.append((node.id, block.page))
        occurrence = len(self.occurrences) - 1
        if match.title_differs or match.number_note:
            self.differences[occurrence] = TitleDifference(node.id, match.document_title, node.title, block.page,
                                                           match.number_note)
        self._new_group(node.id, OVERVIEW, occurrence)
        self.tentative = node.kind == "measure" and (in_intro or self.empty_measures >= LISTING_RUN)
        if not self.tentative and node.kind == "measure":
            self.part = None

    def _track_listing(self) -> None:
        """Count measure headings that follow each other with nothing between them."""
        group = self.group
        empty = group is not None and group.section == OVERVIEW and not group.blocks \
            and self.tree[group.node_id].kind == "measure" and group is self.groups[-1]
        if empty:
            self.empty_measures += 1
        else:
            self.empty_measures = 0
            self.before_listing = _State(self.group, self.context, self.dropping, self.part)

    def _abandon_listing(self) -> None:
        """The heading was the last entry of a listing: back to where the document was before the listing."""
        state = self.before_listing or _State(None, Context(), False, None)
        self.group, self.context, self.dropping, self.part = state.group, state.context, state.dropping, state.part
        if self.group is None and self.part is None and not self.dropping:
            self.part = _Part("intro", "", None, explicit=False)
            self.parts.append(self.part)
        self.tentative = False
        self.empty_measures = 0

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
        if self.part is not None and self.group is None:
            self._in_part(block)
            return
        self._miss(block, "no 柱, 政策 or 施策 of the plan has this title")

    def _miss(self, block: Block, reason: str) -> None:
        self.unplaced.append(UnplacedSection(block.text, block.page, reason))
        self.group = None
        self.dropping = True
        self.tentative = False

    def _new_group(self, node_id: str, section: str, occurrence: int) -> None:
        self.group = _Group(node_id, section, occurrence)
        self.groups.append(self.group)
        self.dropping = False

    def _add(self, block: Block) -> None:
        if self.tentative:
            self._abandon_listing()
        if self.group is not None:
            self.group.blocks.append(block)
        elif self.dropping and self.unplaced:
            last = self.unplaced[-1]
            self.unplaced[-1] = UnplacedSection(last.heading, last.page, last.reason, last.dropped + 1)
        else:
            if self.part is None:
                self.part = _Part("intro", "", block.page, explicit=False)
                self.parts.append(self.part)
            if self.part.page is None:
                self.part.page = block.page
            self._in_part(block)


def attach(document: ReadDocument, tree: PlanTree, version_label: str) -> tuple[list[Passage], DocumentReport]:
    """Passages of one document and its report. Raises `DocumentError` when nothing could be placed."""
    walk = _Walk(tree, HeadingMatcher(tree))
    blocks, contents_pages = strip_contents(document.blocks)
    index = 0
    while index < len(blocks):
        joined = _wrapped_heading(walk, blocks[index], blocks[index + 1] if index + 1 < len(blocks) else None)
        walk.feed(joined or blocks[index])
        index += 2 if joined else 1
    passages: list[Passage] = []
    source = PassageSource(version_label, document.path.name)
    groups: list[tuple[str, str, int, int | None, int]] = []  # node, section, first passage, page, occurrence
    for group in walk.groups:
        if group.blocks:
            found = passages_for_group(group.node_id, group.section, group.blocks, source, len(passages))
            groups.append((group.node_id, group.section, len(found), group.blocks[0].page, group.occurrence))
            passages += found
    parts = [DocumentPart(p.kind, p.heading, p.page, p.last_page, p.blocks) for p in walk.parts if p.blocks]
    report = build_report(document, tree, walk.occurrences, walk.unplaced, walk.differences, passages,
                          groups, parts, contents_pages)
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
