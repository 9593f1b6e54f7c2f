"""Ports: the interfaces that use cases need and adapters implement.

Every port has an in-memory adapter in ``adapters.memory`` and at least one
backed by real storage.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from datetime import datetime, timedelta
from typing import Protocol

from domain.audit import AuditEvent
from domain.legacy import LegacySession
from domain.revocation import RevocationPlan, RevocationStatus
from domain.session import RefreshRecord, RotationResult, Session
from domain.throttling import FailureWindow
from domain.tokens import AccessToken
from domain.user import User


class UserRepository(Protocol):
    """Read access to the existing users table."""

    async def find_by_login(self, login: str) -> User | None:
        """Find a user by email (case-insensitive) or by username."""
        ...

    async def get(self, user_id: str) -> User | None:
        """Find a user by id; an id that cannot exist returns None."""
        ...

    async def update_password_hash(self, user_id: str, password_hash: str, *, replaces: str | None = None) -> None:
        """Write a new hash to the existing password column, the only column Keyturn ever changes.

        With ``replaces``, the row is written only while its column still
        contains exactly that hash, so an upgrade of the hash at login cannot
        undo a password change that happened in between.
        """
        ...


class PasswordVerifier(Protocol):
    async def verify(self, password: str, password_hash: str | None) -> bool:
        """Check ``password`` against a stored hash.

        A None hash returns False after as much work as a real check, so the
        response time does not reveal which accounts exist.
        """
        ...


class PasswordHasher(Protocol):
    async def hash(self, password: str) -> str:
        """Hash a new password in the configured scheme."""
        ...

    def needs_rehash(self, password_hash: str) -> bool:
        """Return True when ``password_hash`` is not in the configured scheme or uses weaker parameters."""
        ...


class TokenCodec(Protocol):
    """Signs and verifies access tokens; it checks signature and claim shape, not time."""

    def encode(self, token: AccessToken) -> str: ...

    def decode(self, raw: str) -> AccessToken:
        """Return the claims of a correctly signed access token or raise ``TokenInvalid``."""
        ...


class RefreshTokenStore(Protocol):
    """Sessions and their refresh tokens, stored by digest."""

    async def open_session(self, session: Session, record: RefreshRecord) -> None: ...

    async def rotate(
        self, token_hash: str, new_hash: str, now: datetime, expires_at: datetime
    ) -> RotationResult:
        """Atomically replace an active token by ``new_hash``.

        Only one of several concurrent calls with the same ``token_hash`` may
        get ``ROTATED``; the others get ``ALREADY_ROTATED``.
        """
        ...

    async def find(self, token_hash: str) -> RefreshRecord | None: ...

    async def get_session(self, session_id: str) -> Session | None: ...

    async def revoke_session(self, session_id: str, now: datetime) -> None:
        """Revoke the session and every refresh token of it; unknown ids are ignored."""
        ...

    async def list_sessions(self, user_id: str, now: datetime) -> list[Session]:
        """Return the user's live sessions, newest first."""
        ...

    async def revoke_user_sessions(self, user_id: str, now: datetime) -> list[str]:
        """Revoke every session of the user not yet revoked, with its refresh tokens; return their ids."""
        ...


class RevocationStore(Protocol):
    """Denied ``jti``s, denied sessions and per-user watermarks, each with an expiry."""

    async def apply(self, plan: RevocationPlan) -> None: ...

    async def status(self, token: AccessToken, now: datetime) -> RevocationStatus:
        """Return the live entries that concern ``token``, in one round trip where possible."""
        ...

    async def watermark(self, user_id: str, now: datetime) -> datetime | None: ...


class LoginAttemptCounter(Protocol):
    """Counts failed logins per key (an account, an address, or both) in a fixed window."""

    async def record_failure(self, key: str, window: timedelta, now: datetime) -> int:
        """Count one failure and return the failures for ``key`` in the current window."""
        ...

    async def failures(self, key: str, now: datetime) -> int: ...

    async def window(self, key: str, now: datetime) -> FailureWindow | None:
        """Return the failures for ``key`` with the end of their window, or None when no window is open at ``now``."""
        ...

    async def reset(self, key: str) -> None: ...


class AuditSink(Protocol):
    async def record(self, event: AuditEvent) -> None:
        """Record one event; a sink must never raise into the request."""
        ...


class UnitOfWork(Protocol):
    """Transaction boundary that makes a use case's store writes and audit events commit or roll back together."""

    def atomic(self) -> AbstractAsyncContextManager[None]:
        """Return a block whose writes commit when it exits normally and roll back when it raises.

        Only the stores and sinks that share the unit's transaction take part,
        as the adapter documents. The others write at once and keep their
        writes after a rollback. A block opened inside another joins the outer
        one. Calls inside a block must run one after another, never concurrently.
        """
        ...


class LegacySessionReader(Protocol):
    """Verifies a legacy session cookie's signature and reads the session in it."""

    def read(self, cookie: str) -> LegacySession:
        """Return the verified session, or raise ``LegacySessionInvalid`` for any cookie the legacy app did not sign.

        The reader checks the signature only. The use case checks the cookie's age.
        """
        ...


class OneTimeClaims(Protocol):
    """Keys that can each be claimed once until they expire, such as exchanged legacy cookies."""

    async def claim(self, key: str, expires_at: datetime, now: datetime) -> bool:
        """Atomically record ``key`` unless a live claim on it exists; return whether this call claimed it.

        Of several concurrent calls with the same key exactly one gets True.
        A claim whose ``expires_at`` has passed counts as absent.
        """
        ...
