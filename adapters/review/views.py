"""Templates and the view models the review pages render (autoescaped Jinja2, times in JST)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader
from starlette.templating import Jinja2Templates

from adapters.line.flex import walk
from adapters.review.actions import FeedbackView
from adapters.review.auth import ReviewSession
from adapters.review.labels import (
    AUDIT_FIELD_LABELS,
    CHANNEL_LABELS,
    FALLBACK_LABELS,
    FEEDBACK_LABELS,
    KIND_LABELS,
    MODE_LABELS,
    REASON_LABELS,
    SCORE_LABELS,
    STATUS_LABELS,
    explain_reason,
    label,
)
from adapters.review.queries import CHANNELS, STATUSES, to_jst
from bot.store.models import AnswerRecord, ApprovedAnswerRecord
from knowledge.tree import PlanTree

TEMPLATES_DIR = Path(__file__).with_name("templates")
# The pages run no script at all: even a missed escape could not execute anything.
SECURITY_HEADERS = {
    "Content-Security-Policy": ("default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
                                "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}

def _jst(moment: datetime | None) -> str:
    return "" if moment is None else to_jst(moment).strftime("%Y-%m-%d %H:%M")


def _start(text: str, length: int = 60) -> str:
    """The first words of an answer, on one line."""
    flat = " ".join(text.split())
    return flat if len(flat) <= length else flat[: length - 1] + "…"


def _percent(rate: float | None) -> str:
    return "–" if rate is None else f"{rate * 100:.1f}%"


def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES_DIR), autoescape=True, trim_blocks=True,
                      lstrip_blocks=True)
    env.filters["jst"] = _jst
    env.filters["start"] = _start
    env.filters["percent"] = _percent
    env.globals.update(STATUS_LABELS=STATUS_LABELS, CHANNEL_LABELS=CHANNEL_LABELS, CHANNELS=CHANNELS,
                       STATUSES=STATUSES, REASON_LABELS=REASON_LABELS, KIND_LABELS=KIND_LABELS,
                       AUDIT_FIELD_LABELS=AUDIT_FIELD_LABELS, FEEDBACK_LABELS=FEEDBACK_LABELS,
                       MODE_LABELS=MODE_LABELS, FALLBACK_LABELS=FALLBACK_LABELS, SCORE_LABELS=SCORE_LABELS,
                       label=label)
    return env


templates = Jinja2Templates(env=_environment())


def render(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    """Render a page; every page gets the signed-in reviewer and the session's CSRF token."""
    session: ReviewSession | None = getattr(request.state, "review_session", None)
    context = {"reviewer": session.reviewer if session else None, "csrf": session.csrf if session else "",
               **context}
    response = templates.TemplateResponse(request, name, context, status_code=status_code)
    response.headers.update(SECURITY_HEADERS)
    return response


@dataclass(frozen=True)
class CitedNode:
    """A citation as the page shows it: id and 柱 › 政策 › 施策 breadcrumb."""

    id: str
    breadcrumb: str


@dataclass(frozen=True)
class ScoreRow:
    """One retrieval hit with its scores."""

    id: str
    breadcrumb: str
    score: float
    dense: float
    lexical: float


def breadcrumb(tree: PlanTree | None, node_id: str, fallback: str = "") -> str:
    """The node's breadcrumb from the tree, or what was stored when the tree is unavailable."""
    if tree is not None and node_id in tree:
        return tree.breadcrumb(node_id)
    return fallback or "（計画にないID）"


def shown_text(row: AnswerRecord) -> str:
    """The logged answer text, then its 出典 lines with ids and paths (what the page lists for every channel;
    the LINE or Slack payload as sent is shown beside it by `shown_payload`)."""
    citations = [f"・{c.get('id', '')} {c.get('path', '')}" for c in row.citations or []]
    if not citations:
        return row.answer_text
    label = "Sources" if row.answer_text.isascii() else "出典"
    return "\n\n".join([row.answer_text, "\n".join([f"{label}:", *citations])])


def cited(tree: PlanTree | None, row: AnswerRecord) -> list[CitedNode]:
    """The answer's citations with breadcrumbs."""
    return [CitedNode(str(c.get("id", "")), breadcrumb(tree, str(c.get("id", "")), str(c.get("path", ""))))
            for c in row.citations or []]


