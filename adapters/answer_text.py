"""The channel prose every renderer shares, and the plain-text rendering (CLI, the JSON `answer`). Pure functions.

The core's `Answer` holds content only; the scope note ("主な取組 and 指標 are not in the loaded plan"), the
sentence naming whom to ask and the sources are added here, per channel, from `scope`, `contact`, `citations`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from bot.contacts import Contact
from bot.intents import Language, detect_language
from bot.store.answer_log import FEEDBACK_REASONS
from bot.types import Answer, Citation
from knowledge.titles import NodeTitles

Titles = Mapping[str, NodeTitles]

SCOPE_NOTE: dict[Language, str] = {
    "ja": "※ 各施策の主な取組や指標・目標値は「基本計画」で定めるもので、ここで読み込んでいる計画（体系図）には"
          "含まれていません。",
    "en": "Note: concrete projects and indicators are set in the basic plan (基本計画), which is not part of "
          "the plan text loaded here.",
}
#: The same, short enough for a phone bubble.
SCOPE_NOTE_SHORT: dict[Language, str] = {
    "ja": "※ 具体的な取組や目標値は「基本計画」で定めるもので、この回答には含まれていません。",
    "en": "Projects and targets are in the basic plan, not loaded here.",
}
REVIEWED_NOTE: dict[Language, str] = {"ja": "（この回答は市の担当者が確認した内容です）",
                                      "en": "(This answer was reviewed by city staff.)"}
#: Why 👎, the same on LINE (quick replies) and Slack (the modal): stored code → label.
REASON_LABELS: dict[Language, dict[str, str]] = {
    "ja": dict(FEEDBACK_REASONS),
    "en": {"wrong_measure": "Wrong measure", "not_enough": "Not enough", "unclear": "Hard to follow", "other": "Other"},
}
SOURCES_LABEL: dict[Language, str] = {"ja": "出典", "en": "Sources"}
#: 「出典：…」 / "Sources: …" on one line.
SOURCES_LINE: dict[Language, str] = {"ja": "出典：", "en": "Sources: "}
_PHONE = re.compile(r"0\d{1,4}-\d{1,4}-\d{3,4}")
#: Kinds whose plain text names whom to ask, and how.
_CONTACT_SENTENCE: dict[str, dict[Language, str]] = {
    "plan": {"ja": "詳しくは{c}へお問い合わせください。", "en": "For details, please contact {c}."},
    "not_in_plan": {"ja": "最新の情報は{c}へお問い合わせください。", "en": "Please ask {c} for the latest figures."},
    "out_of_scope": {"ja": "お手数ですが、{c}または市の公式ホームページでご確認ください。",
                     "en": "For this, please contact {c} or see the city's official website."},
}


_FENCE = re.compile(r"^\s*(```|~~~).*$", re.MULTILINE)
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+", re.MULTILINE)
_BULLET = re.compile(r"^(\s*)[-*+]\s+", re.MULTILINE)
_QUOTE = re.compile(r"^\s*>\s?", re.MULTILINE)
_RULE = re.compile(r"^\s*([-*_])(\s*\1){2,}\s*$", re.MULTILINE)
_LINK = re.compile(r"\[([^\]\n]+)\]\((https?://[^)\s]+)\)")
_BOLD = re.compile(r"(\*\*|__)(.+?)\1", re.DOTALL)
_ITALIC = re.compile(r"(?<![\w*])\*(?!\s)([^*\n]+?)(?<!\s)\*(?![\w*])")
_CODE = re.compile(r"`([^`\n]*)`")
_BLANKS = re.compile(r"\n{3,}")


def plain_text(text: str) -> str:
    """Markdown turned into the plain text LINE can show (no `**`, `#`, backticks or link syntax)."""
    text = text.replace("\r\n", "\n")
    text = _RULE.sub("", text)
    text = _FENCE.sub("", text)
    text = _HEADING.sub("", text)
    text = _BULLET.sub(r"\1・", text)
    text = _QUOTE.sub("", text)
    text = _LINK.sub(r"\1（\2）", text)
    text = _BOLD.sub(r"\2", text)
    text = _ITALIC.sub(r"\1", text)
    text = _CODE.sub(r"\1", text).replace("`", "")
    text = text.replace("**", "")
    return _BLANKS.sub("\n\n", text).strip()


def answer_language(answer: Answer) -> Language:
    """The asker's language, as the core answered in it."""
    return detect_language(answer.question or answer.text)


