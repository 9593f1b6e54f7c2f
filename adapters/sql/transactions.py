"""Connections and transactions for the SQL adapters, and the ambient transaction of a unit of work.

Outside a unit of work, ``write_transaction`` opens a transaction of its
own and commits it, and ``read_connection`` checks out a connection for the
reads of one call. Inside a unit that ``ambient_transaction`` opened on the
same engine, all three helpers here hand out the unit's connection instead.
Every write then commits or rolls back with the unit, and a read returns
the writes made earlier in the unit, which a separate connection could not
read before the commit.

The open unit is kept in a context variable, so it follows the task that
opened it and the tasks that task starts, and it is keyed by engine, so a
store on another database never joins it. Calls inside one unit must run
one after another, because they share one connection and a SQLAlchemy
connection runs one statement at a time.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from adapters.sql.engine import SQLITE_BUSY_TIMEOUT_MS, SQLITE_IMMEDIATE_OPTION


@dataclass(eq=False, slots=True)
class _AmbientTransaction:
    """The engine and connection of an open unit; ``connection`` is None once the unit has ended."""

    sync_engine: Engine
    connection: AsyncConnection | None


_open_units: ContextVar[tuple[_AmbientTransaction, ...]] = ContextVar("keyturn_sql_open_units", default=())
_sqlite_writer_locks: weakref.WeakKeyDictionary[Engine, dict[asyncio.AbstractEventLoop, asyncio.Lock]] = (
    weakref.WeakKeyDictionary()
)


def _sqlite_writer_lock(engine: AsyncEngine) -> asyncio.Lock:
    """Return the lock that lets one writer of this process at a time into a SQLite database."""
    locks = _sqlite_writer_locks.setdefault(engine.sync_engine, {})
    loop = asyncio.get_running_loop()
    lock = locks.get(loop)
    if lock is None:
        lock = locks[loop] = asyncio.Lock()
    return lock


def ambient_connection(engine: AsyncEngine) -> AsyncConnection | None:
    """Return the connection of the unit open on ``engine`` in the current context, or None outside a unit."""
    for unit in _open_units.get():
        if unit.sync_engine is engine.sync_engine and unit.connection is not None:
            return unit.connection
    return None


@asynccontextmanager
async def ambient_transaction(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """Open a write transaction that the helpers of this module join for ``engine`` until the block ends.

    The transaction commits when the block exits normally and rolls back
    when it raises. Opened inside another unit on the same engine, the block
    joins that unit and leaves the commit or rollback to it.
    """
    joined = ambient_connection(engine)
    if joined is not None:
        yield joined
        return
    async with write_transaction(engine) as connection:
        unit = _AmbientTransaction(engine.sync_engine, connection)
        token = _open_units.set((*_open_units.get(), unit))
        try:
            yield connection
        finally:
            # A task started inside the unit keeps a copy of the context, so
            # the connection is cleared to stop it from joining a finished unit.
            unit.connection = None
            _open_units.reset(token)


@asynccontextmanager
async def write_transaction(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """Open a connection in a transaction that will write, and commit it on success.

    Inside a unit on ``engine`` the block runs on the unit's connection and
    neither commits nor rolls back, because the unit does.

    On SQLite the transaction starts with ``BEGIN IMMEDIATE``, which takes the
    write lock up front. A deferred transaction that reads first and writes
    later can fail at once with "database is locked" when another writer
    commits in between, because the busy timeout cannot help a stale snapshot.
    Writers of one process also queue on an asyncio lock first, because
    SQLite admits one writer anyway. Without it, SQLite's busy handler made
    the others sleep and retry, and refresh latency at the 99th percentile
    passed a second with 16 concurrent clients.
    """
    joined = ambient_connection(engine)
    if joined is not None:
        yield joined
        return
    if engine.dialect.name != "sqlite":
        async with engine.connect() as connection, connection.begin():
            yield connection
        return
    lock = _sqlite_writer_lock(engine)
    # Bounded like SQLite's own busy wait, so a writer stuck behind another
    # fails with TimeoutError, an outage to the caller, instead of hanging.
    async with asyncio.timeout(SQLITE_BUSY_TIMEOUT_MS / 1000):
        await lock.acquire()
    try:
        async with engine.connect() as connection:
            await connection.execution_options(**{SQLITE_IMMEDIATE_OPTION: True})
            async with connection.begin():
                yield connection
    finally:
        lock.release()


@asynccontextmanager
async def nested_write_transaction(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """Open a write like ``write_transaction``, but inside a unit run the block in a SAVEPOINT.

    An error in the block then rolls back only the block's own statements
    and leaves the unit able to commit the rest. This is for writes that
    must never undo the change they go with, such as audit rows and purges.
    """
    joined = ambient_connection(engine)
    if joined is None:
        async with write_transaction(engine) as connection:
            yield connection
        return
    async with joined.begin_nested():
        yield joined


@asynccontextmanager
async def single_write(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """Open a connection for one statement that writes, such as an audit row.

    Inside a unit the statement runs in a SAVEPOINT, as with
    ``nested_write_transaction``. Outside one, PostgreSQL runs it in
    autocommit mode, which saves the BEGIN and COMMIT round trips; a single
    statement is atomic on its own.
    """
    joined = ambient_connection(engine)
    if joined is not None:
        async with joined.begin_nested():
            yield joined
        return
    if engine.dialect.name != "postgresql":
        async with write_transaction(engine) as connection:
            yield connection
        return
    async with engine.connect() as connection:
        await connection.execution_options(isolation_level="AUTOCOMMIT")
        yield connection


@asynccontextmanager
async def read_connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """Yield the unit's connection inside a unit on ``engine``, else a pooled connection for this call's reads.

    Outside a unit, PostgreSQL reads run in autocommit mode: each statement
    reads committed data, as under the default READ COMMITTED level, without
    the round trips of BEGIN and ROLLBACK.
    """
    joined = ambient_connection(engine)
    if joined is not None:
        yield joined
        return
    async with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            await connection.execution_options(isolation_level="AUTOCOMMIT")
        yield connection
