"""Session revocation by support staff, on behalf of a user."""

from __future__ import annotations

import logging

from application.audit import AuditTrail
from application.ports import RefreshTokenStore, RevocationStore, UnitOfWork
from application.sessions import RevokeAllSessions, revoke_one_session
from domain.audit import AuditEventType, ClientInfo
from domain.clock import Clock
from domain.policy import TokenPolicy

logger = logging.getLogger(__name__)

SUPPORT_REASON = "support"


class RevokeSessionsForSupport:
    """Revoke one live session of a user, or all of them, and audit each as ``session_revoked``.

    Every event carries the reason ``support``, which sets these revocations
    apart from the user's own in the trail. A session id that is not a live
    session of that user revokes nothing and returns an empty list.
    """

    def __init__(
        self,
        refresh_store: RefreshTokenStore,
        revocations: RevocationStore,
        revoke_all: RevokeAllSessions,
        audit: AuditTrail,
        policy: TokenPolicy,
        clock: Clock,
        *,
        unit_of_work: UnitOfWork,
    ) -> None:
        self._refresh_store = refresh_store
        self._revocations = revocations
        self._revoke_all = revoke_all
        self._audit = audit
        self._policy = policy
        self._clock = clock
        self._unit_of_work = unit_of_work

    async def execute(self, user_id: str, session_id: str | None, client: ClientInfo) -> list[str]:
        async with self._unit_of_work.atomic():
            if session_id is None:
                revoked = await self._revoke_all.execute(user_id)
            else:
                revoked = await self._revoke_one(user_id, session_id)
            for revoked_id in revoked:
                await self._audit.record(
                    AuditEventType.SESSION_REVOKED, client, user_id=user_id, session_id=revoked_id, reason=SUPPORT_REASON
                )

        logger.info("sessions revoked by support", extra={"user_id": user_id, "sessions": len(revoked)})
        return revoked

    async def _revoke_one(self, user_id: str, session_id: str) -> list[str]:
        now = self._clock.now()
        session = await self._refresh_store.get_session(session_id)
        if session is None or session.user_id != user_id or not session.is_live(now):
            return []
        await revoke_one_session(self._refresh_store, self._revocations, self._policy, session_id, now)
        return [session_id]
