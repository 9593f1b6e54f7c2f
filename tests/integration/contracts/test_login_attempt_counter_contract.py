"""Contract of ``LoginAttemptCounter``, run against every adapter."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import pytest

from application.ports import LoginAttemptCounter

# Near the real time, because Redis expires a window by its own clock as well.
NOW = datetime.now(timezone.utc).replace(microsecond=250000)
WINDOW = timedelta(minutes=15)


async def test_nothing_recorded_means_no_failures(login_attempts: LoginAttemptCounter) -> None:
    assert await login_attempts.failures("alice", NOW) == 0


async def test_failures_count_up_in_window(login_attempts: LoginAttemptCounter) -> None:
    counts = [await login_attempts.record_failure("alice", WINDOW, NOW + n * timedelta(minutes=1)) for n in range(3)]

    assert counts == [1, 2, 3]
    assert await login_attempts.failures("alice", NOW + timedelta(minutes=3)) == 3


async def test_keys_count_separately(login_attempts: LoginAttemptCounter) -> None:
    await login_attempts.record_failure("alice", WINDOW, NOW)
    await login_attempts.record_failure("alice", WINDOW, NOW)
    await login_attempts.record_failure("ip:192.0.2.7", WINDOW, NOW)

    assert await login_attempts.failures("alice", NOW) == 2
    assert await login_attempts.failures("ip:192.0.2.7", NOW) == 1
    assert await login_attempts.failures("bob", NOW) == 0


async def test_window_is_fixed_from_first_failure(login_attempts: LoginAttemptCounter) -> None:
    await login_attempts.record_failure("alice", WINDOW, NOW)
    await login_attempts.record_failure("alice", WINDOW, NOW + WINDOW - timedelta(seconds=1))

    assert await login_attempts.failures("alice", NOW + WINDOW - timedelta(microseconds=1)) == 2
    assert await login_attempts.failures("alice", NOW + WINDOW) == 0


async def test_failure_after_window_starts_new_one(login_attempts: LoginAttemptCounter) -> None:
    await login_attempts.record_failure("alice", WINDOW, NOW)
    await login_attempts.record_failure("alice", WINDOW, NOW)
    later = NOW + WINDOW + timedelta(seconds=5)

    assert await login_attempts.record_failure("alice", WINDOW, later) == 1
    assert await login_attempts.failures("alice", later + WINDOW - timedelta(seconds=1)) == 1
    assert await login_attempts.failures("alice", later + WINDOW) == 0


async def test_reset_clears_only_that_key(login_attempts: LoginAttemptCounter) -> None:
    await login_attempts.record_failure("alice", WINDOW, NOW)
    await login_attempts.record_failure("bob", WINDOW, NOW)

    await login_attempts.reset("alice")
    await login_attempts.reset("carol")

    assert await login_attempts.failures("alice", NOW) == 0
    assert await login_attempts.failures("bob", NOW) == 1
    assert await login_attempts.record_failure("alice", WINDOW, NOW) == 1


async def test_concurrent_failures_are_all_counted(login_attempts: LoginAttemptCounter) -> None:
    counts = await asyncio.gather(*(login_attempts.record_failure("alice", WINDOW, NOW) for _ in range(25)))

    assert sorted(counts) == list(range(1, 26))
    assert await login_attempts.failures("alice", NOW) == 25


@pytest.mark.parametrize("window", [timedelta(0), timedelta(seconds=-1)])
async def test_window_must_be_positive(login_attempts: LoginAttemptCounter, window: timedelta) -> None:
    with pytest.raises(ValueError, match="window must be positive"):
        await login_attempts.record_failure("alice", window, NOW)
    assert await login_attempts.failures("alice", NOW) == 0
