"""``SqlUnitOfWork``: the writes of the SQL stores and their audit rows commit or roll back together.

Every test runs on SQLite and on PostgreSQL, each time on the test's own
copy of the migrated legacy database, so a test may rename the audit table.
The checks read through ``engine.connect()``, a connection outside the unit.
"""

from __future__ import annotations

import asyncio
import contextvars
import hashlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.jwt_codec import JwtCodec
from adapters.keys import key_ring_from_secrets
from adapters.sql.audit import SqlAuditSink, user_events
from adapters.sql.login_attempts import SqlLoginAttemptCounter
from adapters.sql.one_time_claims import SqlOneTimeClaims
from adapters.sql.refresh_tokens import SqlRefreshTokenStore
from adapters.sql.revocations import SqlRevocationStore
from adapters.sql import transactions
from adapters.sql.transactions import ambient_connection
from adapters.sql.unit_of_work import SqlUnitOfWork
from adapters.sql.users import SqlUserRepository
from adapters.sql.users_table import UsersTableSpec
from application.audit import AuditTrail
from application.logout import Logout, LogoutCommand
from domain.audit import AuditEvent, AuditEventType, ClientInfo, Outcome
from domain.clock import FixedClock
from domain.errors import StoreUnavailable
from domain.policy import TokenPolicy
from domain.revocation import Denial, RevocationPlan, Watermark
from domain.session import RefreshRecord, Session
from domain.tokens import RefreshToken
from tests.integration.postgres_support import (  # noqa: F401 (fixtures)
    legacy_postgres_database,
    legacy_postgres_engine,
    postgres_legacy_template,
)

NOW = datetime(2026, 4, 1, 12, 0, tzinfo=timezone.utc)
LATER = NOW + timedelta(hours=1)
# The clock of the stores: their lazy purge runs inside the unit and must
# keep the rows of the test, which all expire after NOW.
CLOCK = FixedClock(NOW)
ALICE = "1"
SESSION_ID = "session-unit-of-work"
TOKEN_HASH = hashlib.sha256(b"refresh token").hexdigest()
CLAIM_KEY = hashlib.sha256(b"legacy cookie").hexdigest()
NEW_HASH = "pbkdf2:sha256:1000$salt$written-in-the-unit"
AUDIT_TABLE = "keyturn_audit_events"


class Boom(Exception):
    """Raised by a test inside a unit, after its writes."""


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest) -> AsyncEngine:
    fixture = "legacy_engine" if request.param == "sqlite" else "legacy_postgres_engine"
    return request.getfixturevalue(fixture)


def audit_event(event_type: AuditEventType = AuditEventType.LOGIN_SUCCEEDED) -> AuditEvent:
    return AuditEvent(
        type=event_type,
        occurred_at=NOW,
        outcome=Outcome.SUCCESS,
        user_id=ALICE,
        session_id=SESSION_ID,
        client=ClientInfo(ip="127.0.0.1", user_agent="tests", request_id="req-unit"),
    )


def new_session() -> tuple[Session, RefreshRecord]:
    session = Session(SESSION_ID, ALICE, NOW, NOW, LATER)
    return session, RefreshRecord(TOKEN_HASH, SESSION_ID, ALICE, NOW, LATER)


async def scalar(engine: AsyncEngine, sql: str, **parameters: object) -> object:
    async with engine.connect() as connection:
        return (await connection.execute(sa.text(sql), parameters)).scalar()


async def audit_rows(engine: AsyncEngine) -> int:
    return await scalar(engine, f"SELECT count(*) FROM {AUDIT_TABLE}")


