"""Async SQLAlchemy engines for SQLite (aiosqlite) and PostgreSQL (asyncpg).

SQLite connections get WAL journaling, a 5 s busy timeout and enforced
foreign keys. They also hand transaction control to SQLAlchemy, so that
``adapters.sql.transactions.write_transaction`` can open a write transaction
with ``BEGIN IMMEDIATE``.

PostgreSQL engines bound every wait by one timeout: connecting, running a
statement and waiting for a free pooled connection. A server that does not
respond then costs a request a fraction of a second, not a hung worker.
Pooled connections are checked before use, so after a server restart the
dead ones are replaced instead of failing the next requests; a connection
used within the last half second is trusted without a round trip.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ArgumentError, DisconnectionError, InvalidRequestError, NoSuchModuleError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from adapters.sql.availability import outage_log, store_call
from domain.errors import ConfigurationError

logger = logging.getLogger(__name__)

URL_SETTING = "KEYTURN_DATABASE_URL"
SQLITE_BUSY_TIMEOUT_MS = 5000
DEFAULT_TIMEOUT_SECONDS = 0.25
POOL_SIZE = 20
LIVENESS_BYPASS_SECONDS = 0.5
_LAST_USED = "keyturn_last_used"
# Execution option that ``write_transaction`` (in ``adapters.sql.transactions``)
# sets so that the "begin" hook emits BEGIN IMMEDIATE instead of a deferred BEGIN.
SQLITE_IMMEDIATE_OPTION = "keyturn_sqlite_immediate"

_DEFAULT_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
}
_BACKEND_ALIASES = {"sqlite": "sqlite", "postgresql": "postgresql", "postgres": "postgresql"}


def normalize_url(url: str) -> str:
    """Return ``url`` with the async driver Keyturn uses when it names none.

    ``sqlite:///p`` becomes ``sqlite+aiosqlite:///p``; ``postgresql://`` and
    ``postgres://`` become ``postgresql+asyncpg://``. An explicit driver is
    kept, apart from spelling the ``postgres`` backend as ``postgresql``.
    Raises ``ConfigurationError`` for any other backend or a URL without a scheme.
    """
    scheme, separator, rest = url.strip().partition("://")
    if not separator or not scheme:
        raise ConfigurationError(f"{URL_SETTING} must look like sqlite:///path or postgresql://host/db")
    backend, plus, driver = scheme.lower().partition("+")
    if backend not in _BACKEND_ALIASES:
        raise ConfigurationError(
            f"{URL_SETTING} names the unsupported database {backend!r}; use sqlite or postgresql"
        )
    if not plus:
        return f"{_DEFAULT_DRIVERS[backend]}://{rest}"
    return f"{_BACKEND_ALIASES[backend]}+{driver}://{rest}"


def create_engine(url: str, timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS, **engine_options: Any) -> AsyncEngine:
    """Create an async engine for ``url`` after ``normalize_url``.

    On PostgreSQL, ``timeout_seconds`` bounds connecting, each statement and
    the wait for a pooled connection; ``engine_options`` given by the caller
    win over these defaults. On SQLite it is not used: a local file has no
    connection to wait for, and writers wait up to the busy timeout.
    Statement parameters are left out of error messages, because they can
    hold password hashes.

    For a SQLite file the parent directory is created when missing. Raises
    ``ConfigurationError`` when SQLAlchemy cannot parse the URL or the driver
    is unknown or not async. The message leaves out the URL because it may
    contain a password.
    """
    if timeout_seconds <= 0:
        raise ConfigurationError(f"the database timeout must be positive, got {timeout_seconds}")
    normalized = normalize_url(url)
    try:
        parsed = make_url(normalized)
    except (ArgumentError, ValueError):
        # ``from None`` because SQLAlchemy's message quotes the URL and its password.
        raise ConfigurationError(f"{URL_SETTING} cannot be parsed as a database URL") from None
    if parsed.get_backend_name() == "sqlite":
        _create_parent_directory(parsed.database)
    options: dict[str, Any] = {"hide_parameters": True}
    if parsed.get_backend_name() == "postgresql":
        options.update(_postgresql_options(parsed.get_driver_name(), timeout_seconds))
    options.update(engine_options)
    try:
        engine = create_async_engine(parsed, **options)
    except (NoSuchModuleError, InvalidRequestError, ImportError) as error:
        raise ConfigurationError(
            f"{URL_SETTING} names the driver {parsed.get_driver_name()!r}, which is not an installed async driver"
        ) from error
    if engine.dialect.name == "sqlite":
        _install_sqlite_hooks(engine)
    if engine.dialect.driver == "asyncpg":
        _install_asyncpg_liveness_check(engine)
    return engine


async def ping(engine: AsyncEngine) -> None:
    """Run ``SELECT 1`` for a readiness probe; raises ``StoreUnavailable`` when the database does not respond.

    The result goes to the engine's shared outage log, so a failing probe
    and failing requests make one log entry between them.
    """
    async with store_call(outage_log(engine), "run a ping"):
        async with engine.connect() as connection:
            await connection.execute(sa.text("SELECT 1"))


def _install_asyncpg_liveness_check(engine: AsyncEngine) -> None:
    """Check each pooled asyncpg connection at checkout, and replace a dead one before it is used.

    A connection whose socket the event loop has seen closed, such as after
    a server restart, is replaced at once. Otherwise a connection returned
    to the pool within the last ``LIVENESS_BYPASS_SECONDS`` is trusted.
    HikariCP's ``HikariPool.java`` does the same, with an
    ``aliveBypassWindowMs`` of 500 ms by default. An older connection gets
    one empty query. SQLAlchemy's own pre-ping wraps that
    query in BEGIN and ROLLBACK, three round trips on every checkout.
    Raising ``DisconnectionError`` makes the pool open a new connection.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def remember_connect(dbapi_connection: Any, record: Any) -> None:
        record.info[_LAST_USED] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkin")
    def remember_checkin(dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            record.info[_LAST_USED] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def check_liveness(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        if dbapi_connection.driver_connection.is_closed():
            raise DisconnectionError("the pooled connection was closed")
        if time.monotonic() - record.info.get(_LAST_USED, 0.0) < LIVENESS_BYPASS_SECONDS:
            return
        try:
            dbapi_connection.run_async(lambda connection: connection.fetchrow(";"))
        except Exception as error:
            raise DisconnectionError("the pooled connection did not answer a ping") from error


def _postgresql_options(driver: str, timeout_seconds: float) -> dict[str, Any]:
    # Twenty pooled connections serve twenty concurrent requests without
    # opening and closing overflow connections, each costing a handshake.
    options: dict[str, Any] = {
        "pool_pre_ping": driver != "asyncpg",
        "pool_timeout": timeout_seconds,
        "pool_size": POOL_SIZE,
    }
    if driver == "asyncpg":
        # ``timeout`` bounds the connection handshake, ``command_timeout``
        # every statement, the liveness ping included.
        options["connect_args"] = {"timeout": timeout_seconds, "command_timeout": timeout_seconds}
    return options


def _create_parent_directory(database: str | None) -> None:
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)


def _install_sqlite_hooks(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def configure_connection(dbapi_connection: Any, _record: Any) -> None:
        # The sqlite3 module would otherwise issue its own deferred BEGIN
        # behind SQLAlchemy's back; the "begin" hook below takes over.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys=ON")
        finally:
            cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def begin_transaction(connection: Connection) -> None:
        immediate = connection.get_execution_options().get(SQLITE_IMMEDIATE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
