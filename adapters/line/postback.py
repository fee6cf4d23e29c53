"""LINE postbacks the bot sends and reads back: 👍/👎, why 👎, "I'll write a note", a topic to ask about, and
「市役所に問い合わせる」. Pure functions.

Postback data is a short query string (LINE allows 300 characters): `a=fb&v=down&id=12`,
`a=why&r=unclear&id=12`, `a=note&id=12`, `a=ask&n=3.2.2&l=ja`, `a=contact&n=3.2.2`; `l=en` marks a button an
English answer showed, so the reply to it is in English too. Anything else is ignored, never trusted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode

from bot.intents import Language
from bot.store.answer_log import FEEDBACK_REASONS

MAX_DATA_CHARS = 300
CONTACT_LABEL = "市役所に問い合わせる"
HELPFUL_LABEL = "👍 役に立った"
WRONG_LABEL = "👎 違う・足りない"
_NODE_ID = re.compile(r"^(?:\d(?:\.\d{1,2}){0,2}|[a-z]+(?:\.\d)?)$")

WRITE_LABEL = {"ja": "✏️ 文章で伝える", "en": "✏️ Write a note"}
HELPFUL = {"ja": HELPFUL_LABEL, "en": "👍 Helpful"}
WRONG = {"ja": WRONG_LABEL, "en": "👎 Not right"}

THANKS_UP = {"ja": "ありがとうございます。今後の改善に役立てます。", "en": "Thank you. It helps us improve."}
ASK_WHY = {"ja": "ご意見ありがとうございます。どこが違いましたか？ 当てはまるものを選んでください。",
           "en": "Thank you. What was wrong? Please choose one."}
THANKS_REASON = {"ja": "ありがとうございます。市の担当者が確認します。詳しく書いていただける場合は「✏️ 文章で伝える」を"
                       "押してください。ご質問はそのまま送ってください。",
                 "en": "Thank you. City staff will review it. To tell us more, tap “✏️ Write a note”; "
                       "questions can be sent as usual."}
ASK_NOTE = {"ja": "どこが違ったかを{minutes}分以内に文章で送ってください。市の担当者が確認します。"
                  "計画についてのご質問なら、そのままお答えします。",
            "en": "Please write what was wrong within {minutes} minutes. City staff will review it. "
                  "If it is a question about the plan, I will answer it as well."}
THANKS_NOTE = {"ja": "ご意見ありがとうございます。市の担当者が確認します。",
               "en": "Thank you for your note. City staff will review it."}
EXPIRED = {"ja": "この回答への評価は受け付けられませんでした。お手数ですが、もう一度ご質問ください。",
           "en": "This rating could not be taken. Please ask your question again."}


@dataclass(frozen=True, slots=True)
class Feedback:
    """👍 or 👎 on a logged answer."""

    answer_id: int
    value: str
    language: Language = "ja"


@dataclass(frozen=True, slots=True)
class Reason:
    """Why the user gave 👎."""

    answer_id: int
    reason: str
    language: Language = "ja"


@dataclass(frozen=True, slots=True)
class ContactRequest:
    """「市役所に問い合わせる」, with the node the answer was about (None: the city-wide contact)."""

    node_id: str | None


@dataclass(frozen=True, slots=True)
class WriteNote:
    """After 👎: the citizen chose to write a note; their next message (within the window) is taken as it."""

    answer_id: int
    language: Language = "ja"


@dataclass(frozen=True, slots=True)
class Ask:
    """A topic button (a clarify option, a nearby topic, a sibling measure): ask about this node."""

    node_id: str
    language: Language = "ja"


Postback = Feedback | Reason | ContactRequest | WriteNote | Ask


def _with_language(fields: dict[str, str | int], language: Language) -> str:
    return urlencode({**fields, "l": language} if language == "en" else fields)


def feedback_data(answer_id: int, value: str, language: Language = "ja") -> str:
    """The data of a 👍/👎 button."""
    return _with_language({"a": "fb", "v": value, "id": answer_id}, language)


def reason_data(answer_id: int, reason: str, language: Language = "ja") -> str:
    """The data of a "why 👎" button."""
    return _with_language({"a": "why", "r": reason, "id": answer_id}, language)


def note_data(answer_id: int, language: Language = "ja") -> str:
    """The data of the "write a note" button."""
    return _with_language({"a": "note", "id": answer_id}, language)


def ask_data(node_id: str, language: Language = "ja") -> str:
    """The data of a topic button."""
    return _with_language({"a": "ask", "n": node_id}, language)




def contact_data(node_id: str | None) -> str:
    """The data of the 「市役所に問い合わせる」 button."""
    return urlencode({"a": "contact", "n": node_id or ""})


def parse_postback(data: str) -> Postback | None:
    """The postback the bot sent, or None for data it did not send (or that was tampered with)."""
    if not data or len(data) > MAX_DATA_CHARS:
        return None
    fields = {key: values[0] for key, values in parse_qs(data, keep_blank_values=True).items()}
    action = fields.get("a")
    language: Language = "en" if fields.get("l") == "en" else "ja"
    if action == "contact":
        node = fields.get("n") or None
        return ContactRequest(node if node and _NODE_ID.match(node) else None)
    if action == "ask":
        node = fields.get("n") or ""
        return Ask(node, language) if _NODE_ID.match(node) else None
    answer_id = _answer_id(fields.get("id"))
    if answer_id is None:
        return None
    if action == "fb" and fields.get("v") in ("up", "down"):
        return Feedback(answer_id, fields["v"], language)
    if action == "why" and fields.get("r") in FEEDBACK_REASONS:
        return Reason(answer_id, fields["r"], language)
    if action == "note":
        return WriteNote(answer_id, language)
    return None


def _answer_id(raw: str | None) -> int | None:
    if raw is None or not raw.isascii() or not raw.isdigit() or len(raw) > 18:
        return None
    value = int(raw)
    return value if value > 0 else None
