"""Create the audit event table.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "keyturn_audit_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("event", sa.String(64), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("user_id", sa.String(255), nullable=True),
        sa.Column("session_id", sa.String(64), nullable=True),
        sa.Column("ip", sa.String(64), nullable=True),
        sa.Column("user_agent", sa.Text(), nullable=True),
        sa.Column("request_id", sa.String(128), nullable=True),
        sa.Column("reason", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_keyturn_audit_events"),
    )
    op.create_index("ix_keyturn_audit_events_occurred_at", "keyturn_audit_events", ["occurred_at"])
    op.create_index("ix_keyturn_audit_events_user_id", "keyturn_audit_events", ["user_id"])


def downgrade() -> None:
    op.drop_table("keyturn_audit_events")
