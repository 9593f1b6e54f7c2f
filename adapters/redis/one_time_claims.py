"""One-time claims as Redis keys, taken in one Lua script."""

from __future__ import annotations

from datetime import datetime

from redis.asyncio import Redis

from adapters.outage import OutageLog
from adapters.redis.errors import redis_outage_log, translate_unavailable
from adapters.redis.times import to_micros, ttl_millis

# KEYS[1]: the claim key. ARGV: now and expires_at in microseconds, the TTL in ms.
# The value is the claim's expiry, so a claim ends by the caller's clock even
# before Redis drops the key.
_CLAIM = """
local current = redis.call('GET', KEYS[1])
if current and tonumber(current) > tonumber(ARGV[1]) then
    return 0
end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
"""


class RedisOneTimeClaims:
    """``OneTimeClaims`` on Redis: key ``{prefix}claim:{key}``.

    Redis runs a script without interleaving other commands, so of
    concurrent claims exactly one succeeds. The TTL runs from the caller's
    ``now`` to ``expires_at``, and the stored expiry is compared with the
    caller's ``now``, as the revocation store does.
    """

    def __init__(self, client: Redis, prefix: str = "keyturn:", outage: OutageLog | None = None) -> None:
        self._client = client
        self._prefix = prefix
        self._outage = outage or redis_outage_log()
        self._claim = client.register_script(_CLAIM)

    async def claim(self, key: str, expires_at: datetime, now: datetime) -> bool:
        if expires_at <= now:
            # Already expired: nothing could hold it, and a TTL cannot be zero.
            return True
        args = [to_micros(now), to_micros(expires_at), ttl_millis(expires_at, now)]
        async with translate_unavailable(self._outage):
            result = await self._claim(keys=[f"{self._prefix}claim:{key}"], args=args)
        return result == 1
