"""Create Keyturn's tables, and the users table when the database has none.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

from adapters.sql.users_table import UsersTableSpec, default_users_columns

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEYTURN_TABLES = (
    "keyturn_refresh_tokens",
    "keyturn_sessions",
    "keyturn_denied_tokens",
    "keyturn_denied_sessions",
    "keyturn_user_watermarks",
)


def upgrade() -> None:
    create_users_table_if_missing(context.config.attributes["users_table_spec"])
    op.create_table(
        "keyturn_sessions",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("user_id", sa.String(255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_agent", sa.Text(), nullable=True),
        sa.Column("ip", sa.String(64), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_keyturn_sessions"),
    )
    op.create_index("ix_keyturn_sessions_user_id", "keyturn_sessions", ["user_id"])
    op.create_index("ix_keyturn_sessions_expires_at", "keyturn_sessions", ["expires_at"])

    op.create_table(
        "keyturn_refresh_tokens",
        sa.Column("token_hash", sa.CHAR(64), nullable=False),
        sa.Column("session_id", sa.String(64), nullable=False),
        sa.Column("user_id", sa.String(255), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("rotated_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("token_hash", name="pk_keyturn_refresh_tokens"),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["keyturn_sessions.id"],
            name="fk_keyturn_refresh_tokens_session_id_keyturn_sessions",
        ),
    )
    op.create_index("ix_keyturn_refresh_tokens_session_id", "keyturn_refresh_tokens", ["session_id"])
    op.create_index("ix_keyturn_refresh_tokens_expires_at", "keyturn_refresh_tokens", ["expires_at"])

    op.create_table(
        "keyturn_denied_tokens",
        sa.Column("jti", sa.String(64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("jti", name="pk_keyturn_denied_tokens"),
    )
    op.create_index("ix_keyturn_denied_tokens_expires_at", "keyturn_denied_tokens", ["expires_at"])

    op.create_table(
        "keyturn_denied_sessions",
        sa.Column("session_id", sa.String(64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("session_id", name="pk_keyturn_denied_sessions"),
    )
    op.create_index("ix_keyturn_denied_sessions_expires_at", "keyturn_denied_sessions", ["expires_at"])

    op.create_table(
        "keyturn_user_watermarks",
        sa.Column("user_id", sa.String(255), nullable=False),
        sa.Column("issued_before", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name="pk_keyturn_user_watermarks"),
    )
    op.create_index("ix_keyturn_user_watermarks_expires_at", "keyturn_user_watermarks", ["expires_at"])


def downgrade() -> None:
    """Drop Keyturn's tables only; the users table belongs to the application even when 0001 created it."""
    for table in KEYTURN_TABLES:
        op.drop_table(table)


def create_users_table_if_missing(spec: UsersTableSpec) -> None:
    if context.is_offline_mode():
        # Offline SQL cannot inspect the database, so the check moves into the SQL.
        op.create_table(spec.table, *default_users_columns(spec), if_not_exists=True)
        return
    if not sa.inspect(op.get_bind()).has_table(spec.table):
        op.create_table(spec.table, *default_users_columns(spec))
