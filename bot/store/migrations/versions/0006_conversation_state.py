"""conversation_state: what a chat remembers between one citizen's messages

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 09:00:00

The day the 体系図 scope note was last shown to a user (at most once a day), and the options of the last
clarify answer (so that a reply of 「2」 picks option 2).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.store.models

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "conversation_state",
        sa.Column("user_hash", sa.String(length=64), primary_key=True),
        sa.Column("scope_note_day", sa.String(length=10), nullable=True),
        sa.Column("options", sa.JSON(), nullable=True),
        sa.Column("options_until", bot.store.models.UTCDateTime(), nullable=True),
        sa.Column("updated_at", bot.store.models.UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("conversation_state")
