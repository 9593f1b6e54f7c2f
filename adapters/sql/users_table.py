"""Name and column names of the application's existing users table.

Keyturn reads a users table that belongs to the application it serves. The
``Table`` objects built here live on a caller's ``MetaData``, never on
Keyturn's own, so that migrations never create, alter or drop that table,
apart from creating it with ``default_users_table`` when it does not exist.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, fields

import sqlalchemy as sa

from domain.errors import ConfigurationError

ID_TYPES = ("integer", "string")
# Unquoted SQL identifiers that SQLite and PostgreSQL both accept; 63 bytes
# is PostgreSQL's limit on identifier length.
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")

_SETTINGS = {
    "table": "KEYTURN_USERS_TABLE",
    "id_column": "KEYTURN_USERS_ID_COLUMN",
    "email_column": "KEYTURN_USERS_EMAIL_COLUMN",
    "username_column": "KEYTURN_USERS_USERNAME_COLUMN",
    "password_column": "KEYTURN_USERS_PASSWORD_COLUMN",
    "active_column": "KEYTURN_USERS_ACTIVE_COLUMN",
    "id_type": "KEYTURN_USERS_ID_TYPE",
}


@dataclass(frozen=True, slots=True)
class UsersTableSpec:
    """Name of the users table, names of the columns Keyturn reads, and the SQL type of the id."""

    table: str = "users"
    id_column: str = "id"
    email_column: str = "email"
    username_column: str = "username"
    password_column: str = "password_hash"
    active_column: str = "is_active"
    id_type: str = "integer"

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            if field.name == "id_type":
                if value not in ID_TYPES:
                    raise ConfigurationError(f"{_SETTINGS['id_type']} must be 'integer' or 'string', got {value!r}")
            elif not _IDENTIFIER.fullmatch(value):
                raise ConfigurationError(
                    f"{_SETTINGS[field.name]} must be a plain SQL identifier (letters, digits, _), got {value!r}"
                )

    @property
    def integer_ids(self) -> bool:
        return self.id_type == "integer"

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> UsersTableSpec:
        """Build a spec from the ``KEYTURN_USERS_*`` variables; unset or empty ones keep their default."""
        overrides: dict[str, str] = {}
        for name, variable in _SETTINGS.items():
            value = environ.get(variable, "").strip()
            if value:
                overrides[name] = value.lower() if name == "id_type" else value
        return cls(**overrides)


def users_table(spec: UsersTableSpec, metadata: sa.MetaData) -> sa.Table:
    """Describe the columns Keyturn reads from the users table, on ``metadata``."""
    return sa.Table(
        spec.table,
        metadata,
        sa.Column(spec.id_column, _id_type(spec), primary_key=True),
        sa.Column(spec.email_column, sa.String(255)),
        sa.Column(spec.username_column, sa.String(255)),
        sa.Column(spec.password_column, sa.String(256)),
        sa.Column(spec.active_column, sa.Boolean()),
    )


def default_users_columns(spec: UsersTableSpec) -> list[sa.Column]:
    """Return the columns of the users table of the legacy Flask app, with the names from ``spec``.

    Only used to create the table in a database that has none.
    """
    return [
        sa.Column(spec.id_column, _id_type(spec), primary_key=True),
        sa.Column(spec.email_column, sa.String(255), nullable=False, unique=True),
        sa.Column(spec.username_column, sa.String(80), unique=True),
        sa.Column(spec.password_column, sa.String(256), nullable=True),
        sa.Column(spec.active_column, sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
    ]


def default_users_table(spec: UsersTableSpec, metadata: sa.MetaData) -> sa.Table:
    """Describe the default users table on ``metadata``, which must not be Keyturn's own."""
    return sa.Table(spec.table, metadata, *default_users_columns(spec))


def _id_type(spec: UsersTableSpec) -> sa.types.TypeEngine:
    if spec.integer_ids:
        # SQLite only makes a column an alias of the rowid, and so
        # self-assigning, when its declared type is exactly INTEGER.
        return sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    return sa.String(255)
