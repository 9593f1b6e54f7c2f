"""Fail-closed behaviour of the SQL stores when PostgreSQL cannot be reached or does not respond.

The shared server is never stopped. Outages are staged on loopback ports
these tests own: a port where nothing listens, a listener that accepts and
never responds, and a relay to the real server that can be cut, stalled
and brought back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sql.availability import outage_log, store_call
from adapters.sql.engine import create_engine, ping
from adapters.sql.refresh_tokens import SqlRefreshTokenStore
from adapters.sql.revocations import SqlRevocationStore
from adapters.sql.users import SqlUserRepository
from adapters.sql.users_table import UsersTableSpec
from domain.errors import StoreUnavailable
from domain.revocation import Denial, RevocationPlan
from domain.session import RefreshRecord, Session
from domain.tokens import AccessToken
from tests.integration.postgres_support import (  # noqa: F401 (fixtures)
    POSTGRES_HOST,
    POSTGRES_PORT,
    POSTGRES_USER,
    postgres_engine,
    postgres_migrated_database,
    postgres_url,
    require_postgres,
)

pytestmark = pytest.mark.postgres

LOOPBACK = "127.0.0.1"
TIMEOUT = 0.25
# What a caller may wait at most: connect or statement timeout plus slack.
DEADLINE_SECONDS = 1.0
PASSWORD = "not-a-real-password"
AVAILABILITY_LOGGER = "adapters.sql.availability"
NOW = datetime.now(timezone.utc)


def unused_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return probe.getsockname()[1]


def engine_on(port: int, database: str = "keyturn", credentials: str = f"keyturn:{PASSWORD}") -> AsyncEngine:
    return create_engine(f"postgresql://{credentials}@{LOOPBACK}:{port}/{database}", timeout_seconds=TIMEOUT)


def relayed_engine(relay: Relay, database: str) -> AsyncEngine:
    return engine_on(relay.port, database, credentials=POSTGRES_USER)


def store_calls(engine: AsyncEngine) -> list[Callable[[], Awaitable[object]]]:
    """One call of every kind the stores make, each of which must fail closed."""
    users = SqlUserRepository(engine, UsersTableSpec())
    refresh = SqlRefreshTokenStore(engine)
    revocations = SqlRevocationStore(engine)
    token = AccessToken(
        subject="1",
        session_id="s",
        token_id="j",
        issued_at=NOW,
        not_before=NOW,
        expires_at=NOW + timedelta(minutes=5),
        issuer="https://keyturn.test",
        audience="app",
    )
    return [
        lambda: users.find_by_login("alice@example.com"),
        lambda: users.get("1"),
        lambda: users.update_password_hash("1", "scrypt:x"),
        lambda: refresh.open_session(*new_session("s")),
        lambda: refresh.rotate("a" * 64, "b" * 64, NOW, NOW + timedelta(days=1)),
        lambda: refresh.find("a" * 64),
        lambda: refresh.get_session("s"),
        lambda: refresh.revoke_session("s", NOW),
        lambda: refresh.list_sessions("1", NOW),
        lambda: refresh.revoke_user_sessions("1", NOW),
        lambda: refresh.purge_expired(NOW),
        lambda: revocations.apply(RevocationPlan(tokens=(Denial("j", NOW + timedelta(minutes=5)),))),
        lambda: revocations.status(token, NOW),
        lambda: revocations.watermark("1", NOW),
        lambda: revocations.purge_expired(NOW),
        lambda: ping(engine),
    ]


def new_session(session_id: str) -> tuple[Session, RefreshRecord]:
    expires_at = NOW + timedelta(days=1)
    session = Session(session_id, "1", NOW, NOW, expires_at)
    return session, RefreshRecord(session_id.ljust(64, "0"), session_id, "1", NOW, expires_at)


async def assert_unavailable(call: Callable[[], Awaitable[object]]) -> StoreUnavailable:
    started = time.monotonic()
    with pytest.raises(StoreUnavailable) as raised:
        await call()
    assert time.monotonic() - started < DEADLINE_SECONDS
    assert raised.value.__cause__ is not None
    return raised.value


def error_chain_text(error: BaseException) -> str:
    parts = []
    current: BaseException | None = error
    while current is not None:
        parts.append(f"{type(current).__name__}: {current}")
        current = current.__cause__ or current.__context__
    return "\n".join(parts)


def outage_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == AVAILABILITY_LOGGER]


async def test_refused_connection_fails_every_call(caplog: pytest.LogCaptureFixture) -> None:
    engine = engine_on(unused_port())
    try:
        with caplog.at_level(logging.WARNING, logger=AVAILABILITY_LOGGER):
            errors = [await assert_unavailable(call) for call in store_calls(engine)]
    finally:
        await engine.dispose()

    records = outage_records(caplog)
    assert [record.levelno for record in records] == [logging.ERROR]
    assert outage_log(engine).failures == len(errors)
    assert PASSWORD not in caplog.text
    assert not any(PASSWORD in error_chain_text(error) for error in errors)


@pytest.fixture
async def silent_port() -> AsyncIterator[int]:
    """A loopback port that accepts connections and never sends a byte."""
    open_writers: list[asyncio.StreamWriter] = []

    async def hold(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        open_writers.append(writer)

    server = await asyncio.start_server(hold, LOOPBACK, 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        for writer in open_writers:
            writer.close()
        await server.wait_closed()


async def test_silent_server_times_out(silent_port: int, caplog: pytest.LogCaptureFixture) -> None:
    engine = engine_on(silent_port)
    store = SqlRevocationStore(engine)
    try:
        with caplog.at_level(logging.WARNING, logger=AVAILABILITY_LOGGER):
            for _ in range(3):
                await assert_unavailable(lambda: store.watermark("1", NOW))
    finally:
        await engine.dispose()

    assert len(outage_records(caplog)) == 1


async def test_slow_statement_times_out(postgres_migrated_database: str) -> None:
    engine = create_engine(postgres_url(postgres_migrated_database), timeout_seconds=TIMEOUT)
    try:
        await ping(engine)

        async def slow_statement() -> None:
            async with store_call(outage_log(engine), "sleep"), engine.connect() as connection:
                await connection.execute(sa.text("SELECT pg_sleep(2)"))

        await assert_unavailable(slow_statement)
        # The timed-out connection is not reused in a broken state.
        await ping(engine)
    finally:
        await engine.dispose()


async def test_pool_wait_times_out(postgres_migrated_database: str) -> None:
    engine = create_engine(
        postgres_url(postgres_migrated_database), timeout_seconds=TIMEOUT, pool_size=1, max_overflow=0
    )
    store = SqlRevocationStore(engine)
    try:
        async with engine.connect() as busy:
            await busy.execute(sa.text("SELECT 1"))

            await assert_unavailable(lambda: store.watermark("1", NOW))

        assert await store.watermark("1", NOW) is None
    finally:
        await engine.dispose()


class Relay:
    """A TCP relay from a loopback port to the local PostgreSQL server, which a test can cut, stall and restore."""

    def __init__(self) -> None:
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task] = set()
        self._flowing = asyncio.Event()
        self._flowing.set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._relay, LOOPBACK, self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Refuse new connections and drop the open ones, as a stopped server would."""
        if self._server is not None:
            self._server.close()
            self.cut()
            await self._server.wait_closed()
            self._server = None
        # Let every relay task see its aborted sockets and end, so none is
        # left for the event loop to cancel when the test ends.
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def cut(self) -> None:
        """Drop every open connection, as a restarted server would, and keep listening."""
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    def stall(self) -> None:
        """Keep connections open but pass no more bytes, as an overloaded network would."""
        self._flowing.clear()

    def resume(self) -> None:
        self._flowing.set()

    async def _relay(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        try:
            server_reader, server_writer = await asyncio.open_connection(POSTGRES_HOST, POSTGRES_PORT)
        except OSError:
            client_writer.transport.abort()
            return
        self._writers.update((client_writer, server_writer))
        await asyncio.gather(
            self._pump(client_reader, server_writer), self._pump(server_reader, client_writer), return_exceptions=True
        )
        for writer in (client_writer, server_writer):
            self._writers.discard(writer)
            writer.transport.abort()

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError):
            while data := await reader.read(65536):
                await self._flowing.wait()
                writer.write(data)
                await writer.drain()
        writer.transport.abort()