def contact_sentence(answer: Answer, language: Language) -> str:
    """「詳しくは…へお問い合わせください。」 and the like, for the kinds that point to the city (not greetings)."""
    template = _CONTACT_SENTENCE.get(answer.kind, {}).get(language)
    if template is None or answer.contact is None or answer.scope in ("greeting", "structure"):
        return ""
    if answer.kind == "plan" and not any(c.id[:1].isdigit() for c in answer.citations):
        return ""  # the plan's own sections (将来都市像, 基本視点 …) have no department to ask
    return template.format(c=answer.contact.display)


def phone_of(contact: Contact) -> str:
    """The contact's phone number: its own column, else one written in its name (「代表 017-734-1111」)."""
    if contact.phone:
        return contact.phone
    found = _PHONE.search(contact.department)
    return found.group(0) if found else ""


def lineage(node_id: str) -> list[str]:
    """`3.2.2` → `3`, `3.2`, `3.2.2`; a section is its own only ancestor."""
    if not node_id[:1].isdigit():
        return [node_id]
    parts = node_id.split(".")
    return [".".join(parts[:n]) for n in range(1, len(parts) + 1)]


def short_title(titles: Titles, node_id: str, language: Language, fallback: str = "") -> str:
    """The node's short name (buttons, paths); `fallback` (or the id's place) when the titles file lacks it."""
    found = titles.get(node_id)
    return found.short(language) if found is not None else (fallback or node_id)


def path_in_words(titles: Titles, citation: Citation, language: Language) -> str:
    """柱 › 政策 › 施策 in short words, never an id: 「まちをデザインする › 防災・雪対策 › 雪対策」."""
    if not all(n in titles for n in lineage(citation.id)):
        return citation.path or citation.title
    return " › ".join(short_title(titles, n, language) for n in lineage(citation.id))


def scope_note(answer: Answer, language: Language, short: bool = False) -> str:
    """The note a citizen needs about what the answer stands on ("" when there is nothing to say)."""
    if answer.scope == "reviewed":
        return REVIEWED_NOTE[language]
    if answer.scope == "titles_only" and answer.kind == "plan" and any(c.id[:1].isdigit() for c in answer.citations):
        return (SCOPE_NOTE_SHORT if short else SCOPE_NOTE)[language]
    return ""


def render_plain(answer: Answer, titles: Titles) -> str:
    """The whole answer as plain text (CLI, the JSON `answer`): the content, the scope note and whom to ask, then
    the sources with their ids and paths (an English answer names each node in English, the Japanese title once)."""
    language = answer_language(answer)
    text = answer.text or answer.lead
    tail = " ".join(p for p in (scope_note(answer, language), contact_sentence(answer, language)) if p)
    parts = [text, tail] if tail else [text]
    if answer.citations:
        bullet = "- " if language == "en" else "・"
        lines = [f"{bullet}{c.id} {_source(titles, c, language)}" for c in answer.citations]
        parts.append("\n".join([f"{SOURCES_LABEL[language]}:", *lines]))
    return "\n\n".join(p for p in parts if p)


def _source(titles: Titles, citation: Citation, language: Language) -> str:
    if language != "en" or citation.id not in titles:
        return citation.path
    return f"{' › '.join(titles[n].en if n in titles else n for n in lineage(citation.id))} ({citation.title})"
