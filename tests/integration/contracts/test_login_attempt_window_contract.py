"""Contract of ``LoginAttemptCounter.window``, which login throttling reads for the count and the Retry-After."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from application.ports import LoginAttemptCounter
from domain.throttling import FailureWindow

# Near the real time, because Redis expires a window by its own clock as well.
NOW = datetime.now(timezone.utc).replace(microsecond=250000)
WINDOW = timedelta(minutes=15)


async def test_no_window_before_any_failure(login_attempts: LoginAttemptCounter) -> None:
    assert await login_attempts.window("login:abc:192.0.2.7", NOW) is None


async def test_window_ends_one_window_after_first_failure(login_attempts: LoginAttemptCounter) -> None:
    await login_attempts.record_failure("login:abc:192.0.2.7", WINDOW, NOW)
    await login_attempts.record_failure("login:abc:192.0.2.7", WINDOW, NOW + timedelta(minutes=5))

    assert await login_attempts.window("login:abc:192.0.2.7", NOW + timedelta(minutes=6)) == FailureWindow(
        2, NOW + WINDOW
    )


async def test_window_is_gone_once_it_ends(login_attempts: LoginAttemptCounter) -> None:
    await login_attempts.record_failure("address:192.0.2.7", WINDOW, NOW)

    assert await login_attempts.window("address:192.0.2.7", NOW + WINDOW) is None
    assert await login_attempts.failures("address:192.0.2.7", NOW + WINDOW) == 0


async def test_window_restarts_after_it_ends(login_attempts: LoginAttemptCounter) -> None:
    await login_attempts.record_failure("address:2001:db8::/64", WINDOW, NOW)
    later = NOW + WINDOW + timedelta(seconds=1)

    await login_attempts.record_failure("address:2001:db8::/64", WINDOW, later)

    assert await login_attempts.window("address:2001:db8::/64", later) == FailureWindow(1, later + WINDOW)


async def test_reset_closes_the_window(login_attempts: LoginAttemptCounter) -> None:
    await login_attempts.record_failure("login:abc:-", WINDOW, NOW)

    await login_attempts.reset("login:abc:-")

    assert await login_attempts.window("login:abc:-", NOW) is None
