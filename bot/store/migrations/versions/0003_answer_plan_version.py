"""answer_log.plan_version: the 基本計画 version each answer was made from

Revision ID: 0003
Revises: 0001
Create Date: 2026-12-02 07:20:00

Numbered 0003 because 0002 is taken on another branch (issue-14); when both are merged, the later one's
down_revision is set to the other so the chain stays linear.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("answer_log") as batch:
        batch.add_column(sa.Column("plan_version", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("answer_log") as batch:
        batch.drop_column("plan_version")
