"""LINE postbacks the bot sends and reads back: 👍/👎, why 👎, and 「市役所に問い合わせる」. Pure functions.

Postback data is a short query string (LINE allows 300 characters): `a=fb&v=down&id=12`,
`a=why&r=unclear&id=12`, `a=contact&n=3.2.2`. Anything else is ignored, never trusted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode

from bot.store.answer_log import FEEDBACK_REASONS

MAX_DATA_CHARS = 300
REASON_LABELS = FEEDBACK_REASONS
CONTACT_LABEL = "市役所に問い合わせる"
HELPFUL_LABEL = "👍 役に立った"
WRONG_LABEL = "👎 違う・足りない"
_NODE_ID = re.compile(r"^(?:\d(?:\.\d{1,2}){0,2}|[a-z]+(?:\.\d)?)$")

THANKS_UP = "ありがとうございます。今後の改善に役立てます。"
ASK_WHY = "ご意見ありがとうございます。どこが違いましたか？ 当てはまるものを選んでください。"
ASK_NOTE = ("ありがとうございます。よろしければ、どこが違ったかを{minutes}分以内に文章で送ってください。"
            "市の担当者が確認します。")
THANKS_NOTE = ("ご意見ありがとうございます。市の担当者が確認します。"
               "（ご質問のつもりでしたら、お手数ですがもう一度お送りください。）")
EXPIRED = "この回答への評価は受け付けられませんでした。お手数ですが、もう一度ご質問ください。"


@dataclass(frozen=True, slots=True)
class Feedback:
    """👍 or 👎 on a logged answer."""

    answer_id: int
    value: str


@dataclass(frozen=True, slots=True)
class Reason:
    """Why the user gave 👎."""

    answer_id: int
    reason: str


@dataclass(frozen=True, slots=True)
class ContactRequest:
    """「市役所に問い合わせる」, with the node the answer was about (None: the city-wide contact)."""

    node_id: str | None


Postback = Feedback | Reason | ContactRequest


def feedback_data(answer_id: int, value: str) -> str:
    """The data of a 👍/👎 button."""
    return urlencode({"a": "fb", "v": value, "id": answer_id})


def reason_data(answer_id: int, reason: str) -> str:
    """The data of a "why 👎" button."""
    return urlencode({"a": "why", "r": reason, "id": answer_id})


def contact_data(node_id: str | None) -> str:
    """The data of the 「市役所に問い合わせる」 button."""
    return urlencode({"a": "contact", "n": node_id or ""})


def parse_postback(data: str) -> Postback | None:
    """The postback the bot sent, or None for data it did not send (or that was tampered with)."""
    if not data or len(data) > MAX_DATA_CHARS:
        return None
    fields = {key: values[0] for key, values in parse_qs(data, keep_blank_values=True).items()}
    action = fields.get("a")
    if action == "contact":
        node = fields.get("n") or None
        return ContactRequest(node if node and _NODE_ID.match(node) else None)
    answer_id = _answer_id(fields.get("id"))
    if answer_id is None:
        return None
    if action == "fb" and fields.get("v") in ("up", "down"):
        return Feedback(answer_id, fields["v"])
    if action == "why" and fields.get("r") in FEEDBACK_REASONS:
        return Reason(answer_id, fields["r"])
    return None


def _answer_id(raw: str | None) -> int | None:
    if raw is None or not raw.isascii() or not raw.isdigit() or len(raw) > 18:
        return None
    value = int(raw)
    return value if value > 0 else None
