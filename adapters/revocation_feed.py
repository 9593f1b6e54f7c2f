"""The change feed of a shared revocation store, which a per-process replica follows.

A store that offers a feed records every applied plan twice, in the same
atomic step: as entries that ``status`` reads, and as an ordered change that
replicas read. A cursor names a position in that order.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from domain.revocation import RevocationPlan


class FeedGap(Exception):
    """Changes after the cursor are no longer kept, so the replica must load a fresh snapshot."""


@dataclass(frozen=True, slots=True)
class FeedBatch:
    """Changes read after a cursor, and the cursor to read from next.

    ``caught_up`` is True when no further change was waiting, so the reader
    knows every change applied before the call began.
    """

    cursor: str
    plans: tuple[RevocationPlan, ...]
    caught_up: bool


class RevocationFeed(Protocol):
    async def position(self) -> str:
        """Return the cursor of the newest change, to read on from before taking a snapshot."""
        ...

    def snapshot(self, now: datetime) -> AsyncIterator[RevocationPlan]:
        """Yield every entry live at ``now``, in plans of bounded size."""
        ...

    async def changes(self, cursor: str) -> FeedBatch:
        """Wait a short, bounded time for changes after ``cursor`` and return them.

        Raises ``FeedGap`` when some of them are no longer kept, and
        ``StoreUnavailable`` when the store cannot be reached.
        """
        ...

    async def close(self) -> None: ...
