"""The core's value types: what a channel hands in (`Question`) and what it renders (`Answer`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

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
    """What every channel renders: the text a user sees plus its citations, most relevant first."""

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

    def to_public_json(self) -> dict[str, Any]:
        """The `planbot ask --json` contract: question, answer, answerable, kind, citations, candidates,
        mode, latency_ms."""
        return {
            "question": self.question,
            "answer": self.text,
            "answerable": self.answerable,
            "kind": self.kind,
            "citations": [c.public() for c in self.citations],
            "candidates": [c.public() for c in self.candidates],
            "mode": self.mode,
            "latency_ms": round(self.latency_ms, 1),
        }

    def to_record(self) -> dict[str, Any]:
        """Everything, for logs and reports."""
        return asdict(self)
