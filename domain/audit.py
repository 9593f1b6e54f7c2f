"""Audit events: the security-relevant facts a login service must record."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime


class AuditEventType(enum.Enum):
    LOGIN_SUCCEEDED = "login_succeeded"
    LOGIN_FAILED = "login_failed"
    LOGIN_THROTTLED = "login_throttled"
    TOKENS_ISSUED = "tokens_issued"
    TOKENS_REFRESHED = "tokens_refreshed"
    REFRESH_TOKEN_REUSED = "refresh_token_reused"
    LOGGED_OUT = "logged_out"
    LOGGED_OUT_EVERYWHERE = "logged_out_everywhere"
    SESSION_REVOKED = "session_revoked"
    PASSWORD_CHANGED = "password_changed"
    SIGNING_KEY_ROTATED = "signing_key_rotated"
    LEGACY_SESSION_EXCHANGED = "legacy_session_exchanged"


class Outcome(enum.Enum):
    SUCCESS = "success"
    FAILURE = "failure"


@dataclass(frozen=True, slots=True)
class ClientInfo:
    """The origin of a request, as far as the HTTP layer can tell."""

    ip: str | None = None
    user_agent: str | None = None
    request_id: str | None = None


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One audit record. It never contains a password, token or cookie value."""

    type: AuditEventType
    occurred_at: datetime
    outcome: Outcome
    user_id: str | None = None
    session_id: str | None = None
    client: ClientInfo = ClientInfo()
    reason: str | None = None

    def to_dict(self) -> dict[str, str | None]:
        return {
            "event": self.type.value,
            "time": self.occurred_at.isoformat(),
            "outcome": self.outcome.value,
            "user_id": self.user_id,
            "session_id": self.session_id,
            "ip": self.client.ip,
            "user_agent": self.client.user_agent,
            "request_id": self.client.request_id,
            "reason": self.reason,
        }
