"""Which Redis errors become ``StoreUnavailable``, and how the client is configured to fail fast."""

from __future__ import annotations

import asyncio
import logging

import pytest
from redis import exceptions

from adapters.redis.client import create_redis_client
from adapters.redis.errors import redis_outage_log, translate_unavailable
from domain.errors import StoreUnavailable

LOGGER = "adapters.redis.errors"


@pytest.mark.parametrize(
    "error",
    [
        exceptions.ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused."),
        exceptions.TimeoutError("Timeout reading from 127.0.0.1:6379"),
        exceptions.BusyLoadingError("Redis is loading the dataset in memory"),
        exceptions.ReadOnlyError("You can't write against a read only replica."),
        asyncio.TimeoutError(),
        ConnectionResetError(104, "Connection reset by peer"),
    ],
    ids=lambda error: type(error).__name__,
)
async def test_unavailable_errors_are_translated(error: Exception) -> None:
    outage = redis_outage_log()

    with pytest.raises(StoreUnavailable) as raised:
        async with translate_unavailable(outage):
            raise error

    assert raised.value.__cause__ is error
    assert outage.is_down


@pytest.mark.parametrize(
    "error",
    [
        exceptions.ResponseError("WRONGTYPE Operation against a key holding the wrong kind of value"),
        exceptions.DataError("Invalid input of type: 'NoneType'"),
        ValueError("invalid literal for int() with base 10: 'x'"),
    ],
    ids=lambda error: type(error).__name__,
)
async def test_data_errors_propagate(error: Exception) -> None:
    outage = redis_outage_log()

    with pytest.raises(type(error)):
        async with translate_unavailable(outage):
            raise error

    assert not outage.is_down


async def test_outage_logged_once_then_recovery(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger=LOGGER)
    outage = redis_outage_log()

    for _ in range(5):
        with pytest.raises(StoreUnavailable):
            async with translate_unavailable(outage):
                raise exceptions.ConnectionError("Connection closed by server.")
    async with translate_unavailable(outage):
        pass
    async with translate_unavailable(outage):
        pass

    levels = [record.levelno for record in caplog.records if record.name == LOGGER]
    assert levels == [logging.ERROR, logging.WARNING]
    assert "5 failed calls" in caplog.records[-1].getMessage()


async def test_client_does_not_retry() -> None:
    client = create_redis_client("redis://127.0.0.1:6379/0", 0.25)
    try:
        kwargs = client.connection_pool.connection_kwargs
        assert kwargs["retry"].get_retries() == 0
        assert kwargs["socket_timeout"] == 0.25
        assert kwargs["socket_connect_timeout"] == 0.25
    finally:
        await client.aclose()


@pytest.mark.parametrize("timeout", [0, -1.5])
def test_client_timeout_must_be_positive(timeout: float) -> None:
    with pytest.raises(ValueError, match="timeout_seconds must be positive"):
        create_redis_client("redis://127.0.0.1:6379/0", timeout)
