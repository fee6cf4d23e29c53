"""initial schema

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-25 16:28:51.134004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.store.models

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "answer_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("created_at", bot.store.models.UTCDateTime(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("user_hash", sa.String(length=64), nullable=True),
        sa.Column("event_key", sa.String(length=200), nullable=True),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("answer_text", sa.Text(), nullable=False),
        sa.Column("citations", sa.JSON(), nullable=False),
        sa.Column("answerable", sa.Boolean(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("mode", sa.String(length=20), nullable=False),
        sa.Column("model", sa.String(length=120), nullable=True),
        sa.Column("latency_ms", sa.Float(), nullable=False),
        sa.Column("retrieval", sa.JSON(), nullable=False),
        sa.Column("fallback_reason", sa.String(length=40), nullable=True),
        sa.Column("token_usage", sa.JSON(), nullable=False),
        sa.Column("approved_answer_id", sa.Integer(), nullable=True),
        sa.Column("feedback", sa.String(length=8), nullable=True),
        sa.Column("feedback_down", sa.Integer(), nullable=False),
        sa.Column("feedback_up", sa.Integer(), nullable=False),
        sa.Column("review_status", sa.String(length=16), nullable=False),
        sa.Column("reviewer", sa.String(length=80), nullable=True),
        sa.Column("review_note", sa.Text(), nullable=True),
        sa.Column("corrected_answer", sa.Text(), nullable=True),
        sa.Column("corrected_citations", sa.JSON(), nullable=False),
        sa.Column("reviewed_at", bot.store.models.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("answer_log", schema=None) as batch_op:
        batch_op.create_index("ix_answer_log_channel_created", ["channel", "created_at"], unique=False)
        batch_op.create_index("ix_answer_log_created_at", ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_answer_log_event_key"), ["event_key"], unique=False)
        batch_op.create_index("ix_answer_log_review_status", ["review_status"], unique=False)
        batch_op.create_index(batch_op.f("ix_answer_log_user_hash"), ["user_hash"], unique=False)

    op.create_table(
        "approved_answers",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("question_embedding", sa.JSON(), nullable=False),
        sa.Column("answer_text", sa.Text(), nullable=False),
        sa.Column("citations", sa.JSON(), nullable=False),
        sa.Column("source_answer_id", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("created_at", bot.store.models.UTCDateTime(), nullable=False),
        sa.Column("retired_at", bot.store.models.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "inbox",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("event_key", sa.String(length=200), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("received_at", bot.store.models.UTCDateTime(), nullable=False),
        sa.Column("not_before", bot.store.models.UTCDateTime(), nullable=False),
        sa.Column("lease_until", bot.store.models.UTCDateTime(), nullable=True),
        sa.Column("claimed_by", sa.String(length=80), nullable=True),
        sa.Column("finished_at", bot.store.models.UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source", "event_key", name="uq_inbox_source_key"),
    )
    with op.batch_alter_table("inbox", schema=None) as batch_op:
        batch_op.create_index("ix_inbox_status_lease", ["status", "lease_until"], unique=False)

    op.create_table(
        "rate_windows",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user_hash", sa.String(length=64), nullable=False),
        sa.Column("window_start", bot.store.models.UTCDateTime(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("user_hash", "window_start", name="uq_rate_user_window"),
    )
    op.create_table(
        "reviewers",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", bot.store.models.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("answer_id", sa.Integer(), nullable=False),
        sa.Column("user_hash", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=8), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("updated_at", bot.store.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["answer_id"], ["answer_log.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("answer_id", "user_hash", name="uq_feedback_answer_user"),
    )
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_feedback_answer_id"), ["answer_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_feedback_answer_id"))

    op.drop_table("feedback")
    op.drop_table("reviewers")
    op.drop_table("rate_windows")
    with op.batch_alter_table("inbox", schema=None) as batch_op:
        batch_op.drop_index("ix_inbox_status_lease")

    op.drop_table("inbox")
    op.drop_table("approved_answers")
    with op.batch_alter_table("answer_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_answer_log_user_hash"))
        batch_op.drop_index("ix_answer_log_review_status")
        batch_op.drop_index(batch_op.f("ix_answer_log_event_key"))
        batch_op.drop_index("ix_answer_log_created_at")
        batch_op.drop_index("ix_answer_log_channel_created")

    op.drop_table("answer_log")
