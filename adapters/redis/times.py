"""The stored form of datetimes and the TTLs derived from them.

Datetimes are stored as integer microseconds since the Unix epoch, which
round-trip exactly and compare as numbers inside Lua scripts. Lua numbers are
doubles, exact up to 2**53 microseconds, which is beyond the year 2255.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
MICROSECOND = timedelta(microseconds=1)


def to_micros(moment: datetime) -> int:
    """Return ``moment``, which must be timezone-aware, as microseconds since the epoch."""
    return (moment - EPOCH) // MICROSECOND


def from_micros(value: str | int) -> datetime:
    """Return the UTC datetime stored as ``value`` microseconds since the epoch."""
    return EPOCH + timedelta(microseconds=int(value))


def ttl_millis(until: datetime, now: datetime) -> int:
    """Return the TTL in milliseconds that keeps a key from ``now`` until ``until``, at least 1.

    Rounding up keeps a key at least as long as its entry is live.
    """
    return max(1, math.ceil((until - now) / timedelta(milliseconds=1)))
