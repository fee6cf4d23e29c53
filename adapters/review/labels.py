"""What the communications team reads instead of codes: statuses, channels, answer kinds, modes, the core's
reasons, 👎 reasons. The words live in data/labels.toml."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.store.answer_log import FEEDBACK_REASONS

LABELS_FILE = Path(__file__).with_name("data") / "labels.toml"
OTHER = "その他"


def _load(path: Path) -> dict[str, Any]:
    with path.open("rb") as handle:
        return tomllib.load(handle)


_DATA = _load(LABELS_FILE)
STATUS_LABELS: dict[str, str] = dict(_DATA["status"])
CHANNEL_LABELS: dict[str, str] = dict(_DATA["channel"])
KIND_LABELS: dict[str, str] = dict(_DATA["kind"])
MODE_LABELS: dict[str, str] = dict(_DATA["mode"])
FALLBACK_LABELS: dict[str, str] = dict(_DATA["fallback"])
AUDIT_FIELD_LABELS: dict[str, str] = dict(_DATA["audit_field"])
FEEDBACK_LABELS: dict[str, str] = dict(_DATA["feedback"])
SCORE_LABELS: dict[str, str] = dict(_DATA["score"])
REASON_LABELS = FEEDBACK_REASONS
#: Per HTTP status ("401", …, "other"): the error page's title, text and the label of its way back.
ERROR_COPY: dict[str, dict[str, str]] = {status: dict(copy) for status, copy in _DATA["error"].items()}
_REASONS = [(re.compile(entry["code"]), str(entry["text"])) for entry in _DATA["reason"]]


def label(mapping: dict[str, str], code: str | None) -> str:
    """The Japanese label of a code; an unknown code reads 「その他（code）」, never the bare code."""
    if code is None:
        return ""
    return mapping.get(code) or f"{OTHER}（{code}）"


@dataclass(frozen=True)
class ReasonPart:
    """One part of the core's reason: the sentence a reviewer reads, and the code it came from."""

    text: str
    code: str
    known: bool


def explain_reason(reason: str | None) -> list[ReasonPart]:
    """The core's reason (`P(lookup|chit-chat)=0.84`, `the plan covers it`, parts joined by "; ") in words."""
    parts = [part.strip() for part in (reason or "").split(";") if part.strip()]
    return [_explain(part) for part in parts]


def _explain(part: str) -> ReasonPart:
    for pattern, text in _REASONS:
        found = pattern.fullmatch(part)
        if found is not None:
            values = {name: _percent(value) for name, value in found.groupdict().items()}
            return ReasonPart(text.format(**values), part, True)
    return ReasonPart("この判断の説明はまだ用意されていません。", part, False)


def _percent(value: str | None) -> str:
    try:
        return f"{float(value or '') * 100:.0f}%"
    except ValueError:
        return str(value)
