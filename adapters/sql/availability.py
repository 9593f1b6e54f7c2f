"""Fail-closed handling of database outages for the SQL stores.

Every public call of a SQL store runs inside ``store_call``. A failure to
reach the database, or a response that takes longer than the engine's
timeouts, becomes ``StoreUnavailable``; the request then fails instead of
going on without knowing whether a token was revoked. Errors that mean the
query itself is wrong, such as a violated constraint or a missing table,
pass through unchanged, because retrying would not help and hiding them
would make a bug look like an outage.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import sqlalchemy.exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.outage import OutageLog
from domain.errors import StoreUnavailable

logger = logging.getLogger(__name__)

# SQLite reports a few mistakes in the statement itself as OperationalError;
# they are not outages.
_SQLITE_STATEMENT_ERRORS = ("no such table", "no such column", "syntax error", "near ")

_outage_logs: weakref.WeakKeyDictionary[object, OutageLog] = weakref.WeakKeyDictionary()


def outage_log(engine: AsyncEngine) -> OutageLog:
    """Return the one ``OutageLog`` of ``engine``, shared by every store on it.

    Sharing it means a database outage is logged once, not once per store,
    and the first successful call of any store logs the recovery.
    """
    sync_engine = engine.sync_engine
    log = _outage_logs.get(sync_engine)
    if log is None:
        log = OutageLog(f"the {engine.dialect.name} database", logger)
        _outage_logs[sync_engine] = log
    return log


def is_connectivity_failure(error: BaseException) -> bool:
    """Return True when ``error`` means the database could not be reached or timed out."""
    if isinstance(error, (OSError, TimeoutError, sa_exc.TimeoutError)):
        # TimeoutError covers asyncio's; sqlalchemy's is a wait on the pool.
        return True
    if not isinstance(error, sa_exc.DBAPIError):
        return False
    if error.connection_invalidated:
        return True
    if isinstance(error, sa_exc.OperationalError):
        return not _is_sqlite_statement_error(error)
    if isinstance(error, sa_exc.InterfaceError):
        return True
    return _has_asyncpg_connectivity_cause(error)


@asynccontextmanager
async def store_call(outage: OutageLog, operation: str) -> AsyncIterator[None]:
    """Run the body as one call to the database and translate an outage into ``StoreUnavailable``.

    ``operation`` names the call in the error message, so it must not
    contain user data. Any other error is re-raised unchanged.
    """
    try:
        yield
    except Exception as error:
        if not is_connectivity_failure(error):
            raise
        outage.failed(_loggable(error))
        raise StoreUnavailable(f"could not {operation}: the database is unreachable or timed out") from error
    outage.succeeded()


def _loggable(error: BaseException) -> BaseException:
    # The driver's own exception names the cause without the SQL statement
    # and its parameters, which can hold password hashes.
    if isinstance(error, sa_exc.DBAPIError) and isinstance(error.orig, BaseException):
        return error.orig
    return error


def _is_sqlite_statement_error(error: sa_exc.DBAPIError) -> bool:
    module = type(error.orig).__module__ or ""
    if not module.startswith(("sqlite3", "aiosqlite")):
        return False
    message = str(error.orig).lower()
    return message.startswith(_SQLITE_STATEMENT_ERRORS)


def _has_asyncpg_connectivity_cause(error: BaseException) -> bool:
    """Look through the chain for an asyncpg error that PostgreSQL sends when it cannot serve the session.

    SQLAlchemy wraps most asyncpg server errors in a plain ``DBAPIError``,
    so the SQLSTATE class is only visible on the original exception.
    """
    try:
        from asyncpg import exceptions as pg
    except ImportError:
        return False
    outage_types = (
        pg.PostgresConnectionError,  # class 08: the connection failed
        pg.OperatorInterventionError,  # class 57: shutdown, cannot connect now, cancelled by timeout
        pg.InsufficientResourcesError,  # class 53: too many connections, out of memory or disk
        pg.InterfaceError,
    )
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, outage_types):
            return True
        current = getattr(current, "orig", None) or current.__cause__ or current.__context__
    return False
