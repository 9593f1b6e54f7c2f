"""Name and column names of the application's existing users table.

Keyturn reads a users table that belongs to the application it serves. The
``Table`` objects built here live on a caller's ``MetaData``, never on
Keyturn's own, so that migrations never create, alter or drop that table,
apart from creating it with ``default_users_table`` when it does not exist.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from domain.errors import ConfigurationError

ID_TYPES = ("integer", "string")
# Unquoted SQL identifiers that SQLite and PostgreSQL both accept; 63 bytes
# is PostgreSQL's limit on identifier length.
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
# The value of a ``*_COLUMN`` setting that marks the column as absent from the table.
# It cannot be a column name, so no real column is ever mistaken for it.
NO_COLUMN = "-"
MAX_ACTIVE_VALUE_LENGTH = 255
_TRUE_WORDS = frozenset({"1", "true", "t", "yes", "y", "on"})
_FALSE_WORDS = frozenset({"0", "false", "f", "no", "n", "off"})

_SETTINGS = {
    "table": "KEYTURN_USERS_TABLE",
    "id_column": "KEYTURN_USERS_ID_COLUMN",
    "email_column": "KEYTURN_USERS_EMAIL_COLUMN",
    "username_column": "KEYTURN_USERS_USERNAME_COLUMN",
    "password_column": "KEYTURN_USERS_PASSWORD_COLUMN",
    "active_column": "KEYTURN_USERS_ACTIVE_COLUMN",
    "id_type": "KEYTURN_USERS_ID_TYPE",
    "email_case_insensitive": "KEYTURN_USERS_EMAIL_CASE_INSENSITIVE",
    "username_case_insensitive": "KEYTURN_USERS_USERNAME_CASE_INSENSITIVE",
    "active_value": "KEYTURN_USERS_ACTIVE_VALUE",
}
_REQUIRED_COLUMNS = ("id_column", "password_column")
_OPTIONAL_COLUMNS = ("email_column", "username_column", "active_column")
_FLAGS = ("email_case_insensitive", "username_case_insensitive")


@dataclass(frozen=True, slots=True)
class UsersTableSpec:
    """How Keyturn reads the users table: its name, its columns, and how to compare and interpret them.

    Rules:

    - ``email_column``, ``username_column`` and ``active_column`` may be None
      when the table has no such column, but at least one login column must exist.
    - A login matches the email column first and the username column second;
      each comparison ignores case when its ``*_case_insensitive`` flag is set.
    - Without an active column every row is active. With one and no
      ``active_value``, a row is active when the column contains a true value
      (true, or a non-zero number). With ``active_value``, a row is active
      when the column equals it: compared as text, except that a boolean
      column compares as a boolean, so ``1`` and ``true`` both work there.
    """

    table: str = "users"
    id_column: str = "id"
    email_column: str | None = "email"
    username_column: str | None = "username"
    password_column: str = "password_hash"
    active_column: str | None = "is_active"
    id_type: str = "integer"
    email_case_insensitive: bool = True
    username_case_insensitive: bool = False
    active_value: str | None = None

    def __post_init__(self) -> None:
        if self.id_type not in ID_TYPES:
            raise ConfigurationError(f"{_SETTINGS['id_type']} must be 'integer' or 'string', got {self.id_type!r}")
        _check_identifier("table", self.table)
        for name in _REQUIRED_COLUMNS:
            _check_identifier(name, getattr(self, name))
        for name in _OPTIONAL_COLUMNS:
            if getattr(self, name) is not None:
                _check_identifier(name, getattr(self, name))
        if self.email_column is None and self.username_column is None:
            raise ConfigurationError(
                f"{_SETTINGS['email_column']} and {_SETTINGS['username_column']} cannot both be absent ({NO_COLUMN}): "
                "a login needs a column to match"
            )
        if len(set(self.columns())) != len(self.columns()):
            raise ConfigurationError("the KEYTURN_USERS_*_COLUMN settings must name different columns")
        self._check_active_value()

    def _check_active_value(self) -> None:
        if self.active_value is None:
            return
        if self.active_column is None:
            raise ConfigurationError(f"{_SETTINGS['active_value']} requires {_SETTINGS['active_column']}")
        if not 1 <= len(self.active_value) <= MAX_ACTIVE_VALUE_LENGTH:
            raise ConfigurationError(
                f"{_SETTINGS['active_value']} must be 1 to {MAX_ACTIVE_VALUE_LENGTH} characters long"
            )

    @property
    def integer_ids(self) -> bool:
        return self.id_type == "integer"

    def columns(self) -> list[str]:
        """Names of the columns Keyturn reads, the absent ones left out."""
        names = (self.id_column, self.email_column, self.username_column, self.password_column, self.active_column)
        return [name for name in names if name is not None]

    def is_active(self, value: object) -> bool:
        """Return whether a row whose active column contains ``value`` may log in (see the class rules)."""
        if self.active_column is None:
            return True
        if self.active_value is None:
            return bool(value)
        if value is None:
            return False
        if isinstance(value, bool):
            return value is _parse_boolean_word(self.active_value)
        return str(value) == self.active_value

    def stored_active_value(self, python_type: type | None) -> object:
        """Return the value that marks a new row active, in the Python type of the column when it is known."""
        if self.active_value is None:
            return True
        if python_type is bool:
            return _parse_boolean_word(self.active_value)
        if python_type is int:
            try:
                return int(self.active_value)
            except ValueError:
                return self.active_value
        return self.active_value

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> UsersTableSpec:
        """Build a spec from the ``KEYTURN_USERS_*`` variables.

        Unset or empty variables keep their default; ``-`` as the email,
        username or active column marks that column as absent.
        """
        overrides: dict[str, Any] = {}
        for name, variable in _SETTINGS.items():
            value = environ.get(variable, "").strip()
            if not value:
                continue
            if name == "id_type":
                overrides[name] = value.lower()
            elif name in _FLAGS:
                overrides[name] = _flag(variable, value)
            elif name in _OPTIONAL_COLUMNS and value == NO_COLUMN:
                overrides[name] = None
            else:
                overrides[name] = value
        return cls(**overrides)


def _check_identifier(name: str, value: str) -> None:
    if not isinstance(value, str) or not _IDENTIFIER.fullmatch(value):
        raise ConfigurationError(
            f"{_SETTINGS[name]} must be a plain SQL identifier (letters, digits, _), got {value!r}"
        )


def _flag(variable: str, value: str) -> bool:
    word = value.lower()
    if word in _TRUE_WORDS:
        return True
    if word in _FALSE_WORDS:
        return False
    raise ConfigurationError(f"{variable} must be true or false, got {value!r}")


def _parse_boolean_word(value: str) -> bool:
    """Read an active value for a boolean column; anything that is not a false word counts as true."""
    return value.strip().lower() not in _FALSE_WORDS


def users_table(spec: UsersTableSpec, metadata: sa.MetaData) -> sa.Table:
    """Describe the columns Keyturn reads from the users table, on ``metadata``.

    With an ``active_value`` the active column has no declared type, so its
    value arrives as the driver returns it: a text status must not be read
    as a boolean.
    """
    columns = [
        sa.Column(spec.id_column, _id_type(spec), primary_key=True),
        sa.Column(spec.password_column, sa.String(256)),
    ]
    for name in (spec.email_column, spec.username_column):
        if name is not None:
            columns.append(sa.Column(name, sa.String(255)))
    if spec.active_column is not None:
        active_type = sa.Boolean() if spec.active_value is None else sa.types.NullType()
        columns.append(sa.Column(spec.active_column, active_type))
    return sa.Table(spec.table, metadata, *columns)


def default_users_columns(spec: UsersTableSpec) -> list[sa.Column]:
    """Return the columns of the users table of the legacy Flask app, with the names from ``spec``.

    Only used to create the table in a database that has none; absent
    columns are left out.
    """
    columns = [sa.Column(spec.id_column, _id_type(spec), primary_key=True)]
    if spec.email_column is not None:
        columns.append(sa.Column(spec.email_column, sa.String(255), nullable=False, unique=True))
    if spec.username_column is not None:
        columns.append(sa.Column(spec.username_column, sa.String(80), unique=True))
    columns.append(sa.Column(spec.password_column, sa.String(256), nullable=True))
    if spec.active_column is not None:
        columns.append(_default_active_column(spec, spec.active_column))
    columns.append(sa.Column("created_at", sa.DateTime(timezone=True), nullable=False))
    columns.append(sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True))
    return columns


def default_users_table(spec: UsersTableSpec, metadata: sa.MetaData) -> sa.Table:
    """Describe the default users table on ``metadata``, which must not be Keyturn's own."""
    return sa.Table(spec.table, metadata, *default_users_columns(spec))


def _default_active_column(spec: UsersTableSpec, name: str) -> sa.Column:
    if spec.active_value is None:
        return sa.Column(name, sa.Boolean(), nullable=False, server_default=sa.true())
    return sa.Column(name, sa.String(MAX_ACTIVE_VALUE_LENGTH), nullable=False, server_default=spec.active_value)


def _id_type(spec: UsersTableSpec) -> sa.types.TypeEngine:
    if spec.integer_ids:
        # SQLite only makes a column an alias of the rowid, and so
        # self-assigning, when its declared type is exactly INTEGER.
        return sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    return sa.String(255)