def corrected(tree: PlanTree | None, ids: list[str]) -> list[CitedNode]:
    """Citation ids of a correction with breadcrumbs."""
    return [CitedNode(node_id, breadcrumb(tree, node_id)) for node_id in ids]


def scores(tree: PlanTree | None, row: AnswerRecord) -> list[ScoreRow]:
    """The retrieval hits stored with the answer."""
    return [ScoreRow(str(h.get("id", "")), breadcrumb(tree, str(h.get("id", ""))), float(h.get("score", 0.0)),
                     float(h.get("dense", 0.0)), float(h.get("lexical", 0.0))) for h in row.retrieval or []]


def plan_nodes(tree: PlanTree | None) -> list[CitedNode]:
    """Every citable node with its breadcrumb (the reference list beside the correction form)."""
    if tree is None:
        return []
    return [CitedNode(node.id, tree.breadcrumb(node.id)) for node in tree]


@dataclass(frozen=True)
class ShownPayload:
    """What the channel sent, as stored: its texts and buttons in order, and the raw JSON."""

    channel: str
    texts: list[str]
    buttons: list[str]
    raw: str


def _line_payload(messages: list[dict[str, Any]]) -> tuple[list[str], list[str]]:
    """The texts and the button labels of LINE messages as sent: text messages, the texts of a Flex bubble, its
    buttons and the quick replies."""
    texts: list[str] = []
    buttons: list[str] = []
    for message in messages:
        if message.get("type", "text") == "text":
            texts.append(str(message.get("text", "")))
        for component in walk(message.get("contents")) if message.get("type") == "flex" else ():
            action = component.get("action")
            if component.get("type") in ("text", "span") and component.get("text"):
                texts.append(str(component["text"]))
            elif component.get("type") == "button" and isinstance(action, dict):
                buttons.append(str(action.get("label", "")))
        buttons += [str((i.get("action") or {}).get("label", ""))
                    for i in (message.get("quickReply") or {}).get("items") or []]
    return texts, buttons


def _slack_payload(blocks: list[dict[str, Any]]) -> tuple[list[str], list[str]]:
    texts: list[str] = []
    buttons: list[str] = []
    for block in blocks:
        if isinstance(block.get("text"), dict):
            texts.append(str(block["text"].get("text", "")))
        for element in block.get("elements") or []:
            text = element.get("text")
            if element.get("type") == "button" and isinstance(text, dict):
                buttons.append(str(text.get("text", "")))
            elif isinstance(text, str):
                texts.append(text)
    return texts, buttons


def shown_payload(row: AnswerRecord) -> ShownPayload | None:
    """The stored payload (LINE messages or Slack blocks) as the page shows it; None for other channels."""
    rendered = row.rendered or {}
    if isinstance(rendered.get("line"), list):
        texts, buttons = _line_payload(rendered["line"])
        channel = "LINE"
    elif isinstance(rendered.get("slack"), list):
        texts, buttons = _slack_payload(rendered["slack"])
        channel = "Slack"
    else:
        return None
    return ShownPayload(channel, texts, buttons, json.dumps(rendered, ensure_ascii=False, indent=2))


def detail_context(row: AnswerRecord, tree: PlanTree | None, feedback: list[FeedbackView],
                   form_text: str | None = None, form_citations: str | None = None,
                   error: str | None = None, saved: bool = False) -> dict[str, Any]:
    """Everything the detail page shows for one logged answer."""
    default_ids = row.corrected_citations or [str(c.get("id", "")) for c in row.citations or []]
    return {
        "row": row,
        "shown_text": shown_text(row),
        "shown_payload": shown_payload(row),
        "cited": cited(tree, row),
        "scores": scores(tree, row),
        "reason_parts": explain_reason(row.reason),
        "corrected_cited": corrected(tree, row.corrected_citations or []),
        "feedback": feedback,
        "nodes": plan_nodes(tree),
        "form_text": form_text if form_text is not None else (row.corrected_answer or row.answer_text),
        "form_citations": form_citations if form_citations is not None else " ".join(default_ids),
        "error": error,
        "saved": saved,
    }


def approved_rows(tree: PlanTree | None, rows: list[ApprovedAnswerRecord]) -> list[dict[str, Any]]:
    """Approved answers with their citations' breadcrumbs."""
    return [{"row": row, "cited": corrected(tree, list(row.citations or []))} for row in rows]
