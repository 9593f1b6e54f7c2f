"""Keyturn's migrations against the legacy database and an empty one."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from adapters.sql.engine import create_engine
from adapters.sql.migrate import MIGRATIONS_DIRECTORY, downgrade, upgrade
from adapters.sql.tables import VERSION_TABLE, include_name, include_object, metadata
from adapters.sql.users_table import UsersTableSpec

REPOSITORY_ROOT = Path(__file__).resolve().parents[2]
KEYTURN_TABLES = {table.name for table in metadata.sorted_tables}
LEGACY_TABLES = ("users", "posts")


def url(path: Path) -> str:
    return f"sqlite:///{path}"


def legacy_dump(path: Path) -> list[str]:
    """Return the schema and every row of ``users`` and ``posts`` as SQL text, values quoted exactly."""
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return [
            line
            for line in connection.iterdump()
            if any(
                line.startswith(prefix)
                for table in LEGACY_TABLES
                for prefix in (f'INSERT INTO "{table}"', f"CREATE TABLE {table} ", "CREATE INDEX")
            )
            and "keyturn_" not in line
        ]
    finally:
        connection.close()


def table_names(path: Path) -> set[str]:
    """Return the database's tables, without SQLite's own, such as ``sqlite_sequence`` for AUTOINCREMENT ids."""
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        query = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
        return {name for (name,) in connection.execute(query)}
    finally:
        connection.close()


async def test_upgrade_leaves_legacy_tables_and_rows_unchanged(legacy_db: Path) -> None:
    before = legacy_dump(legacy_db)
    assert sum(line.startswith('INSERT INTO "users"') for line in before) == 50

    await upgrade(url(legacy_db), UsersTableSpec())

    assert legacy_dump(legacy_db) == before
    assert KEYTURN_TABLES | set(LEGACY_TABLES) | {VERSION_TABLE} == table_names(legacy_db)


async def test_upgrade_twice_changes_nothing(legacy_db: Path) -> None:
    await upgrade(url(legacy_db), UsersTableSpec())
    before = legacy_dump(legacy_db)

    await upgrade(url(legacy_db), UsersTableSpec())

    assert legacy_dump(legacy_db) == before


async def test_stairway_upgrade_downgrade_upgrade(legacy_db: Path) -> None:
    before = legacy_dump(legacy_db)

    await upgrade(url(legacy_db), UsersTableSpec())
    await downgrade(url(legacy_db), UsersTableSpec(), "base")

    assert table_names(legacy_db) == set(LEGACY_TABLES) | {VERSION_TABLE}
    assert legacy_dump(legacy_db) == before

    await upgrade(url(legacy_db), UsersTableSpec())

    assert KEYTURN_TABLES <= table_names(legacy_db)
    assert legacy_dump(legacy_db) == before


async def autogenerate_diffs(path: Path, **filters) -> list:
    engine = create_engine(url(path))
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(
                lambda sync: compare_metadata(
                    MigrationContext.configure(sync, opts={"compare_type": True, **filters}), metadata
                )
            )
    finally:
        await engine.dispose()


async def test_models_match_migrations_and_legacy_tables_are_ignored(legacy_db: Path) -> None:
    await upgrade(url(legacy_db), UsersTableSpec())

    assert await autogenerate_diffs(legacy_db, include_object=include_object, include_name=include_name) == []


async def test_without_the_filters_autogenerate_would_drop_legacy_tables(legacy_db: Path) -> None:
    await upgrade(url(legacy_db), UsersTableSpec())

    diffs = await autogenerate_diffs(legacy_db)

    dropped = {diff[1].name for diff in diffs if diff[0] == "remove_table"}
    assert {"users", "posts"} <= dropped


async def test_empty_database_gets_the_default_users_table(tmp_path: Path) -> None:
    database = tmp_path / "sub" / "dir" / "fresh.sqlite3"

    await upgrade(url(database), UsersTableSpec())

    engine = create_engine(url(database))
    try:
        async with engine.connect() as connection:
            columns, primary_key, unique = await connection.run_sync(_describe_users)
    finally:
        await engine.dispose()
    assert columns == {
        "id": False,
        "email": False,
        "username": True,
        "password_hash": True,
        "is_active": False,
        "created_at": False,
        "last_login_at": True,
    }
    assert primary_key == ["id"]
    assert unique == [["email"], ["username"]]


def _describe_users(connection: sa.Connection) -> tuple[dict[str, bool], list[str], list[list[str]]]:
    inspector = sa.inspect(connection)
    columns = {column["name"]: column["nullable"] for column in inspector.get_columns("users")}
    primary_key = inspector.get_pk_constraint("users")["constrained_columns"]
    unique = sorted(constraint["column_names"] for constraint in inspector.get_unique_constraints("users"))
    return columns, primary_key, unique


async def test_custom_users_table_is_created_and_survives_downgrade(tmp_path: Path) -> None:
    database = tmp_path / "custom.sqlite3"
    spec = UsersTableSpec(table="accounts", id_column="account_id", email_column="mail", id_type="string")

    await upgrade(url(database), spec)
    await downgrade(url(database), spec, "base")

    assert table_names(database) == {"accounts", VERSION_TABLE}
    connection = sqlite3.connect(database)
    try:
        columns = [row[1] for row in connection.execute("PRAGMA table_info(accounts)")]
    finally:
        connection.close()
    assert columns[:2] == ["account_id", "mail"]


async def test_upgrade_does_not_depend_on_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)

    await upgrade(url(tmp_path / "elsewhere.sqlite3"), UsersTableSpec())

    assert KEYTURN_TABLES <= table_names(tmp_path / "elsewhere.sqlite3")


def test_alembic_ini_points_at_the_packaged_migrations() -> None:
    config = Config(str(REPOSITORY_ROOT / "alembic.ini"))

    script = ScriptDirectory.from_config(config)

    assert Path(script.dir).resolve() == MIGRATIONS_DIRECTORY
    assert script.get_current_head() == "0005"
