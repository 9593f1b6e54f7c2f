"""The users table of the application, read through ``UsersTableSpec``.

Keyturn only reads this table, except for ``add_user``, which the
``keyturn users add`` command uses to create an account.
"""

from __future__ import annotations

import logging
import re
import uuid
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sql.availability import outage_log, store_call
from adapters.sql.transactions import read_connection, write_transaction
from adapters.sql.users_table import UsersTableSpec, users_table
from domain.user import User

logger = logging.getLogger(__name__)

_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1
_CANONICAL_INTEGER = re.compile(r"-?(0|[1-9][0-9]*)")


class UserAlreadyExists(Exception):
    """Another account already has the email (compared case-insensitively) or the username."""


class SqlUserRepository:
    """``UserRepository`` over the application's users table.

    Every method raises ``StoreUnavailable`` when the database cannot be
    reached in time.
    """

    def __init__(self, engine: AsyncEngine, spec: UsersTableSpec) -> None:
        self._engine = engine
        self._spec = spec
        self._outage = outage_log(engine)
        self._table = users_table(spec, sa.MetaData())
        # Built once: SQLAlchemy then finds the compiled form in its cache without rebuilding the statement.
        self._by_id = sa.select(self._table).where(self._column("id") == sa.bindparam("user_id"))

    async def find_by_login(self, login: str) -> User | None:
        """Find the user whose email matches ``login``, else whose username matches it.

        Each column compares ignoring case or exactly, as the spec sets.
        Several rows matching the same column resolve to the lowest id, so
        the result does not depend on the database's row order. SQL
        ``lower()`` folds only ASCII letters on SQLite, and on PostgreSQL
        folds by the database's locale. An empty login matches nobody, since
        tables such as Django's ``auth_user`` store a missing email as ''.
        """
        if not login:
            return None
        matches = self._login_conditions(login)
        preference = sa.case(*((condition, rank) for rank, condition in enumerate(matches)), else_=len(matches))
        query = (
            sa.select(self._table)
            .where(sa.or_(*matches))
            .order_by(preference, self._column("id"))
            .limit(1)
        )
        async with store_call(self._outage, "find a user"), read_connection(self._engine) as connection:
            row = (await connection.execute(query)).first()
        return None if row is None else self._to_user(row)

    def _login_conditions(self, login: str) -> list[sa.ColumnElement[bool]]:
        spec = self._spec
        conditions = []
        for role, case_insensitive in (
            ("email", spec.email_case_insensitive),
            ("username", spec.username_case_insensitive),
        ):
            if getattr(spec, f"{role}_column") is None:
                continue
            column = self._column(role)
            if case_insensitive:
                conditions.append(sa.func.lower(column) == sa.func.lower(sa.literal(login, sa.String())))
            else:
                conditions.append(column == login)
        return conditions

    async def get(self, user_id: str) -> User | None:
        """Find a user by the string form of its id.

        With integer ids, only the canonical decimal form of a signed 64-bit
        integer can match ("42", not "042" or "+42"). Anything else returns
        None without a query, so a forged ``sub`` cannot cause an error.
        """
        key: Any = user_id
        if self._spec.integer_ids:
            key = parse_integer_id(user_id)
            if key is None:
                return None
        async with store_call(self._outage, "read a user"), read_connection(self._engine) as connection:
            row = (await connection.execute(self._by_id, {"user_id": key})).first()
        return None if row is None else self._to_user(row)

    async def update_password_hash(self, user_id: str, password_hash: str, *, replaces: str | None = None) -> None:
        """Write ``password_hash`` to the password column of one row and touch no other column.

        With ``replaces``, the row is updated only while the column still
        contains that hash, and the check and the write are one ``UPDATE``.
        """
        key = parse_integer_id(user_id) if self._spec.integer_ids else user_id
        if key is None:
            return
        password = self._column("password")
        statement = sa.update(self._table).where(self._column("id") == key).values({password.name: password_hash})
        if replaces is not None:
            statement = statement.where(password == replaces)
        async with store_call(self._outage, "update a password"), write_transaction(self._engine) as connection:
            await connection.execute(statement)

    def _column(self, role: str) -> sa.Column:
        return self._table.c[getattr(self._spec, f"{role}_column")]

    def _to_user(self, row: Row) -> User:
        values = row._mapping
        spec = self._spec
        return User(
            id=str(values[spec.id_column]),
            email=values[spec.email_column] if spec.email_column else None,
            username=values[spec.username_column] if spec.username_column else None,
            password_hash=values[spec.password_column],
            is_active=spec.is_active(values[spec.active_column] if spec.active_column else None),
        )


