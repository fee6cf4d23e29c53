"""Phone-sized LINE replies from the core's `Answer`. Pure functions: no SDK, no I/O.

LINE shows text literally (no Markdown), caps a text message at 5000 UTF-16 code units and a reply at
5 messages, and allows 13 quick-reply buttons with labels of at most 20 characters.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from adapters.answer_text import siblings_once
from adapters.line.postback import (
    CONTACT_LABEL,
    HELPFUL_LABEL,
    REASON_LABELS,
    WRONG_LABEL,
    contact_data,
    feedback_data,
    reason_data,
)
from bot.errors import APOLOGY_JA
from bot.intents import Language, detect_language
from bot.types import Answer, Citation

MAX_TEXT_UNITS = 5000
MAX_MESSAGES = 5
MAX_QUICK_REPLIES = 13
MAX_LABEL_UNITS = 20
MAX_QUICK_TEXT_UNITS = 300
MAX_CITATIONS = 5
ELLIPSIS = "…"

TRUNCATED_NOTE = {
    "ja": "…（長いため、ここから先は省略しました）",
    "en": "… (the rest was cut because it is too long)",
}
SOURCES_HEADING = {"ja": "📖 出典（青森市総合計画）", "en": "📖 Sources (青森市総合計画)"}
EXAMPLE_QUESTIONS = ("冬の除雪はどうなる？", "子育ての支援は？", "空き家対策について")

TEXT_PLEASE = (
    "メッセージありがとうございます。スタンプや画像、位置情報などにはお答えできません。"
    "青森市総合計画について知りたいことを、文章で送ってください。（例：「冬の除雪はどうなる？」）"
)


#: Kinds of answer that offer other topics and the city instead of 👍/👎, so none is a dead end.
DETOUR_KINDS = frozenset({"clarify", "out_of_scope", "not_in_plan"})
RATED_KINDS = frozenset({"plan", "structure", "approved"})
PROVISIONAL_NOTE = {"ja": "※「(仮)」は検討中の仮称です。",
                    "en": "Note: 「(仮)」 marks a provisional name still under discussion."}
_PROVISIONAL = re.compile(r"[(（]仮[)）]")
_SECTION_NUMBER = re.compile(r"\s*[(（](\d)[)）]")


@dataclass(frozen=True, slots=True)
class QuickButton:
    """One quick-reply button: tapping it sends `text` as the user's next message.

    With `data` it is a postback instead: LINE sends `data` to the bot and shows `text` in the chat.
    """

    label: str
    text: str
    data: str = ""


@dataclass(frozen=True, slots=True)
class LineReply:
    """What one LINE reply carries: 1–5 text messages; the quick-reply buttons go on the last one."""

    texts: tuple[str, ...]
    quick: tuple[QuickButton, ...] = ()


def utf16_units(text: str) -> int:
    """Length as LINE counts it: UTF-16 code units (an emoji outside the BMP counts 2)."""
    return len(text.encode("utf-16-le")) // 2


def cut_to_units(text: str, limit: int) -> str:
    """The longest prefix of `text` within `limit` UTF-16 units, never splitting a character."""
    if utf16_units(text) <= limit:
        return text
    used = 0
    for index, char in enumerate(text):
        used += 2 if ord(char) > 0xFFFF else 1
        if used > limit:
            return text[:index]
    return text


def shorten(text: str, limit: int) -> str:
    """`text` within `limit` UTF-16 units, ending in "…" when it had to be cut."""
    if utf16_units(text) <= limit:
        return text
    return cut_to_units(text, limit - 1) + ELLIPSIS


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


def split_text(text: str, limit: int = MAX_TEXT_UNITS) -> list[str]:
    """Chunks of at most `limit` UTF-16 units, split at paragraphs, then lines, then characters."""
    chunks: list[str] = []
    current = ""
    for piece in _pieces(text, limit):
        separator = piece[0]
        body = piece[1]
        candidate = f"{current}{separator}{body}" if current else body
        if utf16_units(candidate) <= limit:
            current = candidate
            continue
        if current:
            chunks.append(current)
        current = body
    if current:
        chunks.append(current)
    return chunks


def _pieces(text: str, limit: int) -> Iterable[tuple[str, str]]:
    """(separator, piece) pairs, every piece within `limit`: paragraphs, else lines, else hard cuts."""
    for paragraph in text.split("\n\n"):
        if utf16_units(paragraph) <= limit:
            yield "\n\n", paragraph
            continue
        first = True
        for line in paragraph.split("\n"):
            separator = "\n\n" if first else "\n"
            first = False
            while utf16_units(line) > limit:
                head = cut_to_units(line, limit)
                yield separator, head
                line = line[len(head):]
                separator = ""
            yield separator, line


def citizen_source(citation: Citation) -> str:
    """One source as citizens read it: `3.2.2 柱 › 政策 › 施策`; sections by name, never by internal id
    (`viewpoints` → 基本視点, `enablers.2` → 政策を実現するために(2) …)."""
    name = citation.path or citation.title
    if citation.id[:1].isdigit():
        return f"{citation.id} {name}".rstrip()
    return _SECTION_NUMBER.sub(r"(\1)", name) or citation.id


def citation_lines(citations: Sequence[Citation], language: Language) -> str:
    """The citations as a short list: each with its 柱 › 政策 › 施策 path."""
    if not citations:
        return ""
    lines = [f"・{citizen_source(c)}" for c in citations[:MAX_CITATIONS]]
    return "\n".join([SOURCES_HEADING[language], *lines])


def candidate_question(citation: Citation) -> str:
    """What tapping a candidate asks; the core resolves an exact title."""
    return f"「{citation.title or citation.path}」について教えて"


def candidate_buttons(candidates: Sequence[Citation]) -> list[QuickButton]:
    """One button per candidate topic: the label is its title, the tap asks about it."""
    buttons = []
    for citation in candidates:
        title = _SECTION_NUMBER.sub(r"(\1)", citation.title or citation.path) or citation.id
        buttons.append(QuickButton(shorten(title, MAX_LABEL_UNITS),
                                   shorten(candidate_question(citation), MAX_QUICK_TEXT_UNITS)))
    return buttons


def feedback_buttons(answer_id: int) -> list[QuickButton]:
    """👍 and 👎 as postbacks carrying the answer log id."""
    return [QuickButton(HELPFUL_LABEL, HELPFUL_LABEL, feedback_data(answer_id, "up")),
            QuickButton(WRONG_LABEL, WRONG_LABEL, feedback_data(answer_id, "down"))]


def reason_buttons(answer_id: int) -> tuple[QuickButton, ...]:
    """Why 👎: 違う施策 / 情報が足りない / 分かりにくい / その他."""
    return tuple(QuickButton(label, label, reason_data(answer_id, reason)) for reason, label in REASON_LABELS.items())


def contact_button(node_id: str | None) -> QuickButton:
    """「市役所に問い合わせる」: the bot replies with the contact for the answer's topic."""
    return QuickButton(CONTACT_LABEL, CONTACT_LABEL, contact_data(node_id))


