"""Counting failed logins and refusing logins over the limits of ``ThrottlePolicy``."""

from __future__ import annotations

from datetime import datetime

from application.ports import LoginAttemptCounter
from domain.throttling import (
    ADDRESS_LIMIT,
    PAIR_LIMIT,
    FailureWindow,
    LoginThrottled,
    ThrottleKeys,
    ThrottlePolicy,
    retry_after_seconds,
)


class LoginThrottle:
    """Applies ``ThrottlePolicy`` through a ``LoginAttemptCounter``.

    The check and the count are separate calls, so concurrent attempts that
    pass the check together can each add a failure: a burst of N parallel
    requests may overshoot a limit by up to N - 1. The next check refuses all
    of them.
    """

    def __init__(self, counter: LoginAttemptCounter, policy: ThrottlePolicy) -> None:
        self._counter = counter
        self._policy = policy

    async def check(self, keys: ThrottleKeys, now: datetime) -> None:
        """Raise ``LoginThrottled`` when the pair or the address has used up its failures.

        ``retry_after`` is the time until the later of the full windows ends,
        because the login stays refused until both allow it again.
        """
        full: list[tuple[FailureWindow, str]] = []
        pair = await self._counter.window(keys.pair, now)
        if pair is not None and pair.count >= self._policy.max_failures:
            full.append((pair, PAIR_LIMIT))
        if keys.address is not None:
            address = await self._counter.window(keys.address, now)
            if address is not None and address.count >= self._policy.max_failures_per_address:
                full.append((address, ADDRESS_LIMIT))
        if full:
            window, limit = max(full, key=lambda item: item[0].ends_at)
            raise LoginThrottled(retry_after_seconds(window.ends_at, now), limit)

    async def record_failure(self, keys: ThrottleKeys, now: datetime) -> None:
        await self._counter.record_failure(keys.pair, self._policy.window, now)
        if keys.address is not None:
            await self._counter.record_failure(keys.address, self._policy.window, now)

    async def record_success(self, keys: ThrottleKeys) -> None:
        """Clear the pair's failures; the address counter is kept (see ``domain.throttling``)."""
        await self._counter.reset(keys.pair)
