"""``ReplicatedRevocationStore`` over the in-memory store and feed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta, timezone

import pytest

from adapters.memory.revocation_feed import InMemoryRevocationFeed
from adapters.memory.revocations import InMemoryRevocationStore
from adapters.revocation_replica import ReplicatedRevocationStore
from domain.clock import FixedClock
from domain.errors import StoreUnavailable
from domain.revocation import Denial, RevocationPlan, RevocationStatus
from domain.tokens import AccessToken

NOW = datetime(2026, 3, 1, 8, 30, tzinfo=timezone.utc)
MINUTE = timedelta(minutes=1)


class UnreadableStore(InMemoryRevocationStore):
    """Accepts writes but fails every read, so a correct status can only come from the replica."""

    def __init__(self, feed_capacity: int) -> None:
        super().__init__(feed_capacity)
        self.reads_fail = False

    async def status(self, token: AccessToken, now: datetime) -> RevocationStatus:
        if self.reads_fail:
            raise StoreUnavailable("reads are switched off")
        return await super().status(token, now)


class Monotonic:
    def __init__(self) -> None:
        self.value = 1000.0

    def __call__(self) -> float:
        return self.value


def token(token_id: str = "jti-1") -> AccessToken:
    return AccessToken(
        subject="7",
        session_id="s-1",
        token_id=token_id,
        issued_at=NOW,
        not_before=NOW,
        expires_at=NOW + 15 * MINUTE,
        issuer="keyturn",
        audience="keyturn",
    )


def deny(token_id: str) -> RevocationPlan:
    return RevocationPlan(tokens=(Denial(token_id, NOW + 10 * MINUTE),))


async def eventually(condition: Callable[[], bool]) -> None:
    for _ in range(400):
        if condition():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("the condition did not hold within 2 s")


@pytest.fixture
def store() -> UnreadableStore:
    return UnreadableStore(feed_capacity=3)


@pytest.fixture
def feed(store: UnreadableStore) -> InMemoryRevocationFeed:
    return InMemoryRevocationFeed(store)


@pytest.fixture
def monotonic() -> Monotonic:
    return Monotonic()


@pytest.fixture
async def replica(
    store: UnreadableStore, feed: InMemoryRevocationFeed, monotonic: Monotonic
) -> AsyncIterator[ReplicatedRevocationStore]:
    replica = ReplicatedRevocationStore(store, feed, FixedClock(NOW), timedelta(seconds=1), monotonic)
    yield replica
    await replica.stop()


async def test_replica_not_started_reads_the_store(replica: ReplicatedRevocationStore, store: UnreadableStore) -> None:
    await store.apply(deny("jti-1"))

    assert not replica.is_current
    assert (await replica.status(token(), NOW)).token_denied


async def test_started_replica_loads_entries_and_answers_from_memory(
    replica: ReplicatedRevocationStore, store: UnreadableStore
) -> None:
    await store.apply(deny("jti-1"))
    replica.start()
    await eventually(lambda: replica.is_current)

    store.reads_fail = True

    assert (await replica.status(token(), NOW)).token_denied
    assert not (await replica.status(token("jti-2"), NOW)).token_denied


async def test_change_from_another_process_arrives_through_the_feed(
    replica: ReplicatedRevocationStore, store: UnreadableStore
) -> None:
    replica.start()
    await eventually(lambda: replica.is_current)
    store.reads_fail = True

    # Written to the shared store by someone else, not through this replica.
    await store.apply(deny("jti-1"))

    await eventually(lambda: replica.size == 1)
    assert (await replica.status(token(), NOW)).token_denied


async def test_own_revocation_applies_without_feed(
    replica: ReplicatedRevocationStore, store: UnreadableStore, feed: InMemoryRevocationFeed
) -> None:
    replica.start()
    await eventually(lambda: replica.is_current)
    feed.available = False
    store.reads_fail = True

    await replica.apply(deny("jti-1"))

    assert (await replica.status(token(), NOW)).token_denied


async def test_lost_feed_falls_back_to_the_store(
    replica: ReplicatedRevocationStore, store: UnreadableStore, feed: InMemoryRevocationFeed
) -> None:
    replica.start()
    await eventually(lambda: replica.is_current)

    feed.available = False
    await eventually(lambda: not replica.is_current)
    await store.apply(deny("jti-1"))

    assert (await replica.status(token(), NOW)).token_denied


async def test_silent_feed_stops_local_answers(replica: ReplicatedRevocationStore, monotonic: Monotonic) -> None:
    replica.start()
    await eventually(lambda: replica.is_current)

    monotonic.value += 1.0

    assert not replica.is_current


async def test_feed_gap_reloads_every_entry(
    replica: ReplicatedRevocationStore, store: UnreadableStore, feed: InMemoryRevocationFeed
) -> None:
    replica.start()
    await eventually(lambda: replica.is_current)
    feed.available = False
    await eventually(lambda: not replica.is_current)

    # More plans than the feed keeps: the replica cannot read them all from it.
    for number in range(5):
        await store.apply(deny(f"jti-{number}"))
    feed.available = True

    await eventually(lambda: replica.is_current)
    store.reads_fail = True
    assert replica.reloads == 2
    assert replica.size == 5
    assert (await replica.status(token("jti-0"), NOW)).token_denied
