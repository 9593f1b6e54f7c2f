"""Sessions (refresh-token families) and the stored form of refresh tokens."""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from datetime import datetime


class RefreshState(enum.Enum):
    """Life cycle of one refresh token: active, then rotated or revoked."""

    ACTIVE = "active"
    ROTATED = "rotated"
    REVOKED = "revoked"


@dataclass(frozen=True, slots=True)
class Session:
    """One login on one device: the family of refresh tokens it rotates through."""

    id: str
    user_id: str
    created_at: datetime
    last_used_at: datetime
    expires_at: datetime
    user_agent: str | None = None
    ip: str | None = None
    revoked_at: datetime | None = None

    def is_live(self, now: datetime) -> bool:
        return self.revoked_at is None and now < self.expires_at

    def touched(self, now: datetime, expires_at: datetime) -> Session:
        return replace(self, last_used_at=now, expires_at=expires_at)


@dataclass(frozen=True, slots=True)
class RefreshRecord:
    """The stored form of a refresh token: its SHA-256 digest, never the token."""

    token_hash: str
    session_id: str
    user_id: str
    issued_at: datetime
    expires_at: datetime
    state: RefreshState = RefreshState.ACTIVE
    rotated_at: datetime | None = None

    def is_usable(self, now: datetime) -> bool:
        return self.state is RefreshState.ACTIVE and now < self.expires_at


class RotationOutcome(enum.Enum):
    """What a store found when asked to rotate a refresh token."""

    ROTATED = "rotated"
    ALREADY_ROTATED = "already_rotated"
    NOT_USABLE = "not_usable"


@dataclass(frozen=True, slots=True)
class RotationResult:
    """Result of an atomic rotation; ``record`` is the presented token's record."""

    outcome: RotationOutcome
    record: RefreshRecord | None
