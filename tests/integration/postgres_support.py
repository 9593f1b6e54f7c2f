"""Throwaway databases on the local PostgreSQL server for integration and end-to-end tests.

Every database made here is named ``keyturn_test_<hex>``, is created from
the ``postgres`` maintenance database and is dropped with ``WITH (FORCE)``
when its fixture ends, so no test reads another's rows and nothing is left
behind on the shared server.

Tests on one migrated database are isolated by truncating Keyturn's tables
and the users table before each test, which takes a few milliseconds.
Tests that change the legacy rows get their own copy of a legacy template
database instead, made with ``CREATE DATABASE ... TEMPLATE`` in about a
tenth of a second, because truncation cannot bring those rows back.

When nothing listens on 127.0.0.1:5432 the tests are skipped, or fail when
``KEYTURN_REQUIRE_SERVICES=1`` says the server must be there (as in CI).
"""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import asyncpg
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sql.engine import create_engine
from adapters.sql.migrate import upgrade
from adapters.sql.tables import metadata
from adapters.sql.users_table import UsersTableSpec
from tests.conftest import LEGACY_FIXTURES

POSTGRES_HOST = "127.0.0.1"
POSTGRES_PORT = 5432
POSTGRES_USER = os.environ.get("KEYTURN_TEST_POSTGRES_USER", "postgres")
MAINTENANCE_DATABASE = "postgres"
DATABASE_PREFIX = "keyturn_test_"
LEGACY_SQL = LEGACY_FIXTURES / "legacy_flask_app.postgres.sql"
KEYTURN_TABLES = tuple(table.name for table in metadata.sorted_tables)
# Far above the production default, so that a slow CI machine does not
# turn a slow test into a false outage. The outage tests set their own.
TEST_TIMEOUT_SECONDS = 5.0

Drop = Callable[[], Awaitable[None]]


def postgres_url(database: str) -> str:
    """URL of ``database`` on the local server, in the form ``KEYTURN_DATABASE_URL`` takes."""
    return f"postgresql://{POSTGRES_USER}@{POSTGRES_HOST}:{POSTGRES_PORT}/{database}"


def postgres_unreachable_reason() -> str | None:
    """Return why the local server cannot be used, or None when it accepts TCP connections."""
    try:
        with socket.create_connection((POSTGRES_HOST, POSTGRES_PORT), timeout=1.0):
            return None
    except OSError as error:
        return f"PostgreSQL is not reachable on {POSTGRES_HOST}:{POSTGRES_PORT} ({error})"


def require_postgres() -> None:
    """Skip the calling test when the server is missing, or fail it when services are required."""
    reason = postgres_unreachable_reason()
    if reason is None:
        return
    if os.environ.get("KEYTURN_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{reason}, and KEYTURN_REQUIRE_SERVICES=1 requires it: start PostgreSQL or unset the variable")
    pytest.skip(reason)


async def create_database(template: str | None = None) -> str:
    """Create an empty database with a unique name, or a copy of ``template``, and return its name."""
    name = f"{DATABASE_PREFIX}{uuid.uuid4().hex}"
    statement = f'CREATE DATABASE "{name}"'
    if template is not None:
        statement += f' TEMPLATE "{template}"'
    connection = await _maintenance_connection()
    try:
        await connection.execute(statement)
    finally:
        await connection.close()
    return name


async def drop_database(name: str) -> None:
    """Drop a database made by ``create_database``, closing any connection still open on it."""
    if not name.startswith(DATABASE_PREFIX):
        raise ValueError(f"refusing to drop {name!r}, which these helpers did not create")
    connection = await _maintenance_connection()
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


async def load_legacy_sql(database: str) -> None:
    """Run the legacy Flask app's schema and rows (``users`` and ``posts``) in ``database``."""
    connection = await asyncpg.connect(
        host=POSTGRES_HOST, port=POSTGRES_PORT, user=POSTGRES_USER, database=database, timeout=5
    )
    try:
        # Without arguments asyncpg sends the whole script as one simple query.
        await connection.execute(LEGACY_SQL.read_text(encoding="utf-8"))
    finally:
        await connection.close()


async def create_legacy_postgres_database(spec: UsersTableSpec | None = None) -> tuple[str, Drop]:
    """Make a database holding the legacy schema and rows, migrated to Keyturn's head revision.

    Returns its URL and an async callable that drops it; the caller must
    await that callable when done. Skips or fails the calling test, as
    ``require_postgres`` does, when the server is missing.
    """
    require_postgres()
    name = await create_database()
    try:
        await load_legacy_sql(name)
        await upgrade(postgres_url(name), spec or UsersTableSpec())
    except BaseException:
        await drop_database(name)
        raise
    return postgres_url(name), lambda: drop_database(name)


async def truncate_tables(engine: AsyncEngine, *tables: str) -> None:
    """Empty ``tables``, which default to Keyturn's own, in one statement."""
    names = ", ".join(f'"{table}"' for table in (tables or KEYTURN_TABLES))
    async with engine.begin() as connection:
        await connection.exec_driver_sql(f"TRUNCATE {names}")


def make_engine(database: str, timeout_seconds: float = TEST_TIMEOUT_SECONDS) -> AsyncEngine:
    return create_engine(postgres_url(database), timeout_seconds=timeout_seconds)


async def _maintenance_connection() -> asyncpg.Connection:
    return await asyncpg.connect(
        host=POSTGRES_HOST, port=POSTGRES_PORT, user=POSTGRES_USER, database=MAINTENANCE_DATABASE, timeout=5
    )


async def _create_migrated_database() -> str:
    name = await create_database()
    try:
        await upgrade(postgres_url(name), UsersTableSpec())
    except BaseException:
        await drop_database(name)
        raise
    return name


async def _create_legacy_database() -> str:
    url, _ = await create_legacy_postgres_database()
    return url.rsplit("/", 1)[1]


# Session fixtures are synchronous and run their setup in a private event
# loop: each test has its own loop, and asyncpg connections cannot move
# between loops, so nothing opened here outlives the setup.


@pytest.fixture(scope="session")
def postgres_migrated_database() -> Iterator[str]:
    """Name of a database migrated to head for this test session, with the default, empty users table."""
    require_postgres()
    name = asyncio.run(_create_migrated_database())
    yield name
    asyncio.run(drop_database(name))


@pytest.fixture(scope="session")
def postgres_legacy_template() -> Iterator[str]:
    """Name of a migrated legacy database that tests copy and never connect to."""
    require_postgres()
    name = asyncio.run(_create_legacy_database())
    yield name
    asyncio.run(drop_database(name))


@pytest.fixture
async def postgres_engine(postgres_migrated_database: str) -> AsyncIterator[AsyncEngine]:
    """An engine on the session's migrated database, with Keyturn's tables and ``users`` emptied first."""
    engine = make_engine(postgres_migrated_database)
    try:
        await truncate_tables(engine, *KEYTURN_TABLES, UsersTableSpec().table)
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
async def legacy_postgres_database(postgres_legacy_template: str) -> AsyncIterator[str]:
    """Name of this test's own copy of the migrated legacy database."""
    name = await create_database(template=postgres_legacy_template)
    try:
        yield name
    finally:
        await drop_database(name)


@pytest.fixture
async def legacy_postgres_engine(legacy_postgres_database: str) -> AsyncIterator[AsyncEngine]:
    """An engine on this test's own copy of the migrated legacy database."""
    engine = make_engine(legacy_postgres_database)
    try:
        yield engine
    finally:
        await engine.dispose()