def parse_integer_id(user_id: str) -> int | None:
    """Return the integer that ``user_id`` spells canonically, or None if it is not a signed 64-bit integer."""
    if not _CANONICAL_INTEGER.fullmatch(user_id) or user_id == "-0":
        return None
    value = int(user_id)
    if not _INT64_MIN <= value <= _INT64_MAX:
        return None
    return value


async def count_users(engine: AsyncEngine, spec: UsersTableSpec) -> int:
    """Return the number of rows in the users table; raises ``StoreUnavailable`` when the database does not respond."""
    async with store_call(outage_log(engine), "count users"), read_connection(engine) as connection:
        return (await connection.execute(sa.select(sa.func.count()).select_from(sa.table(spec.table)))).scalar_one()


async def add_user(
    engine: AsyncEngine,
    spec: UsersTableSpec,
    *,
    email: str,
    username: str | None,
    password_hash: str | None,
    now: datetime,
) -> str:
    """Insert an active account and return its id as a string.

    The table is reflected, so columns Keyturn does not know keep their
    defaults, and ``created_at`` is set to ``now`` when the table has it.
    An integer id that the database does not assign itself becomes
    ``max(id) + 1``; a string id without a database default becomes a
    random UUID. Raises ``UserAlreadyExists`` when the email or username is
    taken, and ``StoreUnavailable`` when the database does not respond.
    """
    async with store_call(outage_log(engine), "add a user"), write_transaction(engine) as connection:
        return await connection.run_sync(
            _insert_user, spec, {"email": email, "username": username, "password_hash": password_hash, "now": now}
        )


def _insert_user(connection: Connection, spec: UsersTableSpec, account: dict[str, Any]) -> str:
    table = sa.Table(spec.table, sa.MetaData(), autoload_with=connection)
    _reject_duplicate(connection, table, spec, account["email"], account["username"])

    values: dict[str, Any] = {spec.password_column: account["password_hash"]}
    if spec.email_column is not None:
        values[spec.email_column] = account["email"]
    if spec.username_column is not None:
        values[spec.username_column] = account["username"]
    if spec.active_column is not None:
        values[spec.active_column] = spec.stored_active_value(_python_type(table.c[spec.active_column]))
    if "created_at" in table.c:
        values["created_at"] = _datetime_for(table.c.created_at, account["now"])
    id_column = table.c[spec.id_column]
    if not _database_assigns_id(connection, id_column):
        values[spec.id_column] = _next_id(connection, id_column, spec)

    result = connection.execute(sa.insert(table).values(values))
    new_id = values.get(spec.id_column)
    if new_id is None:
        new_id = result.inserted_primary_key[0]
    logger.info("added user %s to table %s", new_id, spec.table)
    return str(new_id)


def _reject_duplicate(
    connection: Connection, table: sa.Table, spec: UsersTableSpec, email: str, username: str | None
) -> None:
    duplicates = []
    if spec.email_column is not None:
        duplicates.append(sa.func.lower(table.c[spec.email_column]) == sa.func.lower(sa.literal(email, sa.String())))
    if spec.username_column is not None and username is not None:
        duplicates.append(table.c[spec.username_column] == username)
    if not duplicates:
        return
    query = sa.select(sa.literal(1)).select_from(table).where(sa.or_(*duplicates)).limit(1)
    if connection.execute(query).first():
        raise UserAlreadyExists("another account already uses this email or username")


def _python_type(column: sa.Column) -> type | None:
    try:
        return column.type.python_type
    except NotImplementedError:
        return None


def _database_assigns_id(connection: Connection, id_column: sa.Column) -> bool:
    if id_column.server_default is not None or id_column.identity is not None:
        return True
    if connection.dialect.name == "sqlite":
        # A single INTEGER PRIMARY KEY is an alias of the rowid.
        primary_key = list(id_column.table.primary_key.columns)
        return primary_key == [id_column] and str(id_column.type).upper() == "INTEGER"
    return False


def _next_id(connection: Connection, id_column: sa.Column, spec: UsersTableSpec) -> int | str:
    if not spec.integer_ids:
        return str(uuid.uuid4())
    # NOTE: two concurrent inserts on PostgreSQL can pick the same id; the
    # primary key then rejects the second one. Fine for an admin command.
    highest = connection.execute(sa.select(sa.func.max(id_column))).scalar()
    return 1 if highest is None else int(highest) + 1


def _datetime_for(column: sa.Column, now: datetime) -> datetime:
    utc_now = now.astimezone(timezone.utc)
    if getattr(column.type, "timezone", False):
        return utc_now
    return utc_now.replace(tzinfo=None)
