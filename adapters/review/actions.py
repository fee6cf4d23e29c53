"""What a reviewer changes on a logged answer: status, note, and a corrected answer that gets approved."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.intents import clean_question
from bot.service import PlanBot
from bot.store.approved import ApprovedAnswers
from bot.store.db import Database
from bot.store.models import AnswerRecord, ApprovedAnswerRecord, FeedbackRecord, ReviewAudit, utcnow
from knowledge.tree import PlanTree

STATUS_ACTIONS = {"reviewed": "reviewed", "flag": "flagged", "reopen": "unreviewed", "no_action": "no_action"}
MAX_NOTE_CHARS = 4000
MAX_ANSWER_CHARS = 8000


def one_line_ending(text: str) -> str:
    """Browsers send a textarea's line breaks as CRLF: stored text uses "\n" only."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


class CorrectionError(ValueError):
    """The corrected answer was refused (empty text, unknown citation ids); the message is for the reviewer."""


@dataclass(frozen=True)
class FeedbackView:
    """One user's feedback on an answer, as the detail page shows it (user hash shortened)."""

    value: str
    note: str | None
    user: str
    updated_at: object
    reason: str | None = None


def _audit(session: Session, answer_id: int, reviewer: str, field: str, old: str | None, new: str | None) -> None:
    """Keep who changed what and when; unchanged values are not a change."""
    if old != new:
        session.add(ReviewAudit(answer_id=answer_id, reviewer=reviewer, field=field, old_value=old, new_value=new))


def audit_for(database: Database, answer_id: int) -> list[ReviewAudit]:
    """Every reviewer change on one answer, oldest first."""
    with database.session() as session:
        return list(session.scalars(select(ReviewAudit).where(ReviewAudit.answer_id == answer_id)
                                    .order_by(ReviewAudit.id)))


def set_status(database: Database, answer_id: int, action: str, reviewer: str) -> bool:
    """Mark reviewed / flag / reopen. False when there is no such answer or action."""
    status = STATUS_ACTIONS.get(action)
    if status is None:
        return False
    with database.session() as session:
        row = session.get(AnswerRecord, answer_id)
        if row is None:
            return False
        _audit(session, answer_id, reviewer, "status", row.review_status, status)
        row.review_status = status
        row.reviewer = reviewer
        row.reviewed_at = utcnow()
        return True


def set_note(database: Database, answer_id: int, note: str, reviewer: str) -> bool:
    """Replace the reviewer note (an empty note clears it). False when there is no such answer."""
    with database.session() as session:
        row = session.get(AnswerRecord, answer_id)
        if row is None:
            return False
        new_note = one_line_ending(note).strip()[:MAX_NOTE_CHARS] or None
        _audit(session, answer_id, reviewer, "note", row.review_note, new_note)
        row.review_note = new_note
        row.reviewer = reviewer
        return True


def parse_citation_ids(raw: str, tree: PlanTree) -> list[str]:
    """`"3.2.2, 1.1"` → `["3.2.2", "1.1"]` (order kept, duplicates dropped); unknown ids raise."""
    ids = list(dict.fromkeys(part for part in re.split(r"[\s,、，]+", raw.strip()) if part))
    unknown = [node_id for node_id in ids if node_id not in tree]
    if unknown:
        raise CorrectionError(f"計画にない引用IDです: {', '.join(unknown)}")
    return ids


def save_correction(database: Database, approved: ApprovedAnswers, planbot: PlanBot, answer_id: int,
                    text: str, citations_raw: str, reviewer: str) -> int | None:
    """Store the corrected answer on the log row, mark it reviewed, and approve it for reuse.

    Returns the approved answer's id, or None when there is no such logged answer.
    """
    answer_text = one_line_ending(text).strip()
    if not answer_text:
        raise CorrectionError("修正後の回答を入力してください。")
    if len(answer_text) > MAX_ANSWER_CHARS:
        raise CorrectionError(f"修正後の回答は{MAX_ANSWER_CHARS}文字以内にしてください。")
    citations = parse_citation_ids(citations_raw, planbot.tree)
    with database.session() as session:
        row = session.get(AnswerRecord, answer_id)
        if row is None:
            return None
        question = row.question
    # Embed the question as the assistant will when it looks for a match.
    matched_text = clean_question(question, planbot.settings.max_question_chars).text or question
    embedding = [float(x) for x in planbot.embedder.embed_query(matched_text)]
    approved_id = approved.add(matched_text, embedding, answer_text, citations, reviewer, source_answer_id=answer_id)
    with database.session() as session:
        row = session.get(AnswerRecord, answer_id)
        if row is not None:
            _audit(session, answer_id, reviewer, "correction", _correction_text(row.corrected_answer,
                                                                                 row.corrected_citations),
                   _correction_text(answer_text, citations))
            _audit(session, answer_id, reviewer, "approved", None, f"承認済み回答 #{approved_id}")
            _audit(session, answer_id, reviewer, "status", row.review_status, "reviewed")
            row.corrected_answer = answer_text
            row.corrected_citations = citations
            row.reviewer = reviewer
            row.reviewed_at = utcnow()
            row.review_status = "reviewed"
    return approved_id


def approved_answer(database: Database, approved_id: int) -> ApprovedAnswerRecord | None:
    """One approved answer (active or retired)."""
    with database.session() as session:
        return session.get(ApprovedAnswerRecord, approved_id)


def audit_retired(database: Database, approved_id: int, reviewer: str) -> None:
    """A retired approved answer shows in the audit trail of the answer it was corrected from."""
    with database.session() as session:
        approved = session.get(ApprovedAnswerRecord, approved_id)
        source = approved.source_answer_id if approved else None
        if source is not None and session.get(AnswerRecord, source) is not None:
            _audit(session, source, reviewer, "approved", f"承認済み回答 #{approved_id}", "取り下げ")


def _correction_text(text: str | None, citations: list[str] | None) -> str | None:
    if text is None:
        return None
    return f"{text}\n（引用: {' '.join(citations or []) or 'なし'}）"


def feedback_for(database: Database, answer_id: int) -> list[FeedbackView]:
    """Every user's feedback on an answer, newest first."""
    with database.session() as session:
        rows = session.scalars(select(FeedbackRecord).where(FeedbackRecord.answer_id == answer_id)
                               .order_by(FeedbackRecord.updated_at.desc())).all()
        return [FeedbackView(r.value, r.note, r.user_hash[:8], r.updated_at, r.reason) for r in rows]
