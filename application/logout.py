"""Logout: end the session of the presented tokens."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from application.audit import AuditTrail
from application.ports import RefreshTokenStore, RevocationStore, TokenCodec, UnitOfWork
from domain.audit import AuditEventType, ClientInfo
from domain.clock import Clock
from domain.errors import TokenError
from domain.policy import TokenPolicy
from domain.tokens import AccessToken, RefreshToken

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class LogoutCommand:
    access_token: str | None = field(default=None, repr=False)
    refresh_token: str | None = field(default=None, repr=False)
    client: ClientInfo = ClientInfo()


class Logout:
    """Deny the access token's ``jti`` and revoke its session's refresh tokens.

    Logout is idempotent and never fails on a bad or expired token: whatever
    session the presented tokens identify is revoked, and a request that
    identifies none revokes nothing. A correctly signed access token is enough
    to name its session even after it expired, because a client must always
    be able to log out.

    The revocation and the audit event are written in one unit of work.
    """

    def __init__(
        self,
        codec: TokenCodec,
        refresh_store: RefreshTokenStore,
        revocations: RevocationStore,
        audit: AuditTrail,
        policy: TokenPolicy,
        clock: Clock,
        *,
        unit_of_work: UnitOfWork,
    ) -> None:
        self._codec = codec
        self._refresh_store = refresh_store
        self._revocations = revocations
        self._audit = audit
        self._policy = policy
        self._clock = clock
        self._unit_of_work = unit_of_work

    async def execute(self, command: LogoutCommand) -> str | None:
        """Return the id of the revoked session, or None when no session was identified."""
        access = self._decode_quietly(command.access_token)
        session_id, user_id = await self._identify_session(access, command.refresh_token)
        if session_id is None:
            return None

        now = self._clock.now()
        plan = self._policy.revocation.for_logout(session_id, access, now)
        async with self._unit_of_work.atomic():
            await self._revocations.apply(plan)
            await self._refresh_store.revoke_session(session_id, now)
            await self._audit.record(
                AuditEventType.LOGGED_OUT, command.client, user_id=user_id, session_id=session_id
            )

        logger.info("logged out", extra={"user_id": user_id, "sid": session_id})
        return session_id

    def _decode_quietly(self, raw: str | None) -> AccessToken | None:
        if not raw:
            return None
        try:
            return self._codec.decode(raw)
        except TokenError:
            return None

    async def _identify_session(self, access: AccessToken | None, raw_refresh: str | None) -> tuple[str | None, str | None]:
        if access is not None:
            return access.session_id, access.subject
        if not raw_refresh:
            return None, None
        try:
            refresh = RefreshToken.parse(raw_refresh)
        except TokenError:
            return None, None
        record = await self._refresh_store.find(refresh.digest)
        if record is None:
            return None, None
        return record.session_id, record.user_id
