"""answer_log.plan_version: the 基本計画 version each answer was made from

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 07:20:00

Follows 0002 (the review loop, issue-14), so the chain stays linear.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("answer_log") as batch:
        batch.add_column(sa.Column("plan_version", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("answer_log") as batch:
        batch.drop_column("plan_version")
