"""A unit of work as one SQL transaction."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sql.availability import outage_log, store_call
from adapters.sql.transactions import ambient_transaction


class SqlUnitOfWork:
    """``UnitOfWork`` as one transaction on ``engine``, joined by the SQL stores and the SQL audit sink on it.

    The stores write through the unit's connection, so their changes and the
    audit rows commit together when ``atomic`` exits and roll back together
    when its block raises. Redis and in-memory stores are not part of the
    transaction, so their writes stay after a rollback. On SQLite the unit
    holds the database's write lock from start to end, which is why use
    cases keep password hashing outside it. Failing to reach the database
    when the unit starts or commits raises ``StoreUnavailable``.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._outage = outage_log(engine)

    @asynccontextmanager
    async def atomic(self) -> AsyncIterator[None]:
        async with store_call(self._outage, "run a transaction"), ambient_transaction(self._engine):
            yield
