"""Failed login counts per key, in fixed windows, held in a dict."""

from __future__ import annotations

from datetime import datetime, timedelta

from domain.throttling import FailureWindow

# Expired windows are swept once the dict has doubled since the last sweep,
# which keeps the cost per call constant on average.
_MIN_SWEEP_SIZE = 64


class InMemoryLoginAttemptCounter:
    """Dict-backed ``LoginAttemptCounter``, whose windows end by the ``now`` the caller passes.

    No method awaits anything, so each call is atomic under asyncio.
    """

    def __init__(self) -> None:
        self.windows: dict[str, tuple[int, datetime]] = {}
        self._sweep_at = _MIN_SWEEP_SIZE

    async def record_failure(self, key: str, window: timedelta, now: datetime) -> int:
        if window <= timedelta(0):
            raise ValueError(f"window must be positive, got {window}")
        count = self._current_count(key, now)
        if count == 0:
            self.windows[key] = (1, now + window)
            self._sweep_if_due(now)
            return 1
        self.windows[key] = (count + 1, self.windows[key][1])
        return count + 1

    async def failures(self, key: str, now: datetime) -> int:
        return self._current_count(key, now)

    async def window(self, key: str, now: datetime) -> FailureWindow | None:
        count = self._current_count(key, now)
        return FailureWindow(count, self.windows[key][1]) if count else None

    async def reset(self, key: str) -> None:
        self.windows.pop(key, None)

    def _current_count(self, key: str, now: datetime) -> int:
        entry = self.windows.get(key)
        if entry is None or entry[1] <= now:
            return 0
        return entry[0]

    def _sweep_if_due(self, now: datetime) -> None:
        if len(self.windows) < self._sweep_at:
            return
        self.windows = {key: entry for key, entry in self.windows.items() if entry[1] > now}
        self._sweep_at = max(_MIN_SWEEP_SIZE, 2 * len(self.windows))
