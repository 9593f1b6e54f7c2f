"""Create the table of failed-login counters.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "keyturn_login_attempts",
        sa.Column("attempt_key", sa.String(255), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("attempt_key", name="pk_keyturn_login_attempts"),
    )
    op.create_index("ix_keyturn_login_attempts_expires_at", "keyturn_login_attempts", ["expires_at"])


def downgrade() -> None:
    op.drop_table("keyturn_login_attempts")
