"""Clocks and the leeway allowed for clock skew between servers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Protocol

from domain.errors import ConfigurationError

MAX_LEEWAY = timedelta(seconds=120)


class Clock(Protocol):
    """Source of the current time, always timezone-aware UTC."""

    def now(self) -> datetime: ...


class SystemClock:
    """The wall clock of this machine."""

    def now(self) -> datetime:
        return datetime.now(timezone.utc)


class FixedClock:
    """A clock that moves only when told to, for tests and simulations."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("FixedClock needs a timezone-aware start time")
        self._now = start.astimezone(timezone.utc)

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> None:
        self._now += delta

    def set(self, moment: datetime) -> None:
        self._now = moment.astimezone(timezone.utc)


@dataclass(frozen=True, slots=True)
class Leeway:
    """Tolerance for clock skew, applied equally to ``exp``, ``nbf`` and ``iat``.

    RFC 7519 section 4.1.4 allows "some small leeway"; Keyturn caps it at
    120 seconds so that a misconfiguration cannot keep expired tokens alive.
    """

    delta: timedelta = timedelta(seconds=60)

    def __post_init__(self) -> None:
        if self.delta < timedelta(0) or self.delta > MAX_LEEWAY:
            raise ConfigurationError(
                f"KEYTURN_LEEWAY must be between 0 and {int(MAX_LEEWAY.total_seconds())} "
                f"seconds, got {self.delta.total_seconds():g}"
            )

    def has_expired(self, expires_at: datetime, now: datetime) -> bool:
        """Return whether ``expires_at`` lies further in the past than the leeway."""
        return now >= expires_at + self.delta

    def is_in_future(self, moment: datetime, now: datetime) -> bool:
        """Return whether ``moment`` lies further in the future than the leeway."""
        return moment > now + self.delta
