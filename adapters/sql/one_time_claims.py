"""One-time claims in ``keyturn_legacy_claims``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sql.availability import outage_log, store_call
from adapters.sql.purging import DEFAULT_PURGE_LIMIT, PurgeSchedule, delete_expired
from adapters.sql.tables import legacy_claims
from adapters.sql.transactions import nested_write_transaction, write_transaction
from domain.clock import Clock, SystemClock

_DIALECT_INSERTS = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}


class SqlOneTimeClaims:
    """``OneTimeClaims`` as one conditional upsert per claim.

    The insert takes a free key; on conflict the row is taken over only when
    its claim has expired. Either way the statement reports one affected row
    exactly when this call won, and the primary key makes concurrent claims
    of one key serialize in the database. Expired rows are purged lazily,
    at most once a minute.
    """

    def __init__(self, engine: AsyncEngine, clock: Clock | None = None) -> None:
        self._engine = engine
        self._clock = clock or SystemClock()
        self._outage = outage_log(engine)
        self._purge_schedule = PurgeSchedule(monotonic=lambda: self._clock.now().timestamp())

    async def claim(self, key: str, expires_at: datetime, now: datetime) -> bool:
        async with store_call(self._outage, "claim a one-time key"), write_transaction(self._engine) as connection:
            insert = _DIALECT_INSERTS[connection.dialect.name](legacy_claims).values(claim_key=key, expires_at=expires_at)
            statement = insert.on_conflict_do_update(
                index_elements=[legacy_claims.c.claim_key],
                set_={"expires_at": insert.excluded.expires_at},
                where=legacy_claims.c.expires_at <= now,
            )
            claimed = (await connection.execute(statement)).rowcount == 1
        await self._purge_schedule.run_if_due(lambda: self.purge_expired(self._clock.now()))
        return claimed

    async def purge_expired(self, now: datetime, limit: int = DEFAULT_PURGE_LIMIT) -> int:
        async with (
            store_call(self._outage, "purge expired claims"),
            nested_write_transaction(self._engine) as connection,
        ):
            return await delete_expired(connection, legacy_claims, now, limit)
