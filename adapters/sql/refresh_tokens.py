"""Sessions and refresh tokens in ``keyturn_sessions`` and ``keyturn_refresh_tokens``."""

from __future__ import annotations

import logging
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from adapters.sql.availability import outage_log, store_call
from adapters.sql.purging import DEFAULT_PURGE_LIMIT, PurgeSchedule, delete_expired
from adapters.sql.tables import refresh_tokens, sessions
from adapters.sql.transactions import nested_write_transaction, read_connection, write_transaction
from domain.clock import Clock, SystemClock
from domain.session import RefreshRecord, RefreshState, RotationOutcome, RotationResult, Session

logger = logging.getLogger(__name__)


class SqlRefreshTokenStore:
    """``RefreshTokenStore`` on SQLAlchemy.

    ``clock`` only dates the lazy purge of expired rows, which runs at most
    once a minute after ``open_session``. Every method raises
    ``StoreUnavailable`` when the database cannot be reached in time.
    """

    def __init__(self, engine: AsyncEngine, clock: Clock | None = None) -> None:
        self._engine = engine
        self._clock = clock or SystemClock()
        self._outage = outage_log(engine)
        # Purge cadence follows the injected clock, so simulated time purges too.
        self._purge_schedule = PurgeSchedule(monotonic=lambda: self._clock.now().timestamp())

    async def open_session(self, session: Session, record: RefreshRecord) -> None:
        async with store_call(self._outage, "open a session"), write_transaction(self._engine) as connection:
            await connection.execute(sa.insert(sessions).values(_session_values(session)))
            await connection.execute(sa.insert(refresh_tokens).values(_record_values(record)))
        await self._purge_schedule.run_if_due(lambda: self.purge_expired(self._clock.now()))

    async def rotate(self, token_hash: str, new_hash: str, now: datetime, expires_at: datetime) -> RotationResult:
        """Mark the token rotated with one conditional UPDATE, then add its successor.

        The UPDATE matches only an active, unexpired token of a live session,
        so of several concurrent calls exactly one changes the row. The others
        then read the record to tell a rotated token from an unusable one.
        """
        async with store_call(self._outage, "rotate a refresh token"), write_transaction(self._engine) as connection:
            claimed = (await connection.execute(_claim_statement(token_hash, now))).first()
            if claimed is None:
                return _result_without_rotation(await _select_record(connection, token_hash))
            presented = RefreshRecord(
                token_hash=token_hash,
                session_id=claimed.session_id,
                user_id=claimed.user_id,
                issued_at=claimed.issued_at,
                expires_at=claimed.expires_at,
            )
            successor = RefreshRecord(
                token_hash=new_hash,
                session_id=presented.session_id,
                user_id=presented.user_id,
                issued_at=now,
                expires_at=expires_at,
            )
            await connection.execute(sa.insert(refresh_tokens).values(_record_values(successor)))
            await connection.execute(
                sa.update(sessions)
                .where(sessions.c.id == presented.session_id)
                .values(last_used_at=now, expires_at=expires_at)
            )
        return RotationResult(RotationOutcome.ROTATED, presented)

    async def find(self, token_hash: str) -> RefreshRecord | None:
        async with store_call(self._outage, "find a refresh token"), read_connection(self._engine) as connection:
            return await _select_record(connection, token_hash)

    async def get_session(self, session_id: str) -> Session | None:
        async with store_call(self._outage, "read a session"), read_connection(self._engine) as connection:
            row = (await connection.execute(sa.select(sessions).where(sessions.c.id == session_id))).first()
        return None if row is None else _to_session(row)

    async def revoke_session(self, session_id: str, now: datetime) -> None:
        async with store_call(self._outage, "revoke a session"), write_transaction(self._engine) as connection:
            await connection.execute(
                sa.update(sessions)
                .where(sessions.c.id == session_id, sessions.c.revoked_at.is_(None))
                .values(revoked_at=now)
            )
            await connection.execute(
                sa.update(refresh_tokens)
                .where(refresh_tokens.c.session_id == session_id, refresh_tokens.c.state == RefreshState.ACTIVE.value)
                .values(state=RefreshState.REVOKED.value)
            )

    async def list_sessions(self, user_id: str, now: datetime) -> list[Session]:
        query = (
            sa.select(sessions)
            .where(sessions.c.user_id == user_id, sessions.c.revoked_at.is_(None), sessions.c.expires_at > now)
            .order_by(sessions.c.created_at.desc())
        )
        async with store_call(self._outage, "list sessions"), read_connection(self._engine) as connection:
            rows = (await connection.execute(query)).all()
        return [_to_session(row) for row in rows]

    async def revoke_user_sessions(self, user_id: str, now: datetime) -> list[str]:
        """Revoke every unrevoked session of the user, expired ones included, in one transaction."""
        async with store_call(self._outage, "revoke sessions"), write_transaction(self._engine) as connection:
            revoked = (
                await connection.execute(
                    sa.update(sessions)
                    .where(sessions.c.user_id == user_id, sessions.c.revoked_at.is_(None))
                    .values(revoked_at=now)
                    .returning(sessions.c.id)
                )
            ).scalars().all()
            await connection.execute(
                sa.update(refresh_tokens)
                .where(refresh_tokens.c.user_id == user_id, refresh_tokens.c.state == RefreshState.ACTIVE.value)
                .values(state=RefreshState.REVOKED.value)
            )
        return list(revoked)

    async def purge_expired(self, now: datetime, limit: int = DEFAULT_PURGE_LIMIT) -> int:
        """Delete up to ``limit`` expired refresh tokens and sessions; return how many rows went.

        A session is deleted only once none of its tokens is left, so the
        foreign key never blocks the purge.
        """
        async with (
            store_call(self._outage, "purge expired sessions"),
            nested_write_transaction(self._engine) as connection,
        ):
            deleted = await delete_expired(connection, refresh_tokens, now, limit)
            if deleted < limit:
                has_tokens = sa.exists().where(refresh_tokens.c.session_id == sessions.c.id)
                deleted += await delete_expired(connection, sessions, now, limit - deleted, ~has_tokens)
        return deleted


