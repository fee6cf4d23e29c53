"""Block Kit rendering of answers, pure functions only: data in, Slack JSON out.

Everything that reaches Slack as mrkdwn goes through `defuse` first, so text a user typed (or an LLM
echoed) can never ping `@channel`, `@here`, `@everyone` or a user group, nor forge a link.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from adapters.answer_text import REASON_LABELS
from bot.intents import detect_language

SECTION_LIMIT = 3000
MAX_BLOCKS = 50
MAX_CONTEXT_ELEMENTS = 10
FALLBACK_LIMIT = 3000
BUTTON_VALUE_LIMIT = 2000

ACTION_FEEDBACK_UP = "planbot_feedback_up"
ACTION_FEEDBACK_DOWN = "planbot_feedback_down"
ACTION_SHARE = "planbot_share"
ACTION_ASK = "planbot_ask"
ACTION_CONTACT = "planbot_contact"
BUTTON_TEXT_LIMIT = 75
MAX_ASK_BUTTONS = 5
DETOUR_KINDS = frozenset({"clarify", "out_of_scope", "not_in_plan"})
CONTACT_LABEL = "市役所に問い合わせる"
FEEDBACK_VIEW = "planbot_feedback_note"
NOTE_BLOCK = "note"
NOTE_ACTION = "note"
REASON_BLOCK = "reason"
REASON_ACTION = "reason"

Block = dict[str, Any]

_BROADCAST = re.compile(r"@(channel|here|everyone)\b", re.IGNORECASE)
_USER_MENTION = re.compile(r"<@[UW][A-Z0-9]+(?:\|[^>]*)?>")
_LINK = re.compile(r"<([^<>|]+)\|([^<>]*)>|<([^<>]+)>")


@dataclass(frozen=True)
class AnswerView:
    """What one rendered staff answer shows: the lead, the points, citation ids and paths (柱 › 政策 › 施策)
    and its log id. No citizen scope note and no switchboard: a department is named only when one is on file."""

    lead: str
    citations: tuple[tuple[str, str], ...] = ()
    answer_id: int | None = None
    question: str | None = None
    related: tuple[str, ...] = ()
    kind: str = "plan"
    # Clarify choices or, for a refusal, the nearest topics: (node id, title).
    candidates: tuple[tuple[str, str], ...] = ()
    points: tuple[str, ...] = ()
    department: str = ""

    @property
    def text(self) -> str:
        """Lead and points as one plain text."""
        return "\n".join([self.lead, *(f"・{p}" for p in self.points)])


def defuse(text: str) -> str:
    """Make text safe to post as mrkdwn: escape `& < >` and break broadcast mentions.

    Escaping `<` and `>` turns `<!channel>`, `<!here>`, `<!everyone>`, `<!subteam^…>` and `<@U…>` into
    plain characters; a zero-width space after `@` stops `@channel`/`@here`/`@everyone` being expanded.
    """
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _BROADCAST.sub(lambda m: "@\u200b" + m.group(1), escaped)


def slack_to_plain(text: str) -> str:
    """A Slack message's text as the question the user typed: mentions removed, links and entities undone."""
    without_mentions = _USER_MENTION.sub(" ", text)
    unlinked = _LINK.sub(lambda m: m.group(2) or m.group(1) or _special(m.group(3)), without_mentions)
    return " ".join(html.unescape(unlinked).split())


def _special(inner: str) -> str:
    # `<!here>`-style specials carry no question text; plain `<https://…>` links keep their URL.
    return "" if inner.startswith(("!", "#", "@")) else inner


def split_sections(text: str, limit: int = SECTION_LIMIT) -> list[str]:
    """Split text into chunks of at most `limit` characters, preferring paragraph and line breaks."""
    chunks: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            if current:
                chunks.append(current)
                current = ""
            chunks.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            chunks.append(current)
            current = line
        else:
            current = candidate
    if current.strip():
        chunks.append(current)
    return [c for c in chunks if c.strip()] or [" "]


def _section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _is_english(text: str) -> bool:
    return detect_language(text) == "en"


