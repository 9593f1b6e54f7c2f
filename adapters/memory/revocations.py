"""``RevocationStore`` in process memory, for unit tests and single-process trials."""

from __future__ import annotations

from collections import deque
from datetime import datetime

from domain.revocation import RevocationPlan, RevocationStatus
from domain.revocation_set import RevocationSet
from domain.tokens import AccessToken


class InMemoryRevocationStore:
    """Keeps the entries, and with ``feed_capacity`` the last applied plans, numbered, for a feed."""

    def __init__(self, feed_capacity: int = 0) -> None:
        self.entries = RevocationSet()
        self.changes: deque[tuple[int, RevocationPlan]] = deque(maxlen=feed_capacity)
        self.sequence = 0

    async def apply(self, plan: RevocationPlan) -> None:
        self.entries.merge(plan)
        self.sequence += 1
        if self.changes.maxlen:
            self.changes.append((self.sequence, plan))

    async def status(self, token: AccessToken, now: datetime) -> RevocationStatus:
        return self.entries.status(token, now)

    async def watermark(self, user_id: str, now: datetime) -> datetime | None:
        return self.entries.watermark(user_id, now)
