"""Failed login counts per key, in fixed windows, in ``keyturn_login_attempts``."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from adapters.sql.availability import outage_log, store_call
from adapters.sql.purging import DEFAULT_PURGE_LIMIT, PurgeSchedule, delete_expired
from adapters.sql.tables import login_attempts
from adapters.sql.transactions import nested_write_transaction, read_connection, write_transaction
from domain.clock import Clock, SystemClock
from domain.throttling import FailureWindow

_DIALECT_INSERTS = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}


class SqlLoginAttemptCounter:
    """``LoginAttemptCounter`` as one row per key: the failure count and the end of its window.

    A failure is counted by a single upsert that either adds one to a live
    window or starts a new window over an expired row, and returns the new
    count. The primary key makes concurrent failures of one key serialize in
    the database, so none is lost. Rows whose window has ended are purged
    lazily, at most once a minute. Every method raises ``StoreUnavailable``
    when the database cannot be reached in time.
    """

    def __init__(self, engine: AsyncEngine, clock: Clock | None = None) -> None:
        self._engine = engine
        self._clock = clock or SystemClock()
        self._outage = outage_log(engine)
        # Purge cadence follows the injected clock, so simulated time purges too.
        self._purge_schedule = PurgeSchedule(monotonic=lambda: self._clock.now().timestamp())

    async def record_failure(self, key: str, window: timedelta, now: datetime) -> int:
        if window <= timedelta(0):
            raise ValueError(f"window must be positive, got {window}")
        async with store_call(self._outage, "count a failed login"), write_transaction(self._engine) as connection:
            count = await _upsert_failure(connection, key, now + window, now)
        await self._purge_schedule.run_if_due(lambda: self.purge_expired(self._clock.now()))
        return count

    async def failures(self, key: str, now: datetime) -> int:
        current = await self.window(key, now)
        return 0 if current is None else current.count

    async def window(self, key: str, now: datetime) -> FailureWindow | None:
        query = sa.select(login_attempts.c.failures, login_attempts.c.expires_at).where(
            login_attempts.c.attempt_key == key, login_attempts.c.expires_at > now
        )
        async with store_call(self._outage, "read failed logins"), read_connection(self._engine) as connection:
            row = (await connection.execute(query)).first()
        return None if row is None else FailureWindow(row.failures, row.expires_at)

    async def reset(self, key: str) -> None:
        statement = sa.delete(login_attempts).where(login_attempts.c.attempt_key == key)
        async with store_call(self._outage, "reset failed logins"), write_transaction(self._engine) as connection:
            await connection.execute(statement)

    async def purge_expired(self, now: datetime, limit: int = DEFAULT_PURGE_LIMIT) -> int:
        """Delete up to ``limit`` rows whose window has ended; return how many went."""
        async with (
            store_call(self._outage, "purge failed logins"),
            nested_write_transaction(self._engine) as connection,
        ):
            return await delete_expired(connection, login_attempts, now, limit)


async def _upsert_failure(connection: AsyncConnection, key: str, window_ends: datetime, now: datetime) -> int:
    # Both SET expressions read the row as it was before the update, so the
    # window test is the same for the count and for the new end.
    live = login_attempts.c.expires_at > now
    insert = _DIALECT_INSERTS[connection.dialect.name](login_attempts).values(
        attempt_key=key, failures=1, expires_at=window_ends
    )
    statement = insert.on_conflict_do_update(
        index_elements=[login_attempts.c.attempt_key],
        set_={
            "failures": sa.case((live, login_attempts.c.failures + 1), else_=1),
            "expires_at": sa.case((live, login_attempts.c.expires_at), else_=insert.excluded.expires_at),
        },
    ).returning(login_attempts.c.failures)
    return (await connection.execute(statement)).scalar_one()