def citation_block(citations: Sequence[tuple[str, str]], english: bool, department: str = "") -> Block | None:
    """The context block listing the cited plan nodes as `id 柱 › 政策 › 施策`, most relevant first, and the
    department in charge when the contacts file names one."""
    if not citations:
        return None
    label = "Sources" if english else "出典"
    elements = [{"type": "mrkdwn", "text": f"*{label}*"}]
    if department:
        elements.append({"type": "mrkdwn", "text": defuse(("In charge: " if english else "担当: ") + department)})
    room = MAX_CONTEXT_ELEMENTS - len(elements)
    shown = citations if len(citations) <= room else citations[: room - 1]
    for node_id, path in shown:
        elements.append({"type": "mrkdwn", "text": defuse(f"{node_id} {path}")[:SECTION_LIMIT]})
    if len(shown) < len(citations):
        more = len(citations) - len(shown)
        elements.append({"type": "mrkdwn", "text": f"+{more} more" if english else f"ほか{more}件"})
    return {"type": "context", "elements": elements}


def action_block(answer_id: int | None, english: bool, shareable: bool) -> Block | None:
    """👍 / 👎 (and, for an ephemeral answer, "share in channel") buttons carrying the answer log id."""
    if answer_id is None:
        return None
    value = str(answer_id)[:BUTTON_VALUE_LIMIT]
    helpful = "👍 Helpful" if english else "👍 役に立った"
    wrong = "👎 Not right" if english else "👎 違う・足りない"
    buttons: list[Block] = [
        {"type": "button", "action_id": ACTION_FEEDBACK_UP, "value": value,
         "text": {"type": "plain_text", "text": helpful, "emoji": True}},
        {"type": "button", "action_id": ACTION_FEEDBACK_DOWN, "value": value,
         "text": {"type": "plain_text", "text": wrong, "emoji": True}},
    ]
    if shareable:
        share = "Share in channel" if english else "チャンネルに共有"
        buttons.append({"type": "button", "action_id": ACTION_SHARE, "value": value, "style": "primary",
                        "text": {"type": "plain_text", "text": share, "emoji": True}})
    return {"type": "actions", "block_id": "planbot_feedback", "elements": buttons}


def answer_blocks(view: AnswerView, *, shareable: bool = False, shared_by: str | None = None) -> list[Block]:
    """The answer as Block Kit: optional question/sharer line, body sections, citations, buttons (≤ 50)."""
    english = _is_english(view.lead)
    head: list[Block] = []
    if shared_by is not None:
        who = f"<@{shared_by}> shared:" if english else f"<@{shared_by}> さんが共有しました"
        head.append({"type": "context", "elements": [{"type": "mrkdwn", "text": who}]})
    if view.question:
        label = "Question" if english else "質問"
        head.append(_section(f"*{label}:* {defuse(view.question)}"[:SECTION_LIMIT]))
    tail = [b for b in (detour_block(view), *related_blocks(view.related, english),
                        citation_block(view.citations, english, view.department),
                        action_block(view.answer_id, english, shareable)) if b is not None]
    room = MAX_BLOCKS - len(head) - len(tail)
    sections = split_sections(defuse(view.lead))
    if view.points:
        sections += split_sections("\n".join(f"• {defuse(p)}" for p in view.points))
    if len(sections) > room:
        sections = sections[:room]
        marker = "\n…"
        sections[-1] = sections[-1][: SECTION_LIMIT - len(marker)] + marker
    return [*head, *(_section(s) for s in sections), *tail]


def _button(action_id: str, label: str, value: str) -> Block:
    text = label if len(label) <= BUTTON_TEXT_LIMIT else label[: BUTTON_TEXT_LIMIT - 1] + "…"
    return {"type": "button", "action_id": action_id, "value": value[:BUTTON_VALUE_LIMIT],
            "text": {"type": "plain_text", "text": text, "emoji": True}}


def candidate_question(title: str) -> str:
    """What a candidate button asks; the core resolves an exact title."""
    return f"「{title}」について教えて"


