"""Create the revocation feed that per-process replicas follow.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "keyturn_revocation_feed",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(1), nullable=False),
        sa.Column("entry_key", sa.String(255), nullable=False),
        sa.Column("issued_before", sa.DateTime(timezone=True), nullable=True),
        sa.Column("until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_keyturn_revocation_feed"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_keyturn_revocation_feed_expires_at", "keyturn_revocation_feed", ["expires_at"])


def downgrade() -> None:
    op.drop_table("keyturn_revocation_feed")
