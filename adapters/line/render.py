"""Phone-sized LINE replies: the reply type, text utilities and the fixed replies. Pure functions: no I/O.

LINE shows text literally (no Markdown), caps a text message at 5000 UTF-16 code units and a reply at
5 messages, and allows 13 quick-reply buttons with labels of at most 20 characters. Answers are Flex bubbles
(adapters/line/bubbles.py) with these plain texts as their fallback.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from adapters.answer_text import REASON_LABELS
from adapters.line.postback import ASK_WHY, WRITE_LABEL, note_data, reason_data
from bot.intents import Language

MAX_TEXT_UNITS = 5000
MAX_MESSAGES = 5
MAX_QUICK_REPLIES = 13
MAX_LABEL_UNITS = 20
MAX_QUICK_TEXT_UNITS = 300
ELLIPSIS = "…"

TRUNCATED_NOTE = {
    "ja": "…（長いため、ここから先は省略しました）",
    "en": "… (the rest was cut because it is too long)",
}
EXAMPLE_QUESTIONS = ("冬の除雪はどうなる？", "子育ての支援は？", "空き家対策について")

TEXT_PLEASE = (
    "メッセージありがとうございます。スタンプや画像、位置情報などにはお答えできません。"
    "青森市総合計画について知りたいことを、文章で送ってください。（例：「冬の除雪はどうなる？」）"
)


@dataclass(frozen=True, slots=True)
class QuickButton:
    """One quick-reply button: tapping it sends `text` as the user's next message.

    With `data` it is a postback instead: LINE sends `data` to the bot and shows `text` in the chat.
    With `uri` it opens that address (https:// or tel:).
    """

    label: str
    text: str
    data: str = ""
    uri: str = ""


@dataclass(frozen=True, slots=True)
class LineReply:
    """What one LINE reply carries: plain texts, or a Flex bubble with those texts as its fallback.

    `before`: short texts sent ahead of the bubble (e.g. thanks for a note). The quick-reply buttons go on the
    last message (LINE shows only the last one's).
    """

    texts: tuple[str, ...]
    quick: tuple[QuickButton, ...] = ()
    bubble: dict[str, Any] | None = None
    alt_text: str = ""
    before: tuple[str, ...] = field(default=())

    def with_before(self, *texts: str) -> LineReply:
        """The same reply preceded by `texts` (at most 5 messages in all)."""
        room = MAX_MESSAGES - 1 if self.bubble is not None else MAX_MESSAGES - len(self.texts)
        return LineReply(self.texts, self.quick, self.bubble, self.alt_text, (*texts, *self.before)[:max(room, 0)])


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


def reason_buttons(answer_id: int, language: Language = "ja") -> tuple[QuickButton, ...]:
    """Why 👎 (違う施策 / 情報が足りない / 分かりにくい / その他) and "write a note", as postbacks."""
    labels = REASON_LABELS[language]
    reasons = tuple(QuickButton(label, label, reason_data(answer_id, reason, language))
                    for reason, label in labels.items())
    return (*reasons, write_button(answer_id, language))


def write_button(answer_id: int, language: Language = "ja") -> QuickButton:
    """「✏️ 文章で伝える」: the citizen chooses to write a note (only then is a message taken as one)."""
    return QuickButton(WRITE_LABEL[language], WRITE_LABEL[language], note_data(answer_id, language))


def ask_why(answer_id: int, language: Language = "ja") -> LineReply:
    """The reply to 👎: what was wrong, as buttons."""
    return LineReply((ASK_WHY[language],), reason_buttons(answer_id, language))


def quick_buttons(questions: Iterable[str]) -> tuple[QuickButton, ...]:
    """Up to 13 distinct buttons sending these questions; labels ≤ 20 and texts ≤ 300 UTF-16 units."""
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


def fit_messages(body: str, language: Language, limit: int = MAX_TEXT_UNITS,
                 max_messages: int = MAX_MESSAGES) -> tuple[str, ...]:
    """`body` in at most `max_messages` texts; cut, with a note saying so, if it must be."""
    whole = split_text(body, limit)
    if len(whole) <= max_messages:
        return tuple(whole)
    kept = whole[:max_messages]
    note = TRUNCATED_NOTE[language]
    kept[-1] = cut_to_units(kept[-1], limit - utf16_units(note) - 1).rstrip() + "\n" + note
    return tuple(kept)


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
