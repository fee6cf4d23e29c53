"""CSV exports for the communications team: Japanese headers and values, times Excel reads as dates,
👎 reasons and notes, and no cell Excel would run as a formula. UTF-8 with a BOM, CRLF line ends."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime

from sqlalchemy import select

from adapters.review.labels import (
    AUDIT_FIELD_LABELS,
    CHANNEL_LABELS,
    KIND_LABELS,
    MODE_LABELS,
    REASON_LABELS,
    STATUS_LABELS,
    label,
)
from adapters.review.queries import ReviewFilters, filtered, to_jst
from bot.store.db import Database
from bot.store.models import AnswerRecord, FeedbackRecord, ReviewAudit

ANSWER_COLUMNS = (
    "ID", "日時（JST）", "チャネル", "利用者（匿名ID）", "質問", "回答", "引用", "回答できたか", "種別", "モード",
    "モデル", "応答時間（ミリ秒）", "👍の数", "👎の数", "👎の理由", "👎のメモ", "状態", "担当者", "メモ",
    "修正した回答", "修正後の引用",
)
AUDIT_COLUMNS = ("回答ID", "日時（JST）", "担当者", "項目", "変更前", "変更後")
#: Characters that make Excel (and LibreOffice) read a cell as a formula: CSV injection.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def excel_time(moment: datetime | None) -> str:
    """`2025-01-31 09:05:00` in JST: a layout Excel turns into a date-time value when it opens the file."""
    return "" if moment is None else to_jst(moment).strftime("%Y-%m-%d %H:%M:%S")


def safe_cell(value: object) -> object:
    """The value, with a leading apostrophe when Excel would otherwise run it as a formula."""
    if isinstance(value, str) and value[:1] in FORMULA_START:
        return "'" + value
    return value


def csv_line(values: tuple[object, ...]) -> str:
    """One CSV record (quoted as needed, CRLF)."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow([safe_cell(v) for v in values])
    return buffer.getvalue()


def _feedback_by_answer(database: Database, ids: list[int]) -> dict[int, list[FeedbackRecord]]:
    found: dict[int, list[FeedbackRecord]] = defaultdict(list)
    with database.session() as session:
        for row in session.scalars(select(FeedbackRecord).where(FeedbackRecord.answer_id.in_(ids))
                                   .order_by(FeedbackRecord.updated_at)):
            found[row.answer_id].append(row)
    return found


def answer_row(row: AnswerRecord, feedback: list[FeedbackRecord]) -> tuple[object, ...]:
    """One logged answer as the CSV shows it."""
    downs = [f for f in feedback if f.value == "down"]
    reasons = "、".join(dict.fromkeys(label(REASON_LABELS, f.reason) for f in downs if f.reason))
    notes = " / ".join(f.note for f in downs if f.note)
    return (
        row.id, excel_time(row.created_at), label(CHANNEL_LABELS, row.channel), row.user_hash or "",
        row.question, row.answer_text, " ".join(str(c.get("id", "")) for c in row.citations or []),
        "はい" if row.answerable else "いいえ", label(KIND_LABELS, row.kind), label(MODE_LABELS, row.mode),
        row.model or "", row.latency_ms, row.feedback_up, row.feedback_down, reasons, notes,
        label(STATUS_LABELS, row.review_status), row.reviewer or "", row.review_note or "",
        row.corrected_answer or "", " ".join(row.corrected_citations or []),
    )


def iter_answers_csv(database: Database, filters: ReviewFilters, batch: int = 500) -> Iterator[str]:
    """The whole filtered list (every page) as CSV text chunks: a BOM for Excel, a header, then rows."""
    yield "\ufeff" + csv_line(ANSWER_COLUMNS)
    last_id: int | None = None
    stmt = filtered(replace(filters, page=1))
    while True:
        page_stmt = stmt.order_by(AnswerRecord.id.desc()).limit(batch)
        if last_id is not None:
            page_stmt = page_stmt.where(AnswerRecord.id < last_id)
        with database.session() as session:
            rows = list(session.scalars(page_stmt))
        if not rows:
            return
        feedback = _feedback_by_answer(database, [r.id for r in rows])
        yield "".join(csv_line(answer_row(row, feedback.get(row.id, []))) for row in rows)
        last_id = rows[-1].id


def audit_row(entry: ReviewAudit) -> tuple[object, ...]:
    """One audit entry as the CSV shows it."""
    return (entry.answer_id, excel_time(entry.changed_at), entry.reviewer, label(AUDIT_FIELD_LABELS, entry.field),
            _audit_value(entry.field, entry.old_value), _audit_value(entry.field, entry.new_value))


def _audit_value(field: str, value: str | None) -> str:
    if value is None:
        return ""
    return label(STATUS_LABELS, value) if field == "status" else value


def iter_audit_csv(database: Database, answer_id: int | None = None, batch: int = 1000) -> Iterator[str]:
    """Every reviewer change (or one answer's), oldest first."""
    yield "\ufeff" + csv_line(AUDIT_COLUMNS)
    last_id = 0
    while True:
        stmt = select(ReviewAudit).where(ReviewAudit.id > last_id).order_by(ReviewAudit.id).limit(batch)
        if answer_id is not None:
            stmt = stmt.where(ReviewAudit.answer_id == answer_id)
        with database.session() as session:
            entries = list(session.scalars(stmt))
        if not entries:
            return
        yield "".join(csv_line(audit_row(e)) for e in entries)
        last_id = entries[-1].id
