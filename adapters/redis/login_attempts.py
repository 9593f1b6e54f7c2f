"""Failed login counts per key, in fixed windows that Redis expires."""

from __future__ import annotations

from datetime import datetime, timedelta

from redis.asyncio import Redis

from adapters.outage import OutageLog
from adapters.redis.errors import redis_outage_log, translate_unavailable
from adapters.redis.times import from_micros, to_micros, ttl_millis
from domain.throttling import FailureWindow

# KEYS[1]: the counter hash. ARGV: now and the end of a new window, both in
# microseconds, and the window length in milliseconds. A failure after the
# stored window has ended, by the caller's clock, starts a new window.
_RECORD_FAILURE = """
local window_ends = redis.call('HGET', KEYS[1], 'window_ends')
if window_ends and tonumber(window_ends) > tonumber(ARGV[1]) then
    return redis.call('HINCRBY', KEYS[1], 'count', 1)
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'count', 1, 'window_ends', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
"""


class RedisLoginAttemptCounter:
    """``LoginAttemptCounter`` on Redis: one hash ``{prefix}attempts:{key}`` per key.

    The hash stores the count and the end of its window, and expires with
    the window. Reads compare the window's end with the ``now`` they are
    passed, so a window is over as soon as the caller's clock passes its end.
    """

    def __init__(self, client: Redis, prefix: str = "keyturn:", outage: OutageLog | None = None) -> None:
        self._client = client
        self._prefix = prefix
        self._outage = outage or redis_outage_log()
        self._record_failure = client.register_script(_RECORD_FAILURE)

    async def record_failure(self, key: str, window: timedelta, now: datetime) -> int:
        """Count one failure atomically and return the failures for ``key`` in the current window."""
        if window <= timedelta(0):
            raise ValueError(f"window must be positive, got {window}")
        window_ends = now + window
        args = [to_micros(now), to_micros(window_ends), ttl_millis(window_ends, now)]
        async with translate_unavailable(self._outage):
            return int(await self._record_failure(keys=[self._key(key)], args=args))

    async def failures(self, key: str, now: datetime) -> int:
        current = await self.window(key, now)
        return 0 if current is None else current.count

    async def window(self, key: str, now: datetime) -> FailureWindow | None:
        async with translate_unavailable(self._outage):
            count, window_ends = await self._client.hmget(self._key(key), ["count", "window_ends"])
        if count is None or window_ends is None:
            return None
        ends_at = from_micros(window_ends)
        if ends_at <= now:
            return None
        return FailureWindow(int(count), ends_at)

    async def reset(self, key: str) -> None:
        async with translate_unavailable(self._outage):
            await self._client.unlink(self._key(key))

    def _key(self, key: str) -> str:
        return f"{self._prefix}attempts:{key}"
