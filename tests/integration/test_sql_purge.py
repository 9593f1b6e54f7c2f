"""Bounded purging of expired rows by the SQL stores, and the schedule that runs it lazily."""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sql.purging import PurgeSchedule
from adapters.sql.refresh_tokens import SqlRefreshTokenStore
from adapters.sql.revocations import SqlRevocationStore
from domain.clock import FixedClock
from domain.revocation import Denial, RevocationPlan, Watermark
from domain.session import RefreshRecord, Session

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc)
MINUTE = timedelta(minutes=1)


def digest(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()


async def test_revocation_purge_in_batches(sqlite_engine: AsyncEngine) -> None:
    # A clock far in the past keeps the lazy purge in apply() from deleting anything first.
    store = SqlRevocationStore(sqlite_engine, clock=FixedClock(NOW - timedelta(days=1)))
    await store.apply(
        RevocationPlan(
            tokens=tuple(Denial(f"expired-{n}", NOW - MINUTE) for n in range(3)) + (Denial("live", NOW + MINUTE),),
            sessions=(Denial("expired-session", NOW),),
            watermark=Watermark("42", NOW - 2 * MINUTE, NOW - MINUTE),
        )
    )

    # Five expired entries and all six feed rows: the store's clock is a day
    # behind, so even the live entry's feed row is past its hour of retention.
    assert [await store.purge_expired(NOW, limit=2) for _ in range(7)] == [2, 2, 2, 2, 2, 1, 0]
    assert await store.purge_expired(NOW + 2 * MINUTE) == 1


async def test_refresh_purge_keeps_sessions_with_tokens(sqlite_engine: AsyncEngine) -> None:
    store = SqlRefreshTokenStore(sqlite_engine, clock=FixedClock(NOW - timedelta(days=1)))
    for name, expires_at in (("old", NOW - MINUTE), ("current", NOW + MINUTE)):
        session = Session(name, "42", NOW - MINUTE * 10, NOW - MINUTE * 10, expires_at)
        await store.open_session(session, RefreshRecord(digest(name), name, "42", NOW - MINUTE * 10, expires_at))

    assert await store.purge_expired(NOW) == 2
    assert await store.find(digest("old")) is None
    assert await store.get_session("old") is None
    assert await store.get_session("current") is not None
    assert await store.find(digest("current")) is not None


async def test_apply_purges_lazily_at_most_once_a_minute(sqlite_engine: AsyncEngine) -> None:
    store = SqlRevocationStore(sqlite_engine, clock=FixedClock(NOW))

    await store.apply(RevocationPlan(tokens=(Denial("expired-1", NOW - MINUTE),)))
    await store.apply(RevocationPlan(tokens=(Denial("expired-2", NOW - MINUTE),)))

    # The first apply purged its own expired entry and feed row; the second came within the interval.
    assert await store.purge_expired(NOW) == 2


async def test_schedule_runs_at_most_once_per_interval() -> None:
    moments = iter([0.0, 30.0, 59.9, 60.0, 61.0])
    schedule = PurgeSchedule(interval_seconds=60, monotonic=lambda: next(moments))
    runs = []

    async def purge() -> int:
        runs.append(True)
        return 0

    for _ in range(5):
        await schedule.run_if_due(purge)

    assert len(runs) == 2


async def test_schedule_logs_a_failed_purge_and_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    schedule = PurgeSchedule()

    async def purge() -> int:
        raise OperationalError("DELETE", {}, Exception("database is locked"))

    with caplog.at_level(logging.WARNING, logger="adapters.sql.purging"):
        await schedule.run_if_due(purge)

    assert "purging expired rows failed" in caplog.text