async def rename_audit_table(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.execute(sa.text(f"ALTER TABLE {AUDIT_TABLE} RENAME TO {AUDIT_TABLE}_moved"))


@dataclass(frozen=True)
class Change:
    """One write of a SQL store, and how to see it from outside the unit."""

    name: str
    write: Callable[[AsyncEngine], Awaitable[object]]
    is_visible: Callable[[AsyncEngine], Awaitable[bool]]


async def open_session(engine: AsyncEngine) -> None:
    await SqlRefreshTokenStore(engine, CLOCK).open_session(*new_session())


async def session_visible(engine: AsyncEngine) -> bool:
    return await scalar(engine, "SELECT count(*) FROM keyturn_sessions WHERE id = :id", id=SESSION_ID) == 1


async def deny_token(engine: AsyncEngine) -> None:
    await SqlRevocationStore(engine, CLOCK).apply(RevocationPlan(tokens=(Denial("jti-unit", LATER),)))


async def denial_visible(engine: AsyncEngine) -> bool:
    return await scalar(engine, "SELECT count(*) FROM keyturn_denied_tokens WHERE jti = 'jti-unit'") == 1


async def change_password(engine: AsyncEngine) -> None:
    await SqlUserRepository(engine, UsersTableSpec()).update_password_hash(ALICE, NEW_HASH)


async def password_visible(engine: AsyncEngine) -> bool:
    return await scalar(engine, "SELECT password_hash FROM users WHERE id = 1") == NEW_HASH


async def claim_cookie(engine: AsyncEngine) -> None:
    assert await SqlOneTimeClaims(engine, CLOCK).claim(CLAIM_KEY, LATER, NOW)


async def claim_visible(engine: AsyncEngine) -> bool:
    return await scalar(engine, "SELECT count(*) FROM keyturn_legacy_claims WHERE claim_key = :key", key=CLAIM_KEY) == 1


async def count_failure(engine: AsyncEngine) -> None:
    await SqlLoginAttemptCounter(engine, CLOCK).record_failure("alice|127.0.0.1", timedelta(minutes=15), NOW)


async def failure_visible(engine: AsyncEngine) -> bool:
    return await scalar(engine, "SELECT count(*) FROM keyturn_login_attempts") == 1


CHANGES = [
    Change("refresh_tokens", open_session, session_visible),
    Change("revocations", deny_token, denial_visible),
    Change("users_password", change_password, password_visible),
    Change("one_time_claims", claim_cookie, claim_visible),
    Change("login_attempts", count_failure, failure_visible),
]
change_cases = pytest.mark.parametrize("change", CHANGES, ids=[change.name for change in CHANGES])


@change_cases
async def test_change_and_event_commit_together(engine: AsyncEngine, change: Change) -> None:
    sink = SqlAuditSink(engine)

    async with SqlUnitOfWork(engine).atomic():
        await change.write(engine)
        await sink.record(audit_event())
        # Another connection reads neither write before the commit.
        assert not await change.is_visible(engine)
        assert await audit_rows(engine) == 0

    assert await change.is_visible(engine)
    assert await audit_rows(engine) == 1
    assert sink.failures == 0


@change_cases
async def test_exception_rolls_back_change_and_event(engine: AsyncEngine, change: Change) -> None:
    sink = SqlAuditSink(engine)

    with pytest.raises(Boom):
        async with SqlUnitOfWork(engine).atomic():
            await change.write(engine)
            await sink.record(audit_event())
            raise Boom("after both writes")

    assert not await change.is_visible(engine)
    assert await audit_rows(engine) == 0


@change_cases
async def test_failing_audit_insert_keeps_change(
    engine: AsyncEngine, change: Change, caplog: pytest.LogCaptureFixture
) -> None:
    await rename_audit_table(engine)
    sink = SqlAuditSink(engine)

    with caplog.at_level(logging.ERROR, logger="adapters.sql.audit"):
        async with SqlUnitOfWork(engine).atomic():
            await change.write(engine)
            await sink.record(audit_event())

    assert await change.is_visible(engine)
    assert sink.failures == 1
    assert "writing audit event login_succeeded to SQL failed" in caplog.text


async def test_unit_writes_after_failed_audit(engine: AsyncEngine) -> None:
    # On PostgreSQL a failed statement outside a SAVEPOINT would abort the
    # whole transaction, and the write after it would fail.
    await rename_audit_table(engine)
    sink = SqlAuditSink(engine)

    async with SqlUnitOfWork(engine).atomic():
        await sink.record(audit_event())
        await open_session(engine)

    assert await session_visible(engine)
    assert sink.failures == 1


async def test_read_inside_unit_sees_earlier_write(engine: AsyncEngine) -> None:
    refresh_store = SqlRefreshTokenStore(engine, CLOCK)
    revocations = SqlRevocationStore(engine, CLOCK)
    users = SqlUserRepository(engine, UsersTableSpec())
    counter = SqlLoginAttemptCounter(engine, CLOCK)
    session, record = new_session()

    async with SqlUnitOfWork(engine).atomic():
        await refresh_store.open_session(session, record)
        await revocations.apply(RevocationPlan(watermark=Watermark(ALICE, NOW, LATER)))
        await users.update_password_hash(ALICE, NEW_HASH)
        await counter.record_failure("alice|127.0.0.1", timedelta(minutes=15), NOW)
        await SqlAuditSink(engine).record(audit_event())

        stored_session = await refresh_store.get_session(SESSION_ID)
        stored_record = await refresh_store.find(TOKEN_HASH)
        listed = await refresh_store.list_sessions(ALICE, NOW)
        watermark = await revocations.watermark(ALICE, NOW)
        alice = await users.get(ALICE)
        failures = await counter.failures("alice|127.0.0.1", NOW)
        events = await user_events(engine, ALICE)

    assert stored_session == session
    assert stored_record == record
    assert [item.id for item in listed] == [SESSION_ID]
    assert watermark == NOW
    assert alice is not None
    assert alice.password_hash == NEW_HASH
    assert failures == 1
    assert [item["event"] for item in events] == ["login_succeeded"]


async def test_rotation_reads_own_writes_in_unit(engine: AsyncEngine) -> None:
    store = SqlRefreshTokenStore(engine, CLOCK)
    successor = hashlib.sha256(b"successor").hexdigest()

    async with SqlUnitOfWork(engine).atomic():
        await store.open_session(*new_session())
        rotated = await store.rotate(TOKEN_HASH, successor, NOW + timedelta(minutes=1), LATER)
        found = await store.find(successor)

    assert rotated.record is not None
    assert rotated.record.session_id == SESSION_ID
    assert found is not None
    assert found.session_id == SESSION_ID


async def test_inner_unit_joins_outer(engine: AsyncEngine) -> None:
    unit = SqlUnitOfWork(engine)
    sink = SqlAuditSink(engine)

    with pytest.raises(Boom):
        async with unit.atomic():
            async with unit.atomic():
                await open_session(engine)
                await sink.record(audit_event())
            # The inner unit has ended but must not have committed.
            assert not await session_visible(engine)
            raise Boom("after the inner unit")

    assert not await session_visible(engine)
    assert await audit_rows(engine) == 0


async def test_sink_outside_unit_commits_alone(engine: AsyncEngine) -> None:
    await SqlAuditSink(engine).record(audit_event())

    assert await audit_rows(engine) == 1


async def test_finished_unit_is_not_joined(engine: AsyncEngine) -> None:
    async with SqlUnitOfWork(engine).atomic():
        inside = ambient_connection(engine)
        # A task started inside the unit keeps this copy of the context.
        copied = contextvars.copy_context()

    assert inside is not None
    assert ambient_connection(engine) is None
    assert copied.run(ambient_connection, engine) is None


async def test_unit_on_other_engine_is_not_joined(engine: AsyncEngine, sqlite_engine: AsyncEngine) -> None:
    with pytest.raises(Boom):
        async with SqlUnitOfWork(sqlite_engine).atomic():
            await open_session(engine)
            await deny_token(sqlite_engine)
            raise Boom("rolls back only the unit's engine")

    assert await session_visible(engine)
    assert not await denial_visible(sqlite_engine)


class RevokeFailsStore:
    """A SQL refresh store whose ``revoke_session`` fails as if the database had timed out."""

    def __init__(self, store: SqlRefreshTokenStore) -> None:
        self._store = store

    def __getattr__(self, name: str) -> object:
        return getattr(self._store, name)

    async def revoke_session(self, session_id: str, now: datetime) -> None:
        raise StoreUnavailable("could not revoke a session: the database is unreachable or timed out")


def sql_logout(engine: AsyncEngine, refresh_store: object) -> Logout:
    policy = TokenPolicy()
    codec = JwtCodec(key_ring_from_secrets("unit-of-work-test-secret-0123456789abcdef"), policy)
    audit = AuditTrail(SqlAuditSink(engine), CLOCK)
    revocations = SqlRevocationStore(engine, CLOCK)
    return Logout(codec, refresh_store, revocations, audit, policy, CLOCK, unit_of_work=SqlUnitOfWork(engine))


async def open_session_for(engine: AsyncEngine, token: RefreshToken) -> None:
    session = Session(SESSION_ID, ALICE, NOW, NOW, LATER)
    record = RefreshRecord(token.digest, SESSION_ID, ALICE, NOW, LATER)
    await SqlRefreshTokenStore(engine, CLOCK).open_session(session, record)


async def denied_sessions(engine: AsyncEngine) -> int:
    return await scalar(engine, "SELECT count(*) FROM keyturn_denied_sessions")


async def test_logout_commits_revocation_with_event(engine: AsyncEngine) -> None:
    token = RefreshToken.generate()
    await open_session_for(engine, token)

    logout = sql_logout(engine, SqlRefreshTokenStore(engine, CLOCK))

    revoked = await logout.execute(LogoutCommand(refresh_token=token.value))

    assert revoked == SESSION_ID
    assert await denied_sessions(engine) == 1
    assert [item["event"] for item in await user_events(engine, ALICE)] == ["logged_out"]


async def test_logout_rollback_on_later_failure(engine: AsyncEngine) -> None:
    token = RefreshToken.generate()
    await open_session_for(engine, token)
    logout = sql_logout(engine, RevokeFailsStore(SqlRefreshTokenStore(engine, CLOCK)))

    with pytest.raises(StoreUnavailable):
        await logout.execute(LogoutCommand(refresh_token=token.value))

    # The session denial was written before the failing step and went with it.
    assert await denied_sessions(engine) == 0
    assert await audit_rows(engine) == 0


async def test_sqlite_writer_outside_a_running_unit_times_out(sqlite_engine, monkeypatch) -> None:
    """A write that cannot join the unit holding SQLite's write lock fails after the busy timeout instead of hanging."""
    monkeypatch.setattr(transactions, "SQLITE_BUSY_TIMEOUT_MS", 50)
    async with transactions.ambient_transaction(sqlite_engine):
        outside = contextvars.Context()

        with pytest.raises(TimeoutError):
            await asyncio.get_running_loop().create_task(_write_once(sqlite_engine), context=outside)


async def _write_once(engine) -> None:
    async with transactions.write_transaction(engine) as connection:
        await connection.execute(sa.text("SELECT 1"))
