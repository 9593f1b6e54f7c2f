"""One-time claims held in a dict."""

from __future__ import annotations

from datetime import datetime

# Expired claims are swept once the dict has doubled since the last sweep.
_MIN_SWEEP_SIZE = 64


class InMemoryOneTimeClaims:
    """Dict-backed ``OneTimeClaims``; no method awaits, so each claim is atomic under asyncio."""

    def __init__(self) -> None:
        self.claims: dict[str, datetime] = {}
        self._sweep_at = _MIN_SWEEP_SIZE

    async def claim(self, key: str, expires_at: datetime, now: datetime) -> bool:
        current = self.claims.get(key)
        if current is not None and current > now:
            return False
        self.claims[key] = expires_at
        self._sweep_if_due(now)
        return True

    def _sweep_if_due(self, now: datetime) -> None:
        if len(self.claims) < self._sweep_at:
            return
        self.claims = {key: until for key, until in self.claims.items() if until > now}
        self._sweep_at = max(_MIN_SWEEP_SIZE, 2 * len(self.claims))
