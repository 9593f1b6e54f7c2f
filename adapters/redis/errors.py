"""Translation of Redis connection failures into ``StoreUnavailable``."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from redis import exceptions

from adapters.outage import OutageLog
from domain.errors import StoreUnavailable

logger = logging.getLogger(__name__)

# Failures of the server or the network, as opposed to errors in a command.
# BusyLoadingError (a restarting server loading data) and AuthenticationError
# are subclasses of ConnectionError. The builtin TimeoutError, raised by
# asyncio, is a subclass of OSError. ReadOnlyError, TryAgainError and
# ClusterDownError (which includes MasterDownError) come from a failover in
# progress. Other ResponseErrors and DataErrors are bugs and propagate as they are.
UNAVAILABLE_ERRORS: tuple[type[BaseException], ...] = (
    exceptions.ConnectionError,
    exceptions.TimeoutError,
    OSError,
    exceptions.ReadOnlyError,
    exceptions.TryAgainError,
    exceptions.ClusterDownError,
)


def redis_outage_log() -> OutageLog:
    """Create an outage log for Redis. Adapters on one server should share it, so that an outage is logged once."""
    return OutageLog("Redis", logger)


@asynccontextmanager
async def translate_unavailable(outage: OutageLog) -> AsyncIterator[None]:
    """Raise ``StoreUnavailable`` for a Redis failure in the block, and report every outcome to ``outage``."""
    try:
        yield
    except UNAVAILABLE_ERRORS as error:
        outage.failed(error)
        raise StoreUnavailable(f"Redis is unavailable: {type(error).__name__}") from error
    outage.succeeded()
