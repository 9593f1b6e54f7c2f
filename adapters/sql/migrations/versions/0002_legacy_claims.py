"""Create the table of exchanged legacy session cookies.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "keyturn_legacy_claims",
        sa.Column("claim_key", sa.CHAR(64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("claim_key", name="pk_keyturn_legacy_claims"),
    )
    op.create_index("ix_keyturn_legacy_claims_expires_at", "keyturn_legacy_claims", ["expires_at"])


def downgrade() -> None:
    op.drop_table("keyturn_legacy_claims")
