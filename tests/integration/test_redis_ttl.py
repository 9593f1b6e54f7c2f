"""Every key the Redis adapters write has a TTL, so Redis never grows without bound."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone

import pytest

from adapters.redis.login_attempts import RedisLoginAttemptCounter
from adapters.redis.refresh_tokens import RedisRefreshTokenStore
from adapters.redis.revocations import RedisRevocationStore
from domain.clock import FixedClock
from domain.revocation import Denial, RevocationPlan, Watermark
from domain.session import RefreshRecord, Session
from tests.integration.redis_support import RedisTarget, redis_target  # noqa: F401 (fixture)

pytestmark = pytest.mark.redis

LIFETIME = timedelta(days=14)
ACCESS_LIFETIME = timedelta(minutes=16)
KEY_KINDS = {"session", "refresh", "session-tokens", "user-sessions", "jti", "sid", "wm", "revocation-feed", "attempts"}


def digest(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()


async def open_session(store: RedisRefreshTokenStore, session_id: str, user_id: str, now: datetime) -> None:
    session = Session(session_id, user_id, now, now, now + LIFETIME, user_agent="curl/8.5.0")
    record = RefreshRecord(digest(f"token-of-{session_id}"), session_id, user_id, now, now + LIFETIME)
    await store.open_session(session, record)


async def run_scenario(target: RedisTarget, clock: FixedClock) -> None:
    """Log in, refresh, log out, log out everywhere and fail logins, as the use cases do."""
    refresh_store = RedisRefreshTokenStore(target.client, target.prefix, clock=clock)
    revocations = RedisRevocationStore(target.client, target.prefix, clock=clock)
    attempts = RedisLoginAttemptCounter(target.client, target.prefix)
    now = clock.now()

    for number in range(3):
        await open_session(refresh_store, f"session-{number}", "42", now)
    await open_session(refresh_store, "other", "43", now)
    later = now + timedelta(minutes=5)
    await refresh_store.rotate(digest("token-of-session-0"), digest("second"), later, later + LIFETIME)
    await refresh_store.revoke_session("session-1", later)
    await revocations.apply(
        RevocationPlan(
            tokens=(Denial("jti-1", later + ACCESS_LIFETIME),),
            sessions=(Denial("session-1", later + ACCESS_LIFETIME),),
        )
    )
    await refresh_store.revoke_user_sessions("42", later)
    await revocations.apply(
        RevocationPlan(
            sessions=(Denial("session-0", later + ACCESS_LIFETIME),),
            watermark=Watermark("42", later, later + ACCESS_LIFETIME),
        )
    )
    await refresh_store.list_sessions("42", later)
    await attempts.record_failure("alice", timedelta(minutes=15), later)
    await attempts.record_failure("ip:192.0.2.7", timedelta(minutes=15), later)


def key_kind(target: RedisTarget, key: str) -> str:
    return key.removeprefix(target.prefix).split(":", 1)[0]


@pytest.mark.parametrize(
    "start",
    [datetime.now(timezone.utc), datetime(2021, 3, 1, 8, 30, tzinfo=timezone.utc)],
    ids=["real-time", "clock-in-the-past"],
)
async def test_every_key_has_ttl(redis_target: RedisTarget, start: datetime) -> None:
    await run_scenario(redis_target, FixedClock(start))

    keys = await redis_target.keys()
    assert {key_kind(redis_target, key) for key in keys} == KEY_KINDS
    for key in keys:
        ttl = await redis_target.client.pttl(key)
        assert ttl > 0, f"{key} has PTTL {ttl}"


async def test_ttl_follows_entry_lifetime(redis_target: RedisTarget) -> None:
    clock = FixedClock(datetime(2021, 3, 1, 8, 30, tzinfo=timezone.utc))
    revocations = RedisRevocationStore(redis_target.client, redis_target.prefix, clock=clock)

    await revocations.apply(RevocationPlan(tokens=(Denial("jti-1", clock.now() + timedelta(minutes=10)),)))

    ttl = await redis_target.client.pttl(f"{redis_target.prefix}jti:jti-1")
    assert timedelta(minutes=9) < timedelta(milliseconds=ttl) <= timedelta(minutes=10)


async def test_expired_entries_are_not_written(redis_target: RedisTarget) -> None:
    clock = FixedClock(datetime.now(timezone.utc))
    revocations = RedisRevocationStore(redis_target.client, redis_target.prefix, clock=clock)
    past = clock.now() - timedelta(seconds=1)

    plan = RevocationPlan(
        tokens=(Denial("jti-1", past),), sessions=(Denial("s", past),), watermark=Watermark("42", past, past)
    )

    await revocations.apply(plan)

    assert await redis_target.keys() == []


async def test_sessions_index_drops_expired_sessions(redis_target: RedisTarget) -> None:
    store = RedisRefreshTokenStore(redis_target.client, redis_target.prefix)
    now = datetime.now(timezone.utc)
    await open_session(store, "old", "42", now)
    await open_session(store, "new", "42", now)
    # Deleting the session key stands for Redis expiring it.
    await redis_target.client.delete(f"{redis_target.prefix}session:old")

    await open_session(store, "newer", "42", now)

    members = await redis_target.client.zrange(f"{redis_target.prefix}user-sessions:42", 0, -1)
    assert sorted(members) == ["new", "newer"]
