"""Creation of the shared ``redis.asyncio`` client and its readiness check."""

from __future__ import annotations

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff


def create_redis_client(url: str, timeout_seconds: float) -> Redis:
    """Create a client whose every command fails within about ``timeout_seconds``.

    The connect timeout and the read timeout are both ``timeout_seconds``.
    Retries are off, because each retry would add another timeout to the
    wait, and the adapters fail closed with ``StoreUnavailable`` instead.
    RESP2 is pinned because redis-py 8 enables maintenance notifications on
    RESP3, and those can relax the read timeout during a server failover.
    Responses are decoded to ``str``, which all Redis adapters expect.
    """
    if timeout_seconds <= 0:
        raise ValueError(f"timeout_seconds must be positive, got {timeout_seconds}")
    return Redis.from_url(
        url,
        socket_timeout=timeout_seconds,
        socket_connect_timeout=timeout_seconds,
        retry=Retry(NoBackoff(), 0),
        retry_on_error=[],
        decode_responses=True,
        protocol=2,
    )


async def ping(client: Redis) -> bool:
    """Send PING and return whether Redis replied with PONG. Connection errors and timeouts propagate."""
    return bool(await client.ping())
