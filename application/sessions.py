"""Session management: list, revoke one, revoke all."""

from __future__ import annotations

import logging
from datetime import datetime

from application.audit import AuditTrail
from application.ports import RefreshTokenStore, RevocationStore, UnitOfWork
from domain.audit import AuditEventType, ClientInfo
from domain.clock import Clock
from domain.errors import SessionNotFound
from domain.policy import TokenPolicy
from domain.session import Session
from domain.tokens import AccessToken

logger = logging.getLogger(__name__)


class ListSessions:
    """List the caller's live sessions, newest first."""

    def __init__(self, refresh_store: RefreshTokenStore, clock: Clock) -> None:
        self._refresh_store = refresh_store
        self._clock = clock

    async def execute(self, caller: AccessToken) -> list[Session]:
        return await self._refresh_store.list_sessions(caller.subject, self._clock.now())


class RevokeSession:
    """Revoke one of the caller's own sessions.

    A session of another user, or one that does not exist, raises
    ``SessionNotFound``, so the response reveals nothing about other users'
    session ids. The revocation and the audit event are written in one unit of work.
    """

    def __init__(
        self,
        refresh_store: RefreshTokenStore,
        revocations: RevocationStore,
        audit: AuditTrail,
        policy: TokenPolicy,
        clock: Clock,
        *,
        unit_of_work: UnitOfWork,
    ) -> None:
        self._refresh_store = refresh_store
        self._revocations = revocations
        self._audit = audit
        self._policy = policy
        self._clock = clock
        self._unit_of_work = unit_of_work

    async def execute(self, caller: AccessToken, session_id: str, client: ClientInfo) -> None:
        now = self._clock.now()
        session = await self._refresh_store.get_session(session_id)
        if session is None or session.user_id != caller.subject or not session.is_live(now):
            raise SessionNotFound("no such session")

        async with self._unit_of_work.atomic():
            await revoke_one_session(self._refresh_store, self._revocations, self._policy, session_id, now)
            await self._audit.record(
                AuditEventType.SESSION_REVOKED, client, user_id=caller.subject, session_id=session_id
            )

        logger.info("session revoked", extra={"user_id": caller.subject, "sid": session_id})


async def revoke_one_session(
    refresh_store: RefreshTokenStore, revocations: RevocationStore, policy: TokenPolicy, session_id: str, now: datetime
) -> None:
    """Deny the session's access tokens, then revoke the session and its refresh tokens."""
    await revocations.apply(policy.revocation.for_logout(session_id, None, now))
    await refresh_store.revoke_session(session_id, now)


class RevokeAllSessions:
    """Revoke every session and access token of a user at once.

    One watermark rejects every access token issued so far, with no
    per-token bookkeeping. The revoked sessions are denied as well, which
    covers tokens issued in the same second as an earlier watermark, and
    every refresh token of the user is revoked. Used by "log out everywhere"
    and by password change.
    """

    def __init__(
        self,
        refresh_store: RefreshTokenStore,
        revocations: RevocationStore,
        policy: TokenPolicy,
        clock: Clock,
    ) -> None:
        self._refresh_store = refresh_store
        self._revocations = revocations
        self._policy = policy
        self._clock = clock

    async def execute(self, user_id: str) -> list[str]:
        now = self._clock.now()
        revoked = await self._refresh_store.revoke_user_sessions(user_id, now)
        await self._revocations.apply(self._policy.revocation.for_user(user_id, now, tuple(revoked)))
        return revoked


class LogoutEverywhere:
    """Log the caller out on every device, writing the revocations and the audit event in one unit of work."""

    def __init__(self, revoke_all: RevokeAllSessions, audit: AuditTrail, *, unit_of_work: UnitOfWork) -> None:
        self._revoke_all = revoke_all
        self._audit = audit
        self._unit_of_work = unit_of_work

    async def execute(self, caller: AccessToken, client: ClientInfo) -> list[str]:
        async with self._unit_of_work.atomic():
            revoked = await self._revoke_all.execute(caller.subject)
            await self._audit.record(
                AuditEventType.LOGGED_OUT_EVERYWHERE, client, user_id=caller.subject, session_id=caller.session_id
            )

        logger.info("logged out everywhere", extra={"user_id": caller.subject, "sessions": len(revoked)})
        return revoked
