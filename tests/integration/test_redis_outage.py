"""The Redis adapters fail closed and fast while Redis is down, and recover on the same client.

Each test runs its own ``redis-server`` on a free loopback port, so it can
kill, pause and restart it.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from adapters.redis.client import create_redis_client, ping
from adapters.redis.errors import redis_outage_log
from adapters.redis.login_attempts import RedisLoginAttemptCounter
from adapters.redis.refresh_tokens import RedisRefreshTokenStore
from adapters.redis.revocations import RedisRevocationStore
from domain.errors import StoreUnavailable
from domain.revocation import Denial, RevocationPlan
from domain.session import RefreshRecord, RotationOutcome, Session
from domain.tokens import AccessToken
from tests.integration.redis_support import skip_or_fail

pytestmark = pytest.mark.redis

TIMEOUT_SECONDS = 0.5
# The bound a failing call must meet: the client timeout plus scheduling slack.
MAX_FAILURE_SECONDS = 2.0
STARTUP_SECONDS = 10.0
ERRORS_LOGGER = "adapters.redis.errors"
NOW = datetime.now(timezone.utc)
LIFETIME = timedelta(days=14)
TOKEN = AccessToken("42", "session-1", "jti-1", NOW, NOW, NOW + timedelta(minutes=15), "keyturn", "keyturn")


class RedisServer:
    """A ``redis-server`` child process without persistence on 127.0.0.1."""

    def __init__(self, port: int, directory: Path) -> None:
        self.port = port
        self._directory = directory
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        command = [
            "redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "no", "--daemonize", "no", "--dir", str(self._directory),
        ]  # fmt: skip
        self._process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self._wait_until_ready()

    def kill(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait(timeout=STARTUP_SECONDS)
            self._process = None

    def pause(self) -> None:
        assert self._process is not None
        self._process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self._process is not None
        self._process.send_signal(signal.SIGCONT)

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            assert self._process is not None
            if self._process.poll() is not None:
                raise RuntimeError(f"redis-server exited with status {self._process.returncode} on port {self.port}")
            if self._answers_ping():
                return
            time.sleep(0.05)
        raise RuntimeError(f"redis-server did not answer PING on port {self.port} within {STARTUP_SECONDS} s")

    def _answers_ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as connection:
                connection.sendall(b"PING\r\n")
                return connection.recv(16).startswith(b"+PONG")
        except OSError:
            return False


@pytest.fixture
def redis_server(tmp_path: Path, unused_tcp_port: int) -> Iterator[RedisServer]:
    if shutil.which("redis-server") is None:
        skip_or_fail("redis-server is not installed")
    server = RedisServer(unused_tcp_port, tmp_path)
    server.start()
    try:
        yield server
    finally:
        # SIGKILL also ends a process stopped by SIGSTOP.
        server.kill()


@pytest.fixture
async def client(redis_server: RedisServer) -> AsyncIterator[Redis]:
    client = create_redis_client(redis_server.url, TIMEOUT_SECONDS)
    yield client
    await client.aclose()


class Adapters:
    """The three Redis adapters on one client, sharing one outage log as the service does."""

    def __init__(self, client: Redis) -> None:
        self.outage = redis_outage_log()
        self.refresh_store = RedisRefreshTokenStore(client, outage=self.outage)
        self.revocations = RedisRevocationStore(client, outage=self.outage)
        self.attempts = RedisLoginAttemptCounter(client, outage=self.outage)

    def calls(self) -> list[Callable[[], Awaitable[object]]]:
        """Return one call of every public adapter method."""
        later = NOW + timedelta(minutes=1)
        session = Session("session-2", "42", NOW, NOW, NOW + LIFETIME)
        record = RefreshRecord("digest-2", "session-2", "42", NOW, NOW + LIFETIME)
        plan = RevocationPlan(tokens=(Denial("jti-2", NOW + timedelta(minutes=16)),))
        return [
            lambda: self.refresh_store.open_session(session, record),
            lambda: self.refresh_store.rotate("digest-1", "digest-3", later, later + LIFETIME),
            lambda: self.refresh_store.find("digest-1"),
            lambda: self.refresh_store.get_session("session-1"),
            lambda: self.refresh_store.revoke_session("session-1", later),
            lambda: self.refresh_store.list_sessions("42", later),
            lambda: self.refresh_store.revoke_user_sessions("42", later),
            lambda: self.revocations.apply(plan),
            lambda: self.revocations.status(TOKEN, NOW),
            lambda: self.revocations.watermark("42", NOW),
            lambda: self.attempts.record_failure("alice", timedelta(minutes=15), NOW),
            lambda: self.attempts.failures("alice", NOW),
            lambda: self.attempts.reset("alice"),
        ]


async def open_first_session(adapters: Adapters) -> None:
    session = Session("session-1", "42", NOW, NOW, NOW + LIFETIME)
    record = RefreshRecord("digest-1", "session-1", "42", NOW, NOW + LIFETIME)
    await adapters.refresh_store.open_session(session, record)


async def assert_unavailable_quickly(call: Callable[[], Awaitable[object]]) -> None:
    started = time.monotonic()
    with pytest.raises(StoreUnavailable) as raised:
        await call()
    elapsed = time.monotonic() - started
    assert elapsed < MAX_FAILURE_SECONDS, f"StoreUnavailable after {elapsed:.2f} s"
    assert raised.value.__cause__ is not None


def outage_records(caplog: pytest.LogCaptureFixture, level: int) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == ERRORS_LOGGER and record.levelno == level]


async def test_killed_server_fails_every_call(
    client: Redis, redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger=ERRORS_LOGGER)
    adapters = Adapters(client)
    await open_first_session(adapters)

    redis_server.kill()
    calls = adapters.calls()
    for call in calls * 2:
        await assert_unavailable_quickly(call)

    errors = outage_records(caplog, logging.ERROR)
    assert len(errors) == 1
    assert errors[0].getMessage().startswith("Redis is unavailable: ConnectionError")
    assert adapters.outage.failures == 2 * len(calls)


async def test_restarted_server_serves_same_client(
    client: Redis, redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger=ERRORS_LOGGER)
    adapters = Adapters(client)
    await open_first_session(adapters)
    redis_server.kill()
    await assert_unavailable_quickly(lambda: adapters.revocations.status(TOKEN, NOW))

    redis_server.start()

    # The server kept no data, and the scripts must be loaded again.
    assert await adapters.refresh_store.find("digest-1") is None
    await open_first_session(adapters)
    later = NOW + timedelta(minutes=1)
    result = await adapters.refresh_store.rotate("digest-1", "digest-2", later, later + LIFETIME)
    assert result.outcome is RotationOutcome.ROTATED
    recoveries = outage_records(caplog, logging.WARNING)
    assert len(recoveries) == 1
    assert "Redis is available again" in recoveries[0].getMessage()
    assert not adapters.outage.is_down


async def test_restart_between_calls_is_unnoticed(
    client: Redis, redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    adapters = Adapters(client)
    await open_first_session(adapters)

    redis_server.kill()
    # A running service's event loop keeps reading while Redis restarts, so it notices the idle connection close.
    await asyncio.sleep(0.1)
    redis_server.start()

    # The pool finds its connection closed and opens a new one before sending.
    assert await adapters.refresh_store.find("digest-1") is None
    assert outage_records(caplog, logging.ERROR) == []


async def test_paused_server_times_out(
    client: Redis, redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger=ERRORS_LOGGER)
    adapters = Adapters(client)
    await open_first_session(adapters)

    redis_server.pause()
    try:
        for call in adapters.calls()[:3]:
            await assert_unavailable_quickly(call)
    finally:
        redis_server.resume()

    errors = outage_records(caplog, logging.ERROR)
    assert len(errors) == 1
    assert "TimeoutError" in errors[0].getMessage()
    assert await adapters.refresh_store.get_session("session-1") is not None
    assert len(outage_records(caplog, logging.WARNING)) == 1


async def test_ping_reports_readiness(client: Redis, redis_server: RedisServer) -> None:
    assert await ping(client)

    redis_server.kill()

    with pytest.raises(RedisConnectionError):
        await ping(client)