def detour_block(view: AnswerView) -> Block | None:
    """Clarify and refusals: the candidate topics (each asks about itself in the thread) and the city."""
    if view.kind not in DETOUR_KINDS:
        return None
    buttons = [_button(f"{ACTION_ASK}_c{i}", f"{node_id} {title}", candidate_question(title))
               for i, (node_id, title) in enumerate(view.candidates[:MAX_ASK_BUTTONS])]
    topic = view.candidates[0][0] if view.candidates else (view.citations[0][0] if view.citations else "")
    buttons.append(_button(ACTION_CONTACT, CONTACT_LABEL, topic))
    return {"type": "actions", "block_id": "planbot_detours", "elements": buttons}


def related_blocks(related: Sequence[str], english: bool) -> list[Block]:
    """関連する質問 as buttons under a label; a click asks that question in the thread."""
    if not related:
        return []
    label = "Related questions" if english else "関連する質問"
    buttons = [_button(f"{ACTION_ASK}_r{i}", question, question)
               for i, question in enumerate(related[:MAX_ASK_BUTTONS])]
    return [{"type": "context", "elements": [{"type": "mrkdwn", "text": label}]},
            {"type": "actions", "block_id": "planbot_related", "elements": buttons}]


_MARKUP = re.compile(r"[*_~`]")


def fallback_text(view: AnswerView) -> str:
    """The message's top-level `text` (notifications, screen readers): the lead in plain words, no mrkdwn
    markers, and its first source."""
    text = " ".join(view.lead.split())
    if view.citations:
        node_id, path = view.citations[0]
        text = f"{text} ({node_id} {path})"
    safe = _MARKUP.sub("", defuse(text))
    return safe if len(safe) <= FALLBACK_LIMIT else safe[: FALLBACK_LIMIT - 1] + "…"


def feedback_modal(answer_id: int, channel: str | None, thread_ts: str | None, english: bool = False) -> Block:
    """The 👎 modal: the same reasons as LINE and a free-text note (either is enough); the answer id rides in
    private_metadata."""
    metadata = json.dumps({"answer_id": answer_id, "channel": channel, "thread_ts": thread_ts})
    title = "What was wrong?" if english else "どこが違いましたか"
    prompt = ("Tell us what was wrong or missing. City staff review this." if english
              else "回答の誤りや足りない点を教えてください。市の担当者が確認します。")
    return {
        "type": "modal",
        "callback_id": FEEDBACK_VIEW,
        "private_metadata": metadata,
        "title": {"type": "plain_text", "text": title[:24]},
        "submit": {"type": "plain_text", "text": "Send" if english else "送信"},
        "close": {"type": "plain_text", "text": "Cancel" if english else "キャンセル"},
        "blocks": [{
            "type": "input", "block_id": REASON_BLOCK, "optional": True,
            "label": {"type": "plain_text", "text": "What kind of problem?" if english else "当てはまるもの"},
            "element": {"type": "radio_buttons", "action_id": REASON_ACTION, "options": [
                {"text": {"type": "plain_text", "text": label}, "value": code}
                for code, label in REASON_LABELS["en" if english else "ja"].items()]},
        }, {
            "type": "input", "block_id": NOTE_BLOCK, "optional": True,
            "label": {"type": "plain_text", "text": prompt},
            "element": {"type": "plain_text_input", "action_id": NOTE_ACTION, "multiline": True,
                        "max_length": 2000},
        }],
    }


def parse_answer_id(value: object) -> int | None:
    """The answer log id carried in a button value or modal metadata, or None if it is not one."""
    if isinstance(value, int) and value > 0:
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 19:
        parsed = int(value)
        return parsed if parsed > 0 else None
    return None


def modal_answer_id(private_metadata: str) -> int | None:
    """The answer id stored in the feedback modal's private_metadata."""
    try:
        data = json.loads(private_metadata or "{}")
    except ValueError:
        return None
    return parse_answer_id(data.get("answer_id")) if isinstance(data, dict) else None


def thanks_text(value: str, english: bool = False) -> str:
    """The ephemeral acknowledgement of a feedback click."""
    if english:
        return "Thank you for your feedback." if value == "up" else "Thank you. We will review this answer."
    if value == "up":
        return "フィードバックありがとうございます。"
    return "ありがとうございます。担当者が回答を確認します。"
