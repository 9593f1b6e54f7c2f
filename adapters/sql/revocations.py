"""Denied ``jti``s, denied sessions and user watermarks in Keyturn's tables."""

from __future__ import annotations

import logging
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from adapters.sql.availability import outage_log, store_call
from adapters.sql.purging import DEFAULT_PURGE_LIMIT, PurgeSchedule, delete_expired
from adapters.sql.revocation_feed import record_changes
from adapters.sql.tables import denied_sessions, denied_tokens, revocation_feed, user_watermarks
from adapters.sql.transactions import nested_write_transaction, read_connection, write_transaction
from domain.clock import Clock, SystemClock
from domain.revocation import Denial, RevocationPlan, RevocationStatus, Watermark
from domain.tokens import AccessToken

logger = logging.getLogger(__name__)

_DIALECT_INSERTS = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}


class SqlRevocationStore:
    """``RevocationStore`` on SQLAlchemy, with upserts that never shorten an entry.

    ``apply`` also appends the plan to ``keyturn_revocation_feed`` in the same
    transaction, for per-process replicas. ``clock`` dates those feed rows
    and the lazy purge of expired rows, which runs at most once a minute
    after ``apply``. Every method raises ``StoreUnavailable``
    when the database cannot be reached in time.
    """

    def __init__(self, engine: AsyncEngine, clock: Clock | None = None) -> None:
        self._engine = engine
        self._clock = clock or SystemClock()
        self._outage = outage_log(engine)
        # Purge cadence follows the injected clock, so simulated time purges too.
        self._purge_schedule = PurgeSchedule(monotonic=lambda: self._clock.now().timestamp())

    async def apply(self, plan: RevocationPlan) -> None:
        async with store_call(self._outage, "store a revocation"), write_transaction(self._engine) as connection:
            for denial in plan.tokens:
                await _upsert_denial(connection, denied_tokens, denied_tokens.c.jti, denial)
            for denial in plan.sessions:
                await _upsert_denial(connection, denied_sessions, denied_sessions.c.session_id, denial)
            if plan.watermark is not None:
                await _upsert_watermark(connection, plan.watermark)
            await record_changes(connection, plan, self._clock.now())
        await self._purge_schedule.run_if_due(lambda: self.purge_expired(self._clock.now()))

    async def status(self, token: AccessToken, now: datetime) -> RevocationStatus:
        """Read the three entries that concern ``token`` with a single SELECT."""
        query = sa.select(
            sa.exists().where(denied_tokens.c.jti == token.token_id, denied_tokens.c.expires_at > now),
            sa.exists().where(denied_sessions.c.session_id == token.session_id, denied_sessions.c.expires_at > now),
            _watermark_query(token.subject, now).scalar_subquery(),
        )
        async with store_call(self._outage, "check revocations"), read_connection(self._engine) as connection:
            token_denied, session_denied, watermark = (await connection.execute(query)).one()
        return RevocationStatus(
            token_denied=bool(token_denied),
            session_denied=bool(session_denied),
            watermark=watermark,
        )

    async def watermark(self, user_id: str, now: datetime) -> datetime | None:
        async with store_call(self._outage, "read a watermark"), read_connection(self._engine) as connection:
            return (await connection.execute(_watermark_query(user_id, now))).scalar()

    async def purge_expired(self, now: datetime, limit: int = DEFAULT_PURGE_LIMIT) -> int:
        """Delete up to ``limit`` expired entries and feed rows across the four tables; return how many went."""
        deleted = 0
        async with (
            store_call(self._outage, "purge expired revocations"),
            nested_write_transaction(self._engine) as connection,
        ):
            for table in (denied_tokens, denied_sessions, user_watermarks, revocation_feed):
                if deleted >= limit:
                    break
                deleted += await delete_expired(connection, table, now, limit - deleted)
        return deleted


def _watermark_query(user_id: str, now: datetime) -> sa.Select:
    return sa.select(user_watermarks.c.issued_before).where(
        user_watermarks.c.user_id == user_id, user_watermarks.c.expires_at > now
    )


def _dialect_insert(connection: AsyncConnection, table: sa.Table):
    try:
        return _DIALECT_INSERTS[connection.dialect.name](table)
    except KeyError:
        raise NotImplementedError(f"no upsert for the {connection.dialect.name} dialect") from None


async def _upsert_denial(connection: AsyncConnection, table: sa.Table, key: sa.Column, denial: Denial) -> None:
    statement = _dialect_insert(connection, table).values({key.name: denial.key, "expires_at": denial.until})
    later_expiry = sa.case(
        (statement.excluded.expires_at > table.c.expires_at, statement.excluded.expires_at),
        else_=table.c.expires_at,
    )
    await connection.execute(
        statement.on_conflict_do_update(index_elements=[key], set_={"expires_at": later_expiry})
    )


async def _upsert_watermark(connection: AsyncConnection, mark: Watermark) -> None:
    """Store the watermark unless the stored one is at least as high; a higher one brings its own expiry."""
    statement = _dialect_insert(connection, user_watermarks).values(
        user_id=mark.user_id, issued_before=mark.issued_before, expires_at=mark.until
    )
    await connection.execute(
        statement.on_conflict_do_update(
            index_elements=[user_watermarks.c.user_id],
            set_={"issued_before": statement.excluded.issued_before, "expires_at": statement.excluded.expires_at},
            where=statement.excluded.issued_before > user_watermarks.c.issued_before,
        )
    )
