"""A unit of work that groups nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class NullUnitOfWork:
    """``UnitOfWork`` whose block opens no transaction, so every write takes effect at once and none rolls back.

    For the in-memory stores, and for deployments that write no audit rows to SQL.
    """

    @asynccontextmanager
    async def atomic(self) -> AsyncIterator[None]:
        yield
