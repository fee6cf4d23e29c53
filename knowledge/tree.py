"""The plan as a typed tree: pillars (柱) › policies (政策) › measures (施策), plus the other sections."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

NodeKind = Literal["pillar", "policy", "measure", "section"]
CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩"
SECTION_IDS = (
    "plan", "vision", "viewpoints", "challenges",
    "enablers.1", "enablers.2", "enablers.3", "enablers.4", "enablers.5", "schedule",
)


@dataclass(frozen=True, slots=True)
class PlanNode:
    """One node of the plan. `items` are the bullet lines a section lists (empty for tree nodes)."""

    id: str
    kind: NodeKind
    title: str
    parent_id: str | None = None
    children: tuple[str, ...] = ()
    items: tuple[str, ...] = ()
    number: int | None = None

    @property
    def label(self) -> str:
        """The title as the plan prints it, with its number: 「政策2 災害防止・雪対策の充実」."""
        if self.kind == "policy":
            return f"政策{self.number} {self.title}"
        if self.kind == "measure" and self.number:
            return f"施策{CIRCLED[self.number - 1]} {self.title}"
        return self.title


@dataclass(frozen=True)
class PlanTree:
    """The parsed plan. Node order is document order (pillars, policies, measures, then sections)."""

    nodes: dict[str, PlanNode]
    source_name: str
    source_sha256: str
    stated_totals: dict[str, int] = field(default_factory=dict)

    def __getitem__(self, node_id: str) -> PlanNode:
        return self.nodes[node_id]

    def __contains__(self, node_id: object) -> bool:
        return node_id in self.nodes

    def __iter__(self) -> Iterator[PlanNode]:
        return iter(self.nodes.values())

    def of_kind(self, kind: NodeKind) -> list[PlanNode]:
        """All nodes of one kind, in document order."""
        return [n for n in self.nodes.values() if n.kind == kind]

    def children(self, node_id: str) -> list[PlanNode]:
        """The direct children of a node."""
        return [self.nodes[c] for c in self.nodes[node_id].children]

    def ancestors(self, node_id: str) -> list[PlanNode]:
        """The node and its ancestors, root first (pillar, policy, measure)."""
        chain: list[PlanNode] = []
        current: str | None = node_id
        while current is not None:
            node = self.nodes[current]
            chain.append(node)
            current = node.parent_id
        return list(reversed(chain))

    def breadcrumb(self, node_id: str) -> str:
        """「まちをデザインする › 政策2 災害防止・雪対策の充実 › 施策② 効果的・効率的な雪対策の推進」."""
        return " › ".join(n.label for n in self.ancestors(node_id))

    def measures_under(self, node_id: str) -> list[PlanNode]:
        """Every measure below a pillar or policy (or the measure itself)."""
        node = self.nodes[node_id]
        if node.kind == "measure":
            return [node]
        found: list[PlanNode] = []
        for child in node.children:
            found.extend(self.measures_under(child))
        return found

    def document_text(self, node_id: str) -> str:
        """What the index embeds for a node: breadcrumb, title, the titles below it, its items."""
        node = self.nodes[node_id]
        lines = [self.breadcrumb(node_id)]
        if node.kind in ("pillar", "policy"):
            lines += [child.label for child in self.children(node_id)]
        lines += list(node.items)
        return "\n".join(lines)
