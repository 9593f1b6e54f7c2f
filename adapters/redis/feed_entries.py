"""The text form of revocation entries in the Redis feed stream.

Each stream entry contains one applied plan, one field per revocation entry:
``t:<until>:<jti>``, ``s:<until>:<session id>`` and
``w:<issued_before>:<until>:<user id>``, times in microseconds since the
epoch. The id comes last, so it may contain any character, colons included.
"""

from __future__ import annotations

from collections.abc import Iterable

from adapters.redis.times import from_micros, to_micros
from domain.revocation import Denial, RevocationPlan, Watermark

FEED_KEY = "revocation-feed"


def encode_entries(tokens: Iterable[Denial], sessions: Iterable[Denial], mark: Watermark | None) -> list[str]:
    entries = [f"t:{to_micros(denial.until)}:{denial.key}" for denial in tokens]
    entries += [f"s:{to_micros(denial.until)}:{denial.key}" for denial in sessions]
    if mark is not None:
        entries.append(f"w:{to_micros(mark.issued_before)}:{to_micros(mark.until)}:{mark.user_id}")
    return entries


def decode_entries(values: Iterable[str]) -> RevocationPlan:
    """Rebuild the plan of one stream entry; a malformed field raises ``ValueError``."""
    tokens: list[Denial] = []
    sessions: list[Denial] = []
    mark: Watermark | None = None
    for value in values:
        kind, _, rest = value.partition(":")
        if kind == "w":
            issued_before, until, user_id = rest.split(":", 2)
            mark = Watermark(user_id, from_micros(issued_before), from_micros(until))
            continue
        until, key = rest.split(":", 1)
        target = {"t": tokens, "s": sessions}[kind]
        target.append(Denial(key, from_micros(until)))
    return RevocationPlan(tokens=tuple(tokens), sessions=tuple(sessions), watermark=mark)
