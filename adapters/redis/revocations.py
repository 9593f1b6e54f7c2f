"""Denied ``jti``s, denied sessions and user watermarks as Redis strings with TTLs."""

from __future__ import annotations

from datetime import datetime

from redis.asyncio import Redis

from adapters.outage import OutageLog
from adapters.redis.errors import redis_outage_log, translate_unavailable
from adapters.redis.feed_entries import FEED_KEY, encode_entries
from adapters.redis.times import from_micros, to_micros
from domain.clock import Clock, SystemClock
from domain.revocation import Denial, RevocationPlan, RevocationStatus, Watermark
from domain.tokens import AccessToken

# KEYS: the denial keys, then the watermark key if ARGV[3] is "1", then the feed stream.
# ARGV: now, number of denials, whether a watermark follows, each denial's
# until, then the watermark's issued_before and until, all times in
# microseconds; then the feed's approximate length limit and the feed entries.
# A denial value is its until; a watermark value is "issued_before:until".
# Each key's TTL runs from now to the until it ends up with. The stream lives
# at least as long as the longest entry in it, so when it expires every change
# it held has expired too, and a replica that misses them loses nothing live.
_APPLY_PLAN = """
local now = tonumber(ARGV[1])
local denials = tonumber(ARGV[2])

local function ttl_ms(expiry)
    return math.max(1, math.ceil((expiry - now) / 1000))
end

local longest = 0
for i = 1, denials do
    local expiry = tonumber(ARGV[3 + i])
    longest = math.max(longest, ttl_ms(expiry))
    local current = tonumber(redis.call('GET', KEYS[i]) or '0')
    if expiry > current then
        redis.call('SET', KEYS[i], ARGV[3 + i], 'PX', ttl_ms(expiry))
    end
end

if ARGV[3] == '1' then
    local issued_before = ARGV[4 + denials]
    local expiry = ARGV[5 + denials]
    local current = redis.call('GET', KEYS[denials + 1])
    if current then
        local separator = string.find(current, ':', 1, true)
        local current_issued_before = string.sub(current, 1, separator - 1)
        local current_expiry = string.sub(current, separator + 1)
        -- A watermark past its expiry by the caller's clock no longer counts.
        if tonumber(current_expiry) > now then
            if tonumber(current_issued_before) > tonumber(issued_before) then
                issued_before = current_issued_before
            end
            if tonumber(current_expiry) > tonumber(expiry) then
                expiry = current_expiry
            end
        end
    end
    longest = math.max(longest, ttl_ms(tonumber(expiry)))
    redis.call('SET', KEYS[denials + 1], issued_before .. ':' .. expiry, 'PX', ttl_ms(tonumber(expiry)))
end

local feed_at = 4 + denials
if ARGV[3] == '1' then
    feed_at = feed_at + 2
end
local fields = {}
for i = feed_at + 1, #ARGV do
    table.insert(fields, tostring(i - feed_at))
    table.insert(fields, ARGV[i])
end
local feed = KEYS[#KEYS]
redis.call('XADD', feed, 'MAXLEN', '~', ARGV[feed_at], '*', unpack(fields))
if redis.call('PTTL', feed) < longest then
    redis.call('PEXPIRE', feed, longest)
end
"""


class RedisRevocationStore:
    """``RevocationStore`` on Redis: one string per entry, kept until the entry's ``until``.

    Keys are ``{prefix}jti:{jti}``, ``{prefix}sid:{session_id}`` and
    ``{prefix}wm:{user_id}``. The same script appends each plan to the stream
    ``{prefix}revocation-feed``, capped at about ``feed_length`` entries,
    which per-process replicas follow. A key's TTL runs from ``clock.now()`` at the time
    of ``apply`` to the entry's ``until``, so it does not depend on the Redis
    server's clock. The value stores ``until`` as well, and reads compare it
    with the ``now`` they are passed, so an entry is absent from the moment
    the caller's clock passes ``until``, even before Redis drops the key.
    """

    def __init__(
        self,
        client: Redis,
        prefix: str = "keyturn:",
        clock: Clock | None = None,
        outage: OutageLog | None = None,
        feed_length: int = 10_000,
    ) -> None:
        self._client = client
        self._feed_length = feed_length
        self._prefix = prefix
        self._clock = clock or SystemClock()
        self._outage = outage or redis_outage_log()
        self._apply_plan = client.register_script(_APPLY_PLAN)

    async def apply(self, plan: RevocationPlan) -> None:
        """Store the plan's entries atomically, never shortening a denial or lowering a watermark.

        Entries whose ``until`` has already passed are not written.
        """
        now = self._clock.now()
        tokens = [denial for denial in plan.tokens if denial.until > now]
        sessions = [denial for denial in plan.sessions if denial.until > now]
        mark = plan.watermark if plan.watermark is not None and plan.watermark.until > now else None
        if not tokens and not sessions and mark is None:
            return
        keys, args = self._plan_arguments(tokens, sessions, mark, now)
        async with translate_unavailable(self._outage):
            await self._apply_plan(keys=keys, args=args)

    async def status(self, token: AccessToken, now: datetime) -> RevocationStatus:
        """Read the token's denial, its session's denial and its user's watermark with one MGET."""
        keys = [self._jti_key(token.token_id), self._sid_key(token.session_id), self._watermark_key(token.subject)]
        async with translate_unavailable(self._outage):
            token_until, session_until, watermark = await self._client.mget(keys)
        return RevocationStatus(
            token_denied=_denial_is_live(token_until, now),
            session_denied=_denial_is_live(session_until, now),
            watermark=_live_watermark(watermark, now),
        )

    async def watermark(self, user_id: str, now: datetime) -> datetime | None:
        async with translate_unavailable(self._outage):
            value = await self._client.get(self._watermark_key(user_id))
        return _live_watermark(value, now)

    def _plan_arguments(
        self, tokens: list[Denial], sessions: list[Denial], mark: Watermark | None, now: datetime
    ) -> tuple[list[str], list[str | int]]:
        denials = [(self._jti_key(denial.key), denial.until) for denial in tokens]
        denials += [(self._sid_key(denial.key), denial.until) for denial in sessions]
        keys = [key for key, _ in denials]
        args: list[str | int] = [to_micros(now), len(denials), "0" if mark is None else "1"]
        args.extend(to_micros(until) for _, until in denials)
        if mark is not None:
            keys.append(self._watermark_key(mark.user_id))
            args.extend((to_micros(mark.issued_before), to_micros(mark.until)))
        keys.append(f"{self._prefix}{FEED_KEY}")
        args.append(self._feed_length)
        args.extend(encode_entries(tokens, sessions, mark))
        return keys, args

    def _jti_key(self, token_id: str) -> str:
        return f"{self._prefix}jti:{token_id}"

    def _sid_key(self, session_id: str) -> str:
        return f"{self._prefix}sid:{session_id}"

    def _watermark_key(self, user_id: str) -> str:
        return f"{self._prefix}wm:{user_id}"


def _denial_is_live(value: str | None, now: datetime) -> bool:
    return value is not None and now < from_micros(value)


def _live_watermark(value: str | None, now: datetime) -> datetime | None:
    if value is None:
        return None
    issued_before, until = value.split(":")
    if from_micros(until) <= now:
        return None
    return from_micros(issued_before)
