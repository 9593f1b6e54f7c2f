"""The Redis revocation feed: a stream that ``RedisRevocationStore`` appends to in its apply script.

A reader blocks on ``XREAD`` for up to ``wait_ms``, so a change reaches every
replica as soon as Redis delivers it. The stream is capped at about a fixed
length. A cursor is ``<entry id>@<count>``: the last entry read and how many
entries the stream had received up to it. ``XINFO STREAM`` (Redis 7.0 and
later) reports how many entries were ever added and how many remain. When more
were trimmed than the reader had read, the reader gets ``FeedGap``. Keyturn
never deletes single entries, so trimming is the only way entries go.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import datetime

from redis.asyncio import Redis
from redis.exceptions import ResponseError

from adapters.outage import OutageLog
from adapters.redis.errors import translate_unavailable
from adapters.redis.feed_entries import FEED_KEY, decode_entries
from adapters.redis.times import from_micros
from adapters.revocation_feed import FeedBatch, FeedGap
from domain.revocation import Denial, RevocationPlan, Watermark

DEFAULT_WAIT_MS = 250
BATCH_SIZE = 1000
_EMPTY_STREAM = "0-0"


class RedisRevocationFeed:
    """``RevocationFeed`` over ``{prefix}revocation-feed`` and the entry keys beside it.

    ``client`` should be one of its own, whose read timeout exceeds
    ``wait_ms``, because a blocked ``XREAD`` holds its connection.
    """

    def __init__(
        self, client: Redis, prefix: str, outage: OutageLog, wait_ms: int = DEFAULT_WAIT_MS, batch_size: int = BATCH_SIZE
    ) -> None:
        self._client = client
        self._prefix = prefix
        self._stream = f"{prefix}{FEED_KEY}"
        self._outage = outage
        self._wait_ms = wait_ms
        self._batch_size = batch_size

    async def position(self) -> str:
        async with translate_unavailable(self._outage):
            info = await self._stream_info()
        if info is None:
            return _cursor(_EMPTY_STREAM, 0)
        return _cursor(info["last-generated-id"], info["entries-added"])

    async def snapshot(self, now: datetime) -> AsyncIterator[RevocationPlan]:
        for kind in ("jti", "sid", "wm"):
            pattern = f"{_glob_escape(self._prefix)}{kind}:*"
            keys: list[str] = []
            async with translate_unavailable(self._outage):
                async for key in self._client.scan_iter(match=pattern, count=self._batch_size):
                    keys.append(key)
                    if len(keys) == self._batch_size:
                        for plan in await self._read_entries(kind, keys, now):
                            yield plan
                        keys = []
                if keys:
                    for plan in await self._read_entries(kind, keys, now):
                        yield plan

    async def changes(self, cursor: str) -> FeedBatch:
        last_id, read_count = _parse_cursor(cursor)
        async with translate_unavailable(self._outage):
            response = await self._client.xread({self._stream: last_id}, count=self._batch_size, block=self._wait_ms)
            if not response:
                return FeedBatch(cursor, (), caught_up=True)
            entries = response[0][1]
            await self._check_kept_since(read_count)
        plans = tuple(decode_entries(fields.values()) for _, fields in entries)
        next_cursor = _cursor(entries[-1][0], read_count + len(entries))
        return FeedBatch(next_cursor, plans, caught_up=len(entries) < self._batch_size)

    async def close(self) -> None:
        await self._client.aclose()

    async def _stream_info(self) -> dict | None:
        try:
            return await self._client.xinfo_stream(self._stream)
        except ResponseError:
            # No such key: nothing was revoked yet, or every entry expired with the stream.
            return None

    async def _check_kept_since(self, read_count: int) -> None:
        """Raise ``FeedGap`` when the cap has dropped an entry the reader had not read.

        A stream with fewer entries ever added than the reader has read was
        created anew after the old one expired; the reader starts over too.
        """
        info = await self._stream_info()
        if info is None:
            return
        added = info["entries-added"]
        trimmed = added - info["length"]
        if trimmed > read_count or added < read_count:
            raise FeedGap(f"{trimmed} of {added} feed entries were trimmed but only {read_count} were read; reload every entry")

    async def _read_entries(self, kind: str, keys: list[str], now: datetime) -> list[RevocationPlan]:
        """Read one batch of keys; a plan carries many denials but a single watermark."""
        values = await self._client.mget(keys)
        start = len(self._prefix) + len(kind) + 1
        # A key that expired between SCAN and MGET reads as None.
        live = [(key[start:], value) for key, value in zip(keys, values) if value is not None]
        if kind == "wm":
            return [RevocationPlan(watermark=mark) for key, value in live if (mark := _watermark(key, value, now))]
        denials = tuple(Denial(key, until) for key, value in live if (until := from_micros(value)) > now)
        return [RevocationPlan(tokens=denials) if kind == "jti" else RevocationPlan(sessions=denials)]


def _watermark(user_id: str, value: str, now: datetime) -> Watermark | None:
    issued_before, until = value.split(":")
    mark = Watermark(user_id, from_micros(issued_before), from_micros(until))
    return mark if mark.until > now else None


def _cursor(entry_id: str, count: int) -> str:
    return f"{entry_id}@{count}"


def _parse_cursor(cursor: str) -> tuple[str, int]:
    entry_id, _, count = cursor.partition("@")
    return entry_id, int(count)


def _glob_escape(text: str) -> str:
    return re.sub(r"([*?\[\]\\])", r"\\\1", text)
