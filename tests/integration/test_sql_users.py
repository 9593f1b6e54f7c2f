"""``SqlUserRepository``, ``add_user`` and ``count_users`` on the legacy database and on custom tables."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sql.users import SqlUserRepository, UserAlreadyExists, add_user, count_users
from adapters.sql.users_table import UsersTableSpec
from domain.errors import ConfigurationError

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def repository(legacy_engine: AsyncEngine) -> SqlUserRepository:
    return SqlUserRepository(legacy_engine, UsersTableSpec())


async def test_alice_by_email_and_by_username(repository: SqlUserRepository) -> None:
    by_email = await repository.find_by_login("alice@example.com")
    by_username = await repository.find_by_login("alice")

    assert by_email is not None
    assert by_email.id == "1"
    assert by_email.username == "alice"
    assert by_email == by_username
    assert by_email.password_hash is not None
    assert by_email.password_hash.startswith("scrypt:")
    assert by_email.can_log_in


async def test_bob_by_email_in_another_case(repository: SqlUserRepository) -> None:
    bob = await repository.find_by_login("bob.smith@example.com")

    assert bob is not None
    assert bob.username == "bob"
    assert bob.email == "bob.smith@Example.COM"


async def test_ivan_id_above_32_bits_round_trips(repository: SqlUserRepository) -> None:
    ivan = await repository.find_by_login("ivan")

    assert ivan is not None
    assert ivan.id == "2147483653"
    assert await repository.get(ivan.id) == ivan


@pytest.mark.parametrize("user_id", ["abc", "99999999999999999999", ""])
async def test_ids_that_cannot_exist_return_none(repository: SqlUserRepository, user_id: str) -> None:
    assert await repository.get(user_id) is None


async def test_grace_has_no_password_and_frank_is_inactive(repository: SqlUserRepository) -> None:
    grace = await repository.find_by_login("grace")
    frank = await repository.find_by_login("frank@example.com")

    assert grace is not None
    assert grace.password_hash is None
    assert grace.is_active
    assert frank is not None
    assert frank.is_active is False
    assert frank.password_hash is not None


async def test_email_with_a_quote(repository: SqlUserRepository) -> None:
    obrien = await repository.find_by_login("O'Brien@example.ie")

    assert obrien is not None
    assert obrien.username == "obrien"


async def test_add_user_lets_sqlite_assign_the_next_rowid(legacy_engine: AsyncEngine, legacy_db: Path) -> None:
    spec = UsersTableSpec()
    assert await count_users(legacy_engine, spec) == 50

    new_id = await add_user(
        legacy_engine, spec, email="judy@example.com", username="judy", password_hash="scrypt:x", now=NOW
    )

    assert new_id == "2147483654"
    assert await count_users(legacy_engine, spec) == 51
    judy = await SqlUserRepository(legacy_engine, spec).get(new_id)
    assert judy is not None
    assert judy.email == "judy@example.com"
    assert judy.is_active
    connection = sqlite3.connect(legacy_db)
    try:
        (created_at,) = connection.execute("SELECT created_at FROM users WHERE id = ?", (int(new_id),)).fetchone()
    finally:
        connection.close()
    assert created_at.startswith("2025-03-01 12:00:00")


async def test_add_user_rejects_a_taken_email_or_username(legacy_engine: AsyncEngine) -> None:
    spec = UsersTableSpec()

    with pytest.raises(UserAlreadyExists):
        await add_user(legacy_engine, spec, email="ALICE@example.com", username="new", password_hash=None, now=NOW)
    with pytest.raises(UserAlreadyExists):
        await add_user(legacy_engine, spec, email="new@example.com", username="alice", password_hash=None, now=NOW)
    assert await count_users(legacy_engine, spec) == 50


async def test_add_user_allocates_max_plus_one_without_autoincrement(sqlite_engine: AsyncEngine) -> None:
    spec = UsersTableSpec(table="members", id_column="member_id", active_column="enabled")
    async with sqlite_engine.begin() as connection:
        await connection.exec_driver_sql(
            "CREATE TABLE members (member_id BIGINT PRIMARY KEY, email TEXT NOT NULL, username TEXT,"
            " password_hash TEXT, enabled BOOLEAN NOT NULL)"
        )
        await connection.exec_driver_sql(
            "INSERT INTO members VALUES (9007199254740993, 'old@example.com', 'old', NULL, 1)"
        )

    new_id = await add_user(sqlite_engine, spec, email="new@example.com", username=None, password_hash="h", now=NOW)

    assert new_id == "9007199254740994"
    user = await SqlUserRepository(sqlite_engine, spec).find_by_login("NEW@example.com")
    assert user is not None
    assert user.id == new_id
    assert user.username is None
    assert user.is_active


async def test_string_ids(sqlite_engine: AsyncEngine) -> None:
    spec = UsersTableSpec(table="people", id_type="string")
    async with sqlite_engine.begin() as connection:
        await connection.exec_driver_sql(
            "CREATE TABLE people (id VARCHAR(36) PRIMARY KEY, email TEXT NOT NULL, username TEXT,"
            " password_hash TEXT, is_active BOOLEAN NOT NULL)"
        )

    new_id = await add_user(sqlite_engine, spec, email="a@example.com", username="a", password_hash="h", now=NOW)

    repository = SqlUserRepository(sqlite_engine, spec)
    user = await repository.get(new_id)
    assert user is not None
    assert user.username == "a"
    assert await repository.get("abc") is None
    assert await count_users(sqlite_engine, spec) == 1


def test_spec_defaults_match_the_legacy_table() -> None:
    assert UsersTableSpec.from_environ({}) == UsersTableSpec(
        table="users",
        id_column="id",
        email_column="email",
        username_column="username",
        password_column="password_hash",
        active_column="is_active",
        id_type="integer",
    )


def test_spec_reads_every_variable() -> None:
    environ = {
        "KEYTURN_USERS_TABLE": "accounts",
        "KEYTURN_USERS_ID_COLUMN": "account_id",
        "KEYTURN_USERS_EMAIL_COLUMN": "mail",
        "KEYTURN_USERS_USERNAME_COLUMN": "login",
        "KEYTURN_USERS_PASSWORD_COLUMN": "pw",
        "KEYTURN_USERS_ACTIVE_COLUMN": "enabled",
        "KEYTURN_USERS_ID_TYPE": "String",
    }

    expected = UsersTableSpec("accounts", "account_id", "mail", "login", "pw", "enabled", "string")
    assert UsersTableSpec.from_environ(environ) == expected


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("KEYTURN_USERS_TABLE", "users; DROP TABLE posts"),
        ("KEYTURN_USERS_EMAIL_COLUMN", "e-mail"),
        ("KEYTURN_USERS_ID_COLUMN", "1id"),
        ("KEYTURN_USERS_ID_TYPE", "uuid"),
    ],
)
def test_spec_rejects_bad_values_naming_the_variable(variable: str, value: str) -> None:
    with pytest.raises(ConfigurationError, match=variable):
        UsersTableSpec.from_environ({variable: value})

