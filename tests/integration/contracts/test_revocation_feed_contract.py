"""Contract of the revocation feeds: what one process applies, another reads, in order and without loss."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pytest

from adapters.memory.revocation_feed import InMemoryRevocationFeed
from adapters.memory.revocations import InMemoryRevocationStore
from adapters.redis.errors import redis_outage_log
from adapters.redis.revocation_feed import RedisRevocationFeed
from adapters.redis.revocations import RedisRevocationStore
from adapters.revocation_feed import RevocationFeed
from adapters.sql.revocation_feed import SqlRevocationFeed
from adapters.sql.revocations import SqlRevocationStore
from application.ports import RevocationStore
from domain.clock import FixedClock
from domain.revocation import Denial, RevocationPlan, Watermark
from domain.revocation_set import RevocationSet

NOW = datetime.now(timezone.utc).replace(microsecond=0)
MINUTE = timedelta(minutes=1)


@dataclass
class FeedPair:
    store: RevocationStore
    feed: RevocationFeed


def _redis_pair(request: pytest.FixtureRequest) -> FeedPair:
    # The feed shares the test's client, which the fixture closes; a service gives it one of its own.
    target = request.getfixturevalue("redis_target")
    store = RedisRevocationStore(target.client, target.prefix, clock=FixedClock(NOW))
    return FeedPair(store, RedisRevocationFeed(target.client, target.prefix, redis_outage_log(), wait_ms=50))


def _sql_pair(request: pytest.FixtureRequest, engine_fixture: str) -> FeedPair:
    engine = request.getfixturevalue(engine_fixture)
    return FeedPair(SqlRevocationStore(engine, FixedClock(NOW)), SqlRevocationFeed(engine, timedelta(milliseconds=5)))


def _memory_pair(request: pytest.FixtureRequest) -> FeedPair:
    store = InMemoryRevocationStore(feed_capacity=100)
    return FeedPair(store, InMemoryRevocationFeed(store))


@pytest.fixture(
    params=[
        "memory",
        "sqlite",
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("redis", marks=pytest.mark.redis),
    ]
)
def pair(request: pytest.FixtureRequest) -> FeedPair:
    builders = {
        "memory": _memory_pair,
        "sqlite": lambda request: _sql_pair(request, "sqlite_engine"),
        "postgres": lambda request: _sql_pair(request, "postgres_engine"),
        "redis": _redis_pair,
    }
    return builders[request.param](request)


async def snapshot_of(feed: RevocationFeed) -> RevocationSet:
    entries = RevocationSet()
    async for plan in feed.snapshot(NOW):
        entries.merge(plan)
    return entries


async def test_snapshot_contains_only_live_entries(pair: FeedPair) -> None:
    await pair.store.apply(
        RevocationPlan(
            tokens=(Denial("jti-1", NOW + MINUTE), Denial("jti-old", NOW - MINUTE)),
            sessions=(Denial("s-1", NOW + MINUTE),),
            watermark=Watermark("7", NOW, NOW + MINUTE),
        )
    )

    entries = await snapshot_of(pair.feed)

    assert len(entries) == 3
    assert entries.watermark("7", NOW) == NOW


async def test_changes_after_a_position_arrive_in_order(pair: FeedPair) -> None:
    await pair.store.apply(RevocationPlan(tokens=(Denial("before", NOW + MINUTE),)))
    cursor = await pair.feed.position()

    await pair.store.apply(RevocationPlan(tokens=(Denial("first", NOW + MINUTE),)))
    await pair.store.apply(
        RevocationPlan(sessions=(Denial("second", NOW + 2 * MINUTE),), watermark=Watermark("7:x", NOW, NOW + MINUTE))
    )
    batch = await pair.feed.changes(cursor)

    # A feed may split one applied plan into several, but keeps the order of entries.
    assert batch.caught_up
    entries = [entry for plan in batch.plans for entry in (*plan.tokens, *plan.sessions, plan.watermark) if entry]
    assert entries == [
        Denial("first", NOW + MINUTE),
        Denial("second", NOW + 2 * MINUTE),
        Watermark("7:x", NOW, NOW + MINUTE),
    ]


async def test_no_change_returns_the_same_cursor(pair: FeedPair) -> None:
    await pair.store.apply(RevocationPlan(tokens=(Denial("jti-1", NOW + MINUTE),)))
    cursor = await pair.feed.position()

    batch = await pair.feed.changes(cursor)

    assert batch.plans == ()
    assert batch.cursor == cursor
    assert batch.caught_up


async def test_reading_on_from_the_returned_cursor_skips_nothing(pair: FeedPair) -> None:
    cursor = await pair.feed.position()
    seen: list[str] = []
    for number in range(3):
        await pair.store.apply(RevocationPlan(tokens=(Denial(f"jti-{number}", NOW + MINUTE),)))
        batch = await pair.feed.changes(cursor)
        cursor = batch.cursor
        seen += [denial.key for plan in batch.plans for denial in plan.tokens]

    assert seen == ["jti-0", "jti-1", "jti-2"]
