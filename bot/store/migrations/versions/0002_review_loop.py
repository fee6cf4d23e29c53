"""review loop: rendered payloads, the core's reason and candidates, 👎 reasons and notes, the audit trail

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 06:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.store.models

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("answer_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rendered", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("reason", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("candidates", sa.JSON(), nullable=True))
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reason", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("note_open_until", bot.store.models.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("note_event_key", sa.String(length=200), nullable=True))
        batch_op.create_index(batch_op.f("ix_feedback_note_event_key"), ["note_event_key"], unique=False)
    op.create_table(
        "review_audit",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("answer_id", sa.Integer(), nullable=False),
        sa.Column("changed_at", bot.store.models.UTCDateTime(), nullable=False),
        sa.Column("reviewer", sa.String(length=80), nullable=False),
        sa.Column("field", sa.String(length=20), nullable=False),
        sa.Column("old_value", sa.Text(), nullable=True),
        sa.Column("new_value", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["answer_id"], ["answer_log.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("review_audit", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_review_audit_answer_id"), ["answer_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("review_audit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_review_audit_answer_id"))
    op.drop_table("review_audit")
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_feedback_note_event_key"))
        batch_op.drop_column("note_event_key")
        batch_op.drop_column("note_open_until")
        batch_op.drop_column("reason")
    with op.batch_alter_table("answer_log", schema=None) as batch_op:
        batch_op.drop_column("candidates")
        batch_op.drop_column("reason")
        batch_op.drop_column("rendered")
