"""Bounded purging of expired rows on PostgreSQL, which has no ``DELETE ... LIMIT``."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sql.refresh_tokens import SqlRefreshTokenStore
from adapters.sql.revocations import SqlRevocationStore
from domain.clock import FixedClock
from domain.revocation import Denial, RevocationPlan, Watermark
from domain.session import RefreshRecord, Session
from tests.integration.postgres_support import postgres_engine, postgres_migrated_database  # noqa: F401 (fixtures)

pytestmark = pytest.mark.postgres

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc)
MINUTE = timedelta(minutes=1)
# A clock a day early keeps the lazy purge inside apply() and open_session() from deleting anything first.
EARLY_CLOCK = FixedClock(NOW - timedelta(days=1))


def digest(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()


async def test_revocation_purge_in_batches(postgres_engine: AsyncEngine) -> None:
    store = SqlRevocationStore(postgres_engine, clock=EARLY_CLOCK)
    await store.apply(
        RevocationPlan(
            tokens=tuple(Denial(f"expired-{n}", NOW - MINUTE) for n in range(3)) + (Denial("live", NOW + MINUTE),),
            sessions=(Denial("expired-session", NOW),),
            watermark=Watermark("2147483653", NOW - 2 * MINUTE, NOW - MINUTE),
        )
    )

    # Five expired entries and all six feed rows: the store's clock is a day
    # behind, so even the live entry's feed row is past its hour of retention.
    assert [await store.purge_expired(NOW, limit=2) for _ in range(7)] == [2, 2, 2, 2, 2, 1, 0]
    assert await store.purge_expired(NOW + 2 * MINUTE) == 1


async def test_refresh_purge_keeps_sessions_that_still_have_tokens(postgres_engine: AsyncEngine) -> None:
    store = SqlRefreshTokenStore(postgres_engine, clock=EARLY_CLOCK)
    opened = NOW - 10 * MINUTE
    for name, expires_at in (("old", NOW - MINUTE), ("current", NOW + MINUTE)):
        session = Session(name, "42", opened, opened, expires_at)
        await store.open_session(session, RefreshRecord(digest(name), name, "42", opened, expires_at))

    assert await store.purge_expired(NOW) == 2
    assert await store.find(digest("old")) is None
    assert await store.get_session("old") is None
    assert await store.get_session("current") is not None
    assert await store.find(digest("current")) is not None
