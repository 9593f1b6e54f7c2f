"""Access tokens, refresh tokens and the pair a login or refresh returns."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from domain.clock import Leeway
from domain.errors import TokenExpired, TokenInvalid

# 144 random bits: RFC 9068 requires a unique jti, and 128 bits or more makes
# a collision between independently issued tokens negligible.
TOKEN_ID_BYTES = 18
SESSION_ID_BYTES = 18
# 256 random bits, as OWASP recommends for bearer secrets.
REFRESH_TOKEN_BYTES = 32
_REFRESH_TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{43}$")


def new_token_id() -> str:
    """Return a fresh random ``jti``."""
    return secrets.token_urlsafe(TOKEN_ID_BYTES)


def new_session_id() -> str:
    """Return a fresh random session (refresh family) id."""
    return secrets.token_urlsafe(SESSION_ID_BYTES)


def whole_seconds(moment: datetime) -> datetime:
    """Drop sub-second precision, because JWT NumericDate claims carry seconds."""
    return moment.replace(microsecond=0)


@dataclass(frozen=True, slots=True)
class TokenLifetimes:
    """How long each kind of token lives."""

    access: timedelta = timedelta(minutes=15)
    refresh: timedelta = timedelta(days=14)

    def __post_init__(self) -> None:
        if self.access <= timedelta(0) or self.refresh <= timedelta(0):
            raise ValueError("token lifetimes must be positive")


@dataclass(frozen=True, slots=True)
class AccessToken:
    """The claims of a short-lived access token (RFC 9068 profile).

    ``subject`` is the user id as a string, whatever its SQL type, and
    ``session_id`` ties the token to the refresh family it came from.
    """

    subject: str
    session_id: str
    token_id: str
    issued_at: datetime
    not_before: datetime
    expires_at: datetime
    issuer: str
    audience: str

    @classmethod
    def issue(
        cls,
        *,
        subject: str,
        session_id: str,
        issued_at: datetime,
        lifetime: timedelta,
        issuer: str,
        audience: str,
    ) -> AccessToken:
        issued_at = whole_seconds(issued_at)
        return cls(
            subject=subject,
            session_id=session_id,
            token_id=new_token_id(),
            issued_at=issued_at,
            not_before=issued_at,
            expires_at=issued_at + lifetime,
            issuer=issuer,
            audience=audience,
        )

    def check_lifetime(self, now: datetime, leeway: Leeway) -> None:
        """Raise unless the token is inside its validity window at ``now``.

        The same leeway applies to ``exp``, ``nbf`` and ``iat``.
        """
        if leeway.has_expired(self.expires_at, now):
            raise TokenExpired("access token has expired")
        if leeway.is_in_future(self.not_before, now):
            raise TokenInvalid("access token is not valid yet (nbf)")
        if leeway.is_in_future(self.issued_at, now):
            raise TokenInvalid("access token was issued in the future (iat)")


@dataclass(frozen=True, slots=True)
class RefreshToken:
    """An opaque refresh token; only its SHA-256 digest is ever stored."""

    value: str = field(repr=False)

    @classmethod
    def generate(cls) -> RefreshToken:
        return cls(secrets.token_urlsafe(REFRESH_TOKEN_BYTES))

    @classmethod
    def parse(cls, value: str) -> RefreshToken:
        """Accept only the exact shape ``generate`` produces, so junk never reaches a store."""
        if not _REFRESH_TOKEN_PATTERN.fullmatch(value):
            raise TokenInvalid("refresh token is malformed")
        return cls(value)

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.value.encode("ascii")).hexdigest()

    def __str__(self) -> str:
        return "RefreshToken(<redacted>)"


@dataclass(frozen=True, slots=True)
class TokenPair:
    """The tokens a login or a refresh hands to the client.

    ``refresh`` is None when a refresh inside the reuse grace window returns
    only a new access token.
    """

    access_token: str = field(repr=False)
    access: AccessToken
    refresh: RefreshToken | None
    refresh_expires_at: datetime | None
