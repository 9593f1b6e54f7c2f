"""A Redis client on 127.0.0.1:6379 with a key prefix of its own for each test.

Tests that use ``redis_target`` are skipped when Redis does not reply to
PING, unless ``KEYTURN_REQUIRE_SERVICES=1`` makes that a failure.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from redis.asyncio import Redis
from redis.exceptions import RedisError

from adapters.redis.client import create_redis_client, ping

REDIS_URL = "redis://127.0.0.1:6379/0"
TIMEOUT_SECONDS = 2.0


@dataclass(frozen=True)
class RedisTarget:
    """A client and the key prefix that the test owns."""

    client: Redis
    prefix: str

    async def keys(self) -> list[str]:
        """Return every key under the prefix."""
        return [key async for key in self.client.scan_iter(match=f"{self.prefix}*", count=500)]


def skip_or_fail(reason: str) -> None:
    """Skip the test, or fail it when ``KEYTURN_REQUIRE_SERVICES=1`` demands the service."""
    if os.environ.get("KEYTURN_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{reason}, and KEYTURN_REQUIRE_SERVICES=1 requires it")
    pytest.skip(reason)


@pytest.fixture
async def redis_target() -> AsyncIterator[RedisTarget]:
    """Yield a client on the local Redis and a fresh prefix, then delete every key under that prefix."""
    client = create_redis_client(REDIS_URL, TIMEOUT_SECONDS)
    try:
        await ping(client)
    except (RedisError, OSError):
        await client.aclose()
        skip_or_fail("Redis not reachable on 127.0.0.1:6379")
    target = RedisTarget(client, f"keyturn-test-{uuid.uuid4()}:")
    try:
        yield target
    finally:
        keys = await target.keys()
        if keys:
            await client.unlink(*keys)
        await client.aclose()