@pytest.fixture
async def relay(postgres_migrated_database: str) -> AsyncIterator[Relay]:
    relay = Relay()
    await relay.start()
    try:
        yield relay
    finally:
        relay.resume()
        await relay.stop()


async def test_restarted_server_reconnects_silently(relay: Relay, postgres_migrated_database: str) -> None:
    engine = relayed_engine(relay, postgres_migrated_database)
    store = SqlRevocationStore(engine)
    try:
        assert await store.watermark("1", NOW) is None

        relay.cut()
        # A restart takes far longer than one turn of the event loop, which
        # is enough for the loop to see the pooled connection's socket close.
        await asyncio.sleep(0.05)

        # The checkout finds the pooled connection closed and opens a new one.
        assert await store.watermark("1", NOW) is None
    finally:
        await engine.dispose()
    assert outage_log(engine).failures == 0


async def test_outage_and_recovery_logged_once(
    relay: Relay, postgres_migrated_database: str, caplog: pytest.LogCaptureFixture
) -> None:
    engine = relayed_engine(relay, postgres_migrated_database)
    store = SqlRevocationStore(engine)
    try:
        with caplog.at_level(logging.WARNING, logger=AVAILABILITY_LOGGER):
            await store.watermark("1", NOW)
            await relay.stop()
            for _ in range(5):
                await assert_unavailable(lambda: store.watermark("1", NOW))
            await relay.start()
            assert await store.watermark("1", NOW) is None
    finally:
        await engine.dispose()

    records = outage_records(caplog)
    assert [record.levelno for record in records] == [logging.ERROR, logging.WARNING]
    assert "after" in records[1].getMessage()
    assert "5 failed calls" in records[1].getMessage()
    assert not outage_log(engine).is_down


async def test_stalled_connection_times_out(relay: Relay, postgres_migrated_database: str) -> None:
    engine = relayed_engine(relay, postgres_migrated_database)
    store = SqlRefreshTokenStore(engine)
    try:
        assert await store.find("a" * 64) is None
        relay.stall()

        await assert_unavailable(lambda: store.find("a" * 64))

        relay.resume()
        relay.cut()
        assert await store.find("a" * 64) is None
    finally:
        await engine.dispose()


async def test_constraint_violation_not_outage(postgres_engine: AsyncEngine) -> None:
    store = SqlRefreshTokenStore(postgres_engine)
    await store.open_session(*new_session("taken"))

    with pytest.raises(IntegrityError):
        await store.open_session(*new_session("taken"))
    assert outage_log(postgres_engine).failures == 0


async def test_missing_table_not_outage(postgres_engine: AsyncEngine, sqlite_engine: AsyncEngine) -> None:
    spec = UsersTableSpec(table="no_such_table")

    with pytest.raises(ProgrammingError):
        await SqlUserRepository(postgres_engine, spec).get("1")
    with pytest.raises(OperationalError, match="no such table"):
        await SqlUserRepository(sqlite_engine, spec).get("1")
    assert outage_log(postgres_engine).failures == outage_log(sqlite_engine).failures == 0
