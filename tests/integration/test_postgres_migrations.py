"""Keyturn's migrations on PostgreSQL, on the legacy schema and on an empty database.

The legacy tables are compared through ``information_schema`` and the
catalog before and after each step: columns, constraints, indexes and
every row must come out exactly as they went in.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from adapters.sql.migrate import downgrade, upgrade
from adapters.sql.tables import VERSION_TABLE, include_name, include_object, metadata
from adapters.sql.users_table import UsersTableSpec
from tests.integration.postgres_support import (
    POSTGRES_HOST,
    POSTGRES_PORT,
    POSTGRES_USER,
    create_database,
    drop_database,
    load_legacy_sql,
    make_engine,
    postgres_url,
    require_postgres,
)

pytestmark = pytest.mark.postgres

KEYTURN_TABLES = {table.name for table in metadata.sorted_tables}
LEGACY_TABLES = ("users", "posts")

_COLUMNS = """
    SELECT table_name, ordinal_position, column_name, data_type, character_maximum_length,
           is_nullable, column_default, is_identity
    FROM information_schema.columns
    WHERE table_schema = 'public' AND table_name = ANY($1::text[])
    ORDER BY table_name, ordinal_position
"""
_CONSTRAINTS = """
    SELECT rel.relname, con.conname, con.contype, pg_get_constraintdef(con.oid)
    FROM pg_constraint con JOIN pg_class rel ON rel.oid = con.conrelid
    WHERE rel.relname = ANY($1::text[])
    ORDER BY rel.relname, con.conname
"""
_INDEXES = """
    SELECT tablename, indexname, indexdef FROM pg_indexes
    WHERE schemaname = 'public' AND tablename = ANY($1::text[])
    ORDER BY tablename, indexname
"""
_TABLES = "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"


@pytest.fixture
async def legacy_database() -> AsyncIterator[str]:
    """A database with only the legacy schema and rows, not yet migrated."""
    require_postgres()
    name = await create_database()
    try:
        await load_legacy_sql(name)
        yield name
    finally:
        await drop_database(name)


async def connect(database: str) -> asyncpg.Connection:
    return await asyncpg.connect(host=POSTGRES_HOST, port=POSTGRES_PORT, user=POSTGRES_USER, database=database)


async def legacy_snapshot(database: str) -> dict[str, list]:
    """Schema and rows of the legacy tables, in a form that compares exactly."""
    connection = await connect(database)
    try:
        snapshot: dict[str, list] = {}
        for label, query in (("columns", _COLUMNS), ("constraints", _CONSTRAINTS), ("indexes", _INDEXES)):
            snapshot[label] = [tuple(row) for row in await connection.fetch(query, list(LEGACY_TABLES))]
        for table in LEGACY_TABLES:
            snapshot[table] = [tuple(row) for row in await connection.fetch(f"SELECT * FROM {table} ORDER BY id")]
        return snapshot
    finally:
        await connection.close()


async def table_names(database: str) -> set[str]:
    connection = await connect(database)
    try:
        return {row["tablename"] for row in await connection.fetch(_TABLES)}
    finally:
        await connection.close()


async def test_upgrade_leaves_legacy_schema_and_rows_unchanged(legacy_database: str) -> None:
    before = await legacy_snapshot(legacy_database)
    assert len(before["users"]) == 50
    assert any(row[0] == 2147483653 for row in before["users"])
    assert before["indexes"] and before["constraints"]

    await upgrade(postgres_url(legacy_database), UsersTableSpec())

    assert await legacy_snapshot(legacy_database) == before
    assert await table_names(legacy_database) == KEYTURN_TABLES | set(LEGACY_TABLES) | {VERSION_TABLE}


async def test_upgrade_twice_changes_nothing(legacy_database: str) -> None:
    await upgrade(postgres_url(legacy_database), UsersTableSpec())
    before = await legacy_snapshot(legacy_database)

    await upgrade(postgres_url(legacy_database), UsersTableSpec())

    assert await legacy_snapshot(legacy_database) == before


async def test_stairway_upgrade_downgrade_upgrade(legacy_database: str) -> None:
    url = postgres_url(legacy_database)
    before = await legacy_snapshot(legacy_database)

    await upgrade(url, UsersTableSpec())
    await downgrade(url, UsersTableSpec(), "base")

    assert await table_names(legacy_database) == set(LEGACY_TABLES) | {VERSION_TABLE}
    assert await legacy_snapshot(legacy_database) == before

    await upgrade(url, UsersTableSpec())

    assert await table_names(legacy_database) == KEYTURN_TABLES | set(LEGACY_TABLES) | {VERSION_TABLE}
    assert await legacy_snapshot(legacy_database) == before


async def autogenerate_diffs(database: str, **filters) -> list:
    engine = make_engine(database)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(
                lambda sync: compare_metadata(
                    MigrationContext.configure(sync, opts={"compare_type": True, **filters}), metadata
                )
            )
    finally:
        await engine.dispose()


async def test_models_match_migrations_and_legacy_tables_are_ignored(legacy_database: str) -> None:
    await upgrade(postgres_url(legacy_database), UsersTableSpec())

    assert await autogenerate_diffs(legacy_database, include_object=include_object, include_name=include_name) == []
    # Without the filters autogenerate would propose dropping the application's tables.
    dropped = {diff[1].name for diff in await autogenerate_diffs(legacy_database) if diff[0] == "remove_table"}
    assert set(LEGACY_TABLES) <= dropped


async def test_empty_database_gets_a_bigint_users_table() -> None:
    require_postgres()
    name = await create_database()
    try:
        await upgrade(postgres_url(name), UsersTableSpec())
        connection = await connect(name)
        try:
            columns = {
                row["column_name"]: (row["data_type"], row["is_nullable"])
                for row in await connection.fetch(_COLUMNS, ["users"])
            }
        finally:
            await connection.close()
    finally:
        await drop_database(name)

    assert columns == {
        "id": ("bigint", "NO"),
        "email": ("character varying", "NO"),
        "username": ("character varying", "YES"),
        "password_hash": ("character varying", "YES"),
        "is_active": ("boolean", "NO"),
        "created_at": ("timestamp with time zone", "NO"),
        "last_login_at": ("timestamp with time zone", "YES"),
    }
