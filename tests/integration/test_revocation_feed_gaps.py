"""Each feed raises FeedGap for a reader that fell too far behind, instead of skipping changes silently."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.redis.errors import redis_outage_log
from adapters.redis.revocation_feed import RedisRevocationFeed
from adapters.redis.revocations import RedisRevocationStore
from adapters.revocation_feed import FeedGap
from adapters.sql.revocation_feed import RESUME_LIMIT, SqlRevocationFeed
from adapters.sql.revocations import SqlRevocationStore
from domain.clock import FixedClock
from domain.revocation import Denial, RevocationPlan
from tests.integration.redis_support import RedisTarget, redis_target  # noqa: F401 (fixture)

NOW = datetime.now(timezone.utc).replace(microsecond=0)
MINUTE = timedelta(minutes=1)


def deny(number: int) -> RevocationPlan:
    return RevocationPlan(tokens=(Denial(f"jti-{number}", NOW + MINUTE),))


@pytest.mark.redis
async def test_redis_reader_behind_the_cap_gets_a_gap(redis_target: RedisTarget) -> None:
    store = RedisRevocationStore(redis_target.client, redis_target.prefix, clock=FixedClock(NOW), feed_length=10)
    feed = RedisRevocationFeed(redis_target.client, redis_target.prefix, redis_outage_log(), wait_ms=10)
    await store.apply(deny(0))
    cursor = await feed.position()

    # Redis trims a capped stream a whole node (100 entries by default) at a time.
    for number in range(1, 400):
        await store.apply(deny(number))

    with pytest.raises(FeedGap):
        await feed.changes(cursor)


@pytest.mark.redis
async def test_redis_reader_within_the_cap_reads_on(redis_target: RedisTarget) -> None:
    store = RedisRevocationStore(redis_target.client, redis_target.prefix, clock=FixedClock(NOW), feed_length=10)
    feed = RedisRevocationFeed(redis_target.client, redis_target.prefix, redis_outage_log(), wait_ms=10)
    cursor = await feed.position()
    for number in range(400):
        await store.apply(deny(number))
        batch = await feed.changes(cursor)
        cursor = batch.cursor

    assert batch.plans == (deny(399),)


@pytest.mark.redis
async def test_redis_feed_expires_with_its_longest_entry(redis_target: RedisTarget) -> None:
    store = RedisRevocationStore(redis_target.client, redis_target.prefix, clock=FixedClock(datetime.now(timezone.utc)))

    await store.apply(RevocationPlan(tokens=(Denial("short", datetime.now(timezone.utc) + MINUTE),)))
    await store.apply(RevocationPlan(tokens=(Denial("long", datetime.now(timezone.utc) + 10 * MINUTE),)))

    ttl = await redis_target.client.pttl(f"{redis_target.prefix}revocation-feed")
    assert 9 * MINUTE < timedelta(milliseconds=ttl) <= 10 * MINUTE + timedelta(seconds=1)


class Monotonic:
    def __init__(self) -> None:
        self.value = 0.0

    def __call__(self) -> float:
        return self.value


async def test_sql_idle_reader_gets_gap(sqlite_engine: AsyncEngine) -> None:
    monotonic = Monotonic()
    feed = SqlRevocationFeed(sqlite_engine, timedelta(milliseconds=1), monotonic=monotonic)
    cursor = await feed.position()
    await SqlRevocationStore(sqlite_engine, FixedClock(NOW)).apply(deny(1))

    monotonic.value += RESUME_LIMIT.total_seconds() + 1

    with pytest.raises(FeedGap):
        await feed.changes(cursor)


async def test_sql_reader_within_the_resume_limit_reads_on(sqlite_engine: AsyncEngine) -> None:
    monotonic = Monotonic()
    feed = SqlRevocationFeed(sqlite_engine, timedelta(milliseconds=1), monotonic=monotonic)
    cursor = await feed.position()
    await SqlRevocationStore(sqlite_engine, FixedClock(NOW)).apply(deny(1))

    monotonic.value += RESUME_LIMIT.total_seconds() - 1

    assert (await feed.changes(cursor)).plans == (deny(1),)


async def test_sql_ids_survive_emptying_purge(sqlite_engine: AsyncEngine) -> None:
    feed = SqlRevocationFeed(sqlite_engine, timedelta(milliseconds=1))
    store = SqlRevocationStore(sqlite_engine, FixedClock(NOW))
    await store.apply(deny(1))
    await store.apply(deny(2))
    cursor = await feed.position()
    await store.purge_expired(NOW + 2 * MINUTE)

    await store.apply(deny(3))

    assert (await feed.changes(cursor)).plans == (deny(3),)