def answer_buttons(answer: Answer, answer_id: int | None) -> tuple[QuickButton, ...]:
    """Detours (candidates + the city) for clarify and refusals; 👍/👎 + related for answers (≤ 13)."""
    if answer.kind in DETOUR_KINDS:
        topic = next((c.id for c in (*answer.candidates, *answer.citations)), None)
        buttons = candidate_buttons(answer.candidates[: MAX_QUICK_REPLIES - 1])
        buttons += [b for b in quick_buttons(answer.related) if b.text not in {x.text for x in buttons}]
        return (*buttons[: MAX_QUICK_REPLIES - 1], contact_button(topic))
    rated = feedback_buttons(answer_id) if answer_id is not None and answer.kind in RATED_KINDS else []
    related = quick_buttons(answer.related)[: MAX_QUICK_REPLIES - len(rated)]
    return (*rated, *related)


def quick_buttons(questions: Iterable[str]) -> tuple[QuickButton, ...]:
    """Up to 13 distinct buttons; labels ≤ 20 and texts ≤ 300 UTF-16 units."""
    buttons: list[QuickButton] = []
    seen: set[str] = set()
    for question in questions:
        text = " ".join(question.split())
        if not text or text in seen:
            continue
        seen.add(text)
        buttons.append(QuickButton(shorten(text, MAX_LABEL_UNITS), shorten(text, MAX_QUICK_TEXT_UNITS)))
        if len(buttons) == MAX_QUICK_REPLIES:
            break
    return tuple(buttons)


