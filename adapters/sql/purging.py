"""Bounded deletion of expired rows, run lazily by the stores that own them."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.errors import StoreUnavailable

logger = logging.getLogger(__name__)

PURGE_INTERVAL_SECONDS = 60.0
DEFAULT_PURGE_LIMIT = 500


async def delete_expired(
    connection: AsyncConnection,
    table: sa.Table,
    now: datetime,
    limit: int,
    *extra_conditions: sa.ColumnElement[bool],
) -> int:
    """Delete at most ``limit`` rows of ``table`` whose ``expires_at`` is at or before ``now``.

    The rows are chosen by primary key in a subquery, because neither
    PostgreSQL nor a default SQLite build accepts ``DELETE ... LIMIT``.
    """
    key = next(iter(table.primary_key.columns))
    expired = (
        sa.select(key).where(table.c.expires_at <= now, *extra_conditions).limit(limit).scalar_subquery()
    )
    result = await connection.execute(sa.delete(table).where(key.in_(expired)))
    return result.rowcount or 0


class PurgeSchedule:
    """Runs a purge at most once per interval, for one store instance.

    The purge is housekeeping: a failure is logged and the caller goes on,
    because its own write does not depend on the purge. Inside a unit of
    work the stores run the purge in a SAVEPOINT, so a failed purge leaves
    the unit able to commit.
    """

    def __init__(
        self,
        interval_seconds: float = PURGE_INTERVAL_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._interval = interval_seconds
        self._monotonic = monotonic
        self._last_run: float | None = None

    async def run_if_due(self, purge: Callable[[], Awaitable[int]]) -> None:
        moment = self._monotonic()
        if self._last_run is not None and moment - self._last_run < self._interval:
            return
        self._last_run = moment
        try:
            deleted = await purge()
        except (SQLAlchemyError, StoreUnavailable):
            logger.warning("purging expired rows failed; the next purge will retry", exc_info=True)
            return
        if deleted:
            logger.debug("purged %d expired rows", deleted)
