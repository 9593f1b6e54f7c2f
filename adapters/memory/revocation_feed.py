"""A revocation feed over ``InMemoryRevocationStore``, for unit tests of the replica."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime

from adapters.memory.revocations import InMemoryRevocationStore
from adapters.revocation_feed import FeedBatch, FeedGap
from domain.errors import StoreUnavailable
from domain.revocation import RevocationPlan


class InMemoryRevocationFeed:
    """Reads the store's numbered plans; set ``available`` to False to act out an outage."""

    def __init__(self, store: InMemoryRevocationStore, wait_seconds: float = 0.001) -> None:
        self._store = store
        self._wait_seconds = wait_seconds
        self.available = True

    async def position(self) -> str:
        self._check_available()
        return str(self._store.sequence)

    async def snapshot(self, now: datetime) -> AsyncIterator[RevocationPlan]:
        self._check_available()
        for plan in self._store.entries.plans(now):
            yield plan

    async def changes(self, cursor: str) -> FeedBatch:
        await asyncio.sleep(self._wait_seconds)
        self._check_available()
        after = int(cursor)
        if after < self._store.sequence and (not self._store.changes or self._store.changes[0][0] > after + 1):
            raise FeedGap(f"plans after {after} are no longer kept")
        plans = tuple(plan for number, plan in self._store.changes if number > after)
        return FeedBatch(str(self._store.sequence), plans, caught_up=True)

    async def close(self) -> None:
        """Nothing to release."""

    def _check_available(self) -> None:
        if not self.available:
            raise StoreUnavailable("the in-memory feed is switched off")
