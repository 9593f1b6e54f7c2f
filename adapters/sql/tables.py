"""Keyturn's own tables, all named ``keyturn_*``, and the filters that keep Alembic to them."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa

TABLE_PREFIX = "keyturn_"
# Apart from the application's own, so that Flask-Migrate and Keyturn can
# share a database without overwriting each other's revision.
VERSION_TABLE = "keyturn_alembic_version"

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(sa.types.TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend.

    Values are converted to UTC before they are bound, so SQLite, which keeps
    datetimes as text without an offset, still compares them correctly, and
    naive values read back from SQLite are marked as UTC. Binding a naive
    datetime raises ``ValueError`` because its meaning would be a guess.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("Keyturn stores only timezone-aware datetimes")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        return as_utc(value)


def as_utc(value: datetime | None) -> datetime | None:
    """Return ``value`` as an aware UTC datetime, reading a naive one as UTC."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)

sessions = sa.Table(
    "keyturn_sessions",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("user_id", sa.String(255), nullable=False, index=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("last_used_at", UtcDateTime(), nullable=False),
    sa.Column("expires_at", UtcDateTime(), nullable=False, index=True),
    sa.Column("user_agent", sa.Text(), nullable=True),
    sa.Column("ip", sa.String(64), nullable=True),
    sa.Column("revoked_at", UtcDateTime(), nullable=True),
)

refresh_tokens = sa.Table(
    "keyturn_refresh_tokens",
    metadata,
    sa.Column("token_hash", sa.CHAR(64), primary_key=True),
    sa.Column("session_id", sa.String(64), sa.ForeignKey("keyturn_sessions.id"), nullable=False, index=True),
    sa.Column("user_id", sa.String(255), nullable=False),
    sa.Column("issued_at", UtcDateTime(), nullable=False),
    sa.Column("expires_at", UtcDateTime(), nullable=False, index=True),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("rotated_at", UtcDateTime(), nullable=True),
)

denied_tokens = sa.Table(
    "keyturn_denied_tokens",
    metadata,
    sa.Column("jti", sa.String(64), primary_key=True),
    sa.Column("expires_at", UtcDateTime(), nullable=False, index=True),
)

denied_sessions = sa.Table(
    "keyturn_denied_sessions",
    metadata,
    sa.Column("session_id", sa.String(64), primary_key=True),
    sa.Column("expires_at", UtcDateTime(), nullable=False, index=True),
)

user_watermarks = sa.Table(
    "keyturn_user_watermarks",
    metadata,
    sa.Column("user_id", sa.String(255), primary_key=True),
    sa.Column("issued_before", UtcDateTime(), nullable=False),
    sa.Column("expires_at", UtcDateTime(), nullable=False, index=True),
)

# Every applied revocation entry in commit order, read by per-process replicas.
# AUTOINCREMENT keeps SQLite from reusing ids after a purge empties the table.
revocation_feed = sa.Table(
    "keyturn_revocation_feed",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(1), nullable=False),
    sa.Column("entry_key", sa.String(255), nullable=False),
    sa.Column("issued_before", UtcDateTime(), nullable=True),
    sa.Column("until", UtcDateTime(), nullable=False),
    sa.Column("expires_at", UtcDateTime(), nullable=False, index=True),
    sqlite_autoincrement=True,
)

legacy_claims = sa.Table(
    "keyturn_legacy_claims",
    metadata,
    sa.Column("claim_key", sa.CHAR(64), primary_key=True),
    sa.Column("expires_at", UtcDateTime(), nullable=False, index=True),
)

# Failed logins per counter key (see ``domain.throttling``); ``expires_at``
# is the end of the fixed window that started with the key's first failure.
login_attempts = sa.Table(
    "keyturn_login_attempts",
    metadata,
    sa.Column("attempt_key", sa.String(255), primary_key=True),
    sa.Column("failures", sa.Integer(), nullable=False),
    sa.Column("expires_at", UtcDateTime(), nullable=False, index=True),
)


audit_events = sa.Table(
    "keyturn_audit_events",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("event", sa.String(64), nullable=False),
    sa.Column("occurred_at", UtcDateTime(), nullable=False, index=True),
    sa.Column("outcome", sa.String(16), nullable=False),
    sa.Column("user_id", sa.String(255), nullable=True, index=True),
    sa.Column("session_id", sa.String(64), nullable=True),
    sa.Column("ip", sa.String(64), nullable=True),
    sa.Column("user_agent", sa.Text(), nullable=True),
    sa.Column("request_id", sa.String(128), nullable=True),
    sa.Column("reason", sa.String(64), nullable=True),
)


def is_keyturn_table(name: str | None) -> bool:
    return name is not None and name.startswith(TABLE_PREFIX)


def include_name(name: str | None, type_: str, parent_names: dict[str, Any]) -> bool:
    """Alembic hook: reflect only Keyturn's tables, so the application's are never compared.

    The version table is left out too, so a comparison made without
    ``version_table`` configured does not propose dropping it.
    """
    if type_ == "table":
        return is_keyturn_table(name) and name != VERSION_TABLE
    return True


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Alembic hook: consider only Keyturn's tables and what belongs to them.

    Without it, autogenerate would propose dropping every table of the
    application, such as ``users`` and ``posts``.
    """
    if type_ == "table":
        return is_keyturn_table(name)
    table = getattr(obj, "table", None)
    return table is None or is_keyturn_table(table.name)
