"""What the communications team reads instead of codes: channels, statuses, answer kinds, 👎 reasons."""

from __future__ import annotations

from bot.store.answer_log import FEEDBACK_REASONS

STATUS_LABELS = {"unreviewed": "未確認", "reviewed": "確認済み", "flagged": "要対応"}
CHANNEL_LABELS = {"line": "LINE", "slack": "Slack", "api": "API", "cli": "CLI", "eval": "eval"}
REASON_LABELS = FEEDBACK_REASONS
KIND_LABELS = {"plan": "回答", "structure": "回答（構成）", "approved": "承認済み回答", "clarify": "聞き返し",
               "not_in_plan": "計画に記載なし", "out_of_scope": "対象外", "invalid_input": "入力の問題",
               "error": "エラー"}
AUDIT_FIELD_LABELS = {"status": "状態", "note": "メモ", "correction": "修正した回答", "approved": "承認済み回答"}
FEEDBACK_LABELS = {"up": "👍", "down": "👎"}


def label(mapping: dict[str, str], code: str | None) -> str:
    """The Japanese label of a code, or the code itself when it has none."""
    return "" if code is None else mapping.get(code, code)
