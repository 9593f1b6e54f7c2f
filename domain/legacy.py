"""The legacy Flask session as Keyturn sees it, and the rule for how old it may be."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from domain.clock import Leeway
from domain.errors import LegacySessionExpired, LegacySessionInvalid

# Flask's PERMANENT_SESSION_LIFETIME default, which the legacy app kept.
DEFAULT_LEGACY_MAX_AGE = timedelta(days=31)


@dataclass(frozen=True, slots=True)
class LegacySession:
    """A legacy session cookie whose signature has been verified.

    ``user_id`` is Flask-Login's ``_user_id``, or None for a visitor who
    never logged in. ``claim_key`` identifies the cookie for the one-time
    exchange, so the cookie itself is never stored.
    """

    user_id: str | None
    issued_at: datetime
    claim_key: str = field(repr=False)


def claim_key_for(cookie: str) -> str:
    """Return the SHA-256 hex digest of the cookie, the only form in which it is ever stored."""
    return hashlib.sha256(cookie.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class LegacySessionAge:
    """How long after signing a legacy cookie may still be exchanged.

    The age counts from the timestamp inside the signed cookie, as Flask
    does, so neither the browser nor the client can extend it. A timestamp
    further in the future than the leeway means the cookie was not made by
    the legacy app's clock and is rejected as invalid.
    """

    max_age: timedelta = DEFAULT_LEGACY_MAX_AGE
    leeway: Leeway = Leeway()

    def check(self, session: LegacySession, now: datetime) -> None:
        if self.leeway.is_in_future(session.issued_at, now):
            raise LegacySessionInvalid("the legacy session cookie is dated in the future")
        if now - session.issued_at > self.max_age:
            raise LegacySessionExpired("the legacy session cookie is older than the legacy session lifetime")

    def claim_expiry(self, session: LegacySession) -> datetime:
        """Keep the one-time claim until the cookie could no longer pass ``check`` anyway."""
        return session.issued_at + self.max_age + self.leeway.delta
