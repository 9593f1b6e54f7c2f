"""A per-process replica of the revocation store, so verification needs no round trip.

The replica serves ``status`` from memory while it is current, and from the
shared store otherwise. It is current only while its feed reader has caught
up with the feed within the last ``max_silence``. A replica that lost its
feed, fell behind or is still loading reads the store directly, so a missing
change never lets a revoked token pass. Across processes a revocation
therefore takes effect after the feed's delivery time, and never later than
``max_silence`` plus one feed wait. Within the process that applies a
revocation it takes effect at once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from adapters.revocation_feed import FeedGap, RevocationFeed
from application.ports import RevocationStore
from domain.clock import Clock
from domain.revocation import RevocationPlan, RevocationStatus
from domain.revocation_set import RevocationSet
from domain.tokens import AccessToken

logger = logging.getLogger(__name__)

DEFAULT_MAX_SILENCE = timedelta(seconds=1)
RETRY_DELAY_SECONDS = 0.5
PRUNE_INTERVAL_SECONDS = 60.0


class ReplicatedRevocationStore:
    """``RevocationStore`` that writes through to ``store`` and reads from a local replica when it can."""

    def __init__(
        self,
        store: RevocationStore,
        feed: RevocationFeed,
        clock: Clock,
        max_silence: timedelta = DEFAULT_MAX_SILENCE,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._feed = feed
        self._clock = clock
        self._max_silence = max_silence.total_seconds()
        self._monotonic = monotonic
        self._entries = RevocationSet()
        self._caught_up_at: float | None = None
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self.reloads = 0

    @property
    def is_current(self) -> bool:
        caught_up_at = self._caught_up_at
        return caught_up_at is not None and self._monotonic() - caught_up_at < self._max_silence

    @property
    def size(self) -> int:
        return len(self._entries)

    async def apply(self, plan: RevocationPlan) -> None:
        """Write ``plan`` to the store, then to the replica, so this process enforces it at once.

        When the write joins a larger SQL transaction that later rolls back,
        this process keeps rejecting the plan's tokens until they expire, but
        no process ever accepts a token that the store revokes.
        """
        await self._store.apply(plan)
        self._entries.merge(plan)

    async def status(self, token: AccessToken, now: datetime) -> RevocationStatus:
        if self.is_current:
            return self._entries.status(token, now)
        return await self._store.status(token, now)

    async def watermark(self, user_id: str, now: datetime) -> datetime | None:
        if self.is_current:
            return self._entries.watermark(user_id, now)
        return await self._store.watermark(user_id, now)

    def start(self) -> None:
        """Start following the feed in the running event loop; until it has caught up, reads go to the store."""
        if self._task is None and not self._closed:
            self._task = asyncio.get_running_loop().create_task(self._follow(), name="keyturn-revocation-replica")

    async def stop(self) -> None:
        """Stop following the feed and close it; later reads go to the store. Calling it again does nothing."""
        task, self._task = self._task, None
        self._caught_up_at = None
        if task is not None:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass
        if not self._closed:
            self._closed = True
            await self._feed.close()

    async def _follow(self) -> None:
        cursor: str | None = None
        pruned_at = self._monotonic()
        while True:
            try:
                if cursor is None:
                    cursor = await self._load()
                cursor = await self._read_changes(cursor)
            except FeedGap:
                logger.warning("revocation feed is missing changes after the replica's position; reloading every entry")
                self._caught_up_at = None
                cursor = None
                continue
            except Exception as error:  # the loop must outlive any failure of the store or network
                self._lose_feed(error)
                await asyncio.sleep(RETRY_DELAY_SECONDS)
                continue
            if self._monotonic() - pruned_at >= PRUNE_INTERVAL_SECONDS:
                self._entries.prune(self._clock.now())
                pruned_at = self._monotonic()

    async def _load(self) -> str:
        """Read the feed's position, then every live entry; later changes come from the feed.

        The loaded entries hold every change up to the position, so the
        replica is current as of the moment it read the position.
        """
        self._caught_up_at = None
        positioned_at = self._monotonic()
        cursor = await self._feed.position()
        entries = RevocationSet()
        async for plan in self._feed.snapshot(self._clock.now()):
            entries.merge(plan)
        self._entries = entries
        self.reloads += 1
        self._caught_up_at = positioned_at
        logger.info("revocation replica loaded %d entries and is current", len(entries))
        return cursor

    async def _read_changes(self, cursor: str) -> str:
        batch = await self._feed.changes(cursor)
        for plan in batch.plans:
            self._entries.merge(plan)
        if batch.caught_up:
            if self._caught_up_at is None:
                logger.info("revocation replica has caught up with its feed")
            self._caught_up_at = self._monotonic()
        return batch.cursor

    def _lose_feed(self, error: Exception) -> None:
        if self._caught_up_at is not None:
            logger.warning(
                "revocation replica lost its feed (%s); checking the store directly until it catches up",
                type(error).__name__,
            )
        self._caught_up_at = None
