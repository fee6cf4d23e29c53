"""inbox.delivery: how far the answer to an event got (replying / reply_failed / sent / unknown)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 19:10:00

Written before a reply call ("replying") so a worker that takes over a dead worker's event knows a reply may
already be out and does not push the answer again (issue 23).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("inbox") as batch:
        batch.add_column(sa.Column("delivery", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("inbox") as batch:
        batch.drop_column("delivery")
