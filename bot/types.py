"""The core's value types: what a channel hands in (`Question`) and what it renders (`Answer`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from bot.contacts import Contact

Channel = Literal["line", "slack", "cli", "api", "eval"]

AnswerKind = Literal[
    "plan",  # composed from retrieved plan nodes
    "structure",  # counts and lists answered exactly from the tree
    "clarify",  # the plan plausibly covers it, but which part is unclear: `candidates` to choose from
    "not_in_plan",  # 主な取組・指標・目標値・予算: decided in the 基本計画, not in the loaded text
    "out_of_scope",  # nothing in the plan covers the question
    "invalid_input",  # empty, unreadable or over-long input
    "approved",  # a reviewer-approved answer was reused
    "error",  # something failed; the user got the fixed apology
]


# What an answer stands on, so that each channel can say it its own way (the core writes no disclaimer):
Scope = Literal[
    "titles_only",  # the plan's titles alone (the 体系図): no 主な取組 or 指標 are loaded
    "document",  # quotes a loaded 基本計画 version (`plan_version`)
    "figure_absent",  # the figure asked for is not in the loaded plan (the 体系図, or the version searched)
    "structure",  # counts and lists, exact from the tree
    "outside_plan",  # the plan does not cover it
    "instruction",  # the message only tried to change the bot's rules
    "greeting",  # a greeting, thanks or 「使い方」: a friendly word and example questions
    "reviewed",  # a reviewer-approved answer was reused
    "none",  # nothing to say about the plan: unreadable or over-long input, rate limit, error
]
# How a point relates to the answer: a quoted 基本計画 passage, a line of the plan where a named term stands,
# an item a section lists, a cited node, a sibling measure of the same policy, a member of a cited policy/pillar.
PointRelation = Literal["passage", "term", "item", "cited", "sibling", "child"]


@dataclass(frozen=True, slots=True)
class Point:
    """One quoted item of an answer: its text as it stands, the node it belongs to and, for a passage of a
    loaded 基本計画, its section (主な取組, 指標, …)."""

    text: str
    node_id: str
    section: str | None = None
    relation: PointRelation = "passage"

    def public(self) -> dict[str, Any]:
        """{"id", "text", "section", "relation"} for the JSON contract."""
        return {"id": self.node_id, "text": self.text, "section": self.section, "relation": self.relation}


@dataclass(frozen=True, slots=True)
class Question:
    """One question from one user on one channel.

    `user_id` is the platform's raw id; it is only ever stored as a salted hash.
    `context` holds earlier questions of the same conversation (e.g. a Slack thread), oldest first.
    """

    text: str
    channel: Channel = "cli"
    user_id: str | None = None
    context: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Citation:
    """A plan node the answer draws on. `path` reads 柱 › 政策 › 施策.

    A passage citation (quoting a loaded 基本計画 document) also names its `section` (主な取組, 指標, …) and its
    `source`: the version's label, the file name, and the page where there is one.
    """

    id: str
    path: str
    title: str = ""
    score: float = 0.0
    section: str | None = None
    source: CitedSource | None = None

    def public(self) -> dict[str, Any]:
        """The citation as the CLI/API contract shows it: id and path; section and source only when present."""
        shown: dict[str, Any] = {"id": self.id, "path": self.path}
        if self.section is not None:
            shown["section"] = self.section
        if self.source is not None:
            shown["source"] = self.source.public()
        return shown


@dataclass(frozen=True, slots=True)
class CitedSource:
    """Where a quoted passage stands: the 基本計画 version's label, the file name, the page where there is one."""

    version: str
    file: str
    page: int | None = None

    def public(self) -> dict[str, Any]:
        """{"version", "file"} plus "page" when the format has pages."""
        shown: dict[str, Any] = {"version": self.version, "file": self.file}
        if self.page is not None:
            shown["page"] = self.page
        return shown


@dataclass(frozen=True, slots=True)
class RetrievedNode:
    """One retrieval hit with the scores that ranked it (kept for the answer log and evals)."""

    id: str
    score: float
    dense: float = 0.0
    lexical: float = 0.0


@dataclass(frozen=True, slots=True)
class Answer:
    """What every channel renders, as content: no channel prose (no contact sentence, no disclaimer).

    `text` is the whole content as plain text (the lead, the points, a structural list …), in the asker's
    language; `lead` says in one or two sentences what the plan has the city do; `points` are the quoted items;
    `scope` says what the answer stands on; `contact` is the most specific department to ask (set by the
    Assistant; the core gives the city-wide one). Renderers in adapters/ lay these out per channel.
    """

    question: str
    text: str
    answerable: bool
    citations: tuple[Citation, ...] = ()
    kind: AnswerKind = "plan"
    mode: str = "extractive"
    latency_ms: float = 0.0
    retrieved: tuple[RetrievedNode, ...] = ()
    related: tuple[str, ...] = ()
    model: str | None = None
    fallback_reason: str | None = None
    token_usage: dict[str, int] = field(default_factory=dict)
    approved_answer_id: int | None = None
    # Clarify: the nodes the user may mean. Refusals: the nearest topics, so no answer is a dead end.
    candidates: tuple[Citation, ...] = ()
    # Why the core decided as it did (answer / clarify / refuse), for the log and the evals.
    reason: str = ""
    # The 基本計画 version searched ("v0002 基本計画2026"), None with the 体系図 alone; and the passages quoted.
    plan_version: str | None = None
    quoted: tuple[tuple[str, str], ...] = ()  # (node id, the passage line as quoted)
    lead: str = ""
    points: tuple[Point, ...] = ()
    scope: Scope = "none"
    contact: Contact | None = None

    def to_public_json(self) -> dict[str, Any]:
        """The `planbot ask --json` contract: question, answer, answerable, kind, citations, candidates,
        mode, latency_ms; and (additive) lead, points, scope, contact."""
        return {
            "question": self.question,
            "answer": self.text,
            "answerable": self.answerable,
            "kind": self.kind,
            "citations": [c.public() for c in self.citations],
            "candidates": [c.public() for c in self.candidates],
            "mode": self.mode,
            "latency_ms": round(self.latency_ms, 1),
            "lead": self.lead,
            "points": [p.public() for p in self.points],
            "scope": self.scope,
            "contact": None if self.contact is None else {
                "department": self.contact.department, "phone": self.contact.phone, "url": self.contact.url,
                "id": self.contact.node_id},
        }

    def to_record(self) -> dict[str, Any]:
        """Everything, for logs and reports."""
        return asdict(self)