def fit_messages(body: str, tail: str, language: Language, limit: int = MAX_TEXT_UNITS,
                 max_messages: int = MAX_MESSAGES) -> tuple[str, ...]:
    """`body` then `tail` (the sources) in at most `max_messages` texts; the body is cut if it must be."""
    whole = split_text(f"{body}\n\n{tail}" if tail and body else body or tail, limit)
    if len(whole) <= max_messages:
        return tuple(whole)
    tail_chunks = split_text(tail, limit)[: max_messages - 1] if tail else []
    room = max_messages - len(tail_chunks)
    kept = split_text(body, limit)[:room] or [""]
    note = TRUNCATED_NOTE[language]
    kept[-1] = cut_to_units(kept[-1], limit - utf16_units(note) - 1).rstrip() + "\n" + note
    return (*kept, *tail_chunks)


def render_answer(answer: Answer, answer_id: int | None = None) -> LineReply:
    """The answer as LINE texts: plain body, the sources list, and quick replies (`answer_buttons`)."""
    language = detect_language(answer.question or answer.text)
    sources = citation_lines(answer.citations, language)
    measures = [c.title for c in answer.citations if c.id.count(".") == 2]
    body = plain_text(siblings_once(answer.text, measures) if len(measures) > 1 else answer.text)
    if _PROVISIONAL.search(f"{body}\n{sources}"):
        body = f"{body}\n\n{PROVISIONAL_NOTE[language]}"
    texts = fit_messages(body, sources, language)
    return LineReply(texts or (APOLOGY_JA,), answer_buttons(answer, answer_id))


def greeting(contact: str) -> LineReply:
    """Sent on `follow`: what the bot does, the disclaimer, and where to ask the city."""
    text = (
        "友だち追加ありがとうございます。\n"
        "このアカウントでは、青森市総合計画（まちづくりの計画）について、文章で質問していただくと、"
        "計画の記載をもとに「柱 › 政策 › 施策」の出典を付けてお答えします。\n\n"
        "ご利用にあたって\n"
        "・回答は計画の記載から自動で作成したもので、市の公式な見解や個別のご相談への回答ではありません。\n"
        "・お名前、住所、電話番号などの個人情報は送らないでください。\n"
        f"・ご相談・お問い合わせは{contact}へお願いします。\n\n"
        "例：「冬の除雪はどうなる？」"
    )
    return LineReply((text,), quick_buttons(EXAMPLE_QUESTIONS))


def text_please() -> LineReply:
    """Sent for stickers, images, video, audio, location and files."""
    return LineReply((TEXT_PLEASE,), quick_buttons(EXAMPLE_QUESTIONS))


def strip_mentions(text: str, spans: Iterable[tuple[int, int]]) -> str:
    """`text` without the mention spans (index, length). LINE counts them in UTF-16 units."""
    units = text.encode("utf-16-le")
    kept = bytearray()
    position = 0
    for index, length in sorted(spans):
        start, end = max(index, 0) * 2, max(index + length, 0) * 2
        if start < position:
            continue
        kept += units[position:start]
        position = end
    kept += units[position:]
    return " ".join(kept.decode("utf-16-le", errors="ignore").split())