def _claim_statement(token_hash: str, now: datetime) -> sa.Update:
    session_is_live = sa.exists().where(
        sessions.c.id == refresh_tokens.c.session_id,
        sessions.c.revoked_at.is_(None),
        sessions.c.expires_at > now,
    )
    return (
        sa.update(refresh_tokens)
        .where(
            refresh_tokens.c.token_hash == token_hash,
            refresh_tokens.c.state == RefreshState.ACTIVE.value,
            refresh_tokens.c.expires_at > now,
            session_is_live,
        )
        .values(state=RefreshState.ROTATED.value, rotated_at=now)
        .returning(
            refresh_tokens.c.session_id,
            refresh_tokens.c.user_id,
            refresh_tokens.c.issued_at,
            refresh_tokens.c.expires_at,
        )
    )


def _result_without_rotation(record: RefreshRecord | None) -> RotationResult:
    if record is not None and record.state is RefreshState.ROTATED:
        return RotationResult(RotationOutcome.ALREADY_ROTATED, record)
    return RotationResult(RotationOutcome.NOT_USABLE, record)


async def _select_record(connection: AsyncConnection, token_hash: str) -> RefreshRecord | None:
    query = sa.select(refresh_tokens).where(refresh_tokens.c.token_hash == token_hash)
    row = (await connection.execute(query)).first()
    return None if row is None else _to_record(row)


def _session_values(session: Session) -> dict[str, object]:
    return {
        "id": session.id,
        "user_id": session.user_id,
        "created_at": session.created_at,
        "last_used_at": session.last_used_at,
        "expires_at": session.expires_at,
        "user_agent": session.user_agent,
        "ip": session.ip,
        "revoked_at": session.revoked_at,
    }


def _record_values(record: RefreshRecord) -> dict[str, object]:
    return {
        "token_hash": record.token_hash,
        "session_id": record.session_id,
        "user_id": record.user_id,
        "issued_at": record.issued_at,
        "expires_at": record.expires_at,
        "state": record.state.value,
        "rotated_at": record.rotated_at,
    }


def _to_session(row: Row) -> Session:
    return Session(
        id=row.id,
        user_id=row.user_id,
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        expires_at=row.expires_at,
        user_agent=row.user_agent,
        ip=row.ip,
        revoked_at=row.revoked_at,
    )


def _to_record(row: Row) -> RefreshRecord:
    return RefreshRecord(
        token_hash=row.token_hash,
        session_id=row.session_id,
        user_id=row.user_id,
        issued_at=row.issued_at,
        expires_at=row.expires_at,
        state=RefreshState(row.state),
        rotated_at=row.rotated_at,
    )
