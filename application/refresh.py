"""Refresh: trade a refresh token for a new pair, rotating it."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from application.audit import AuditTrail
from application.issuing import TokenIssuer
from application.ports import RefreshTokenStore, RevocationStore, UnitOfWork, UserRepository
from application.sessions import revoke_one_session
from domain.audit import AuditEventType, ClientInfo, Outcome
from domain.clock import Clock
from domain.errors import RefreshTokenReused, TokenError, TokenExpired, TokenInvalid, TokenMissing, TokenRevoked
from domain.policy import TokenPolicy
from domain.session import RefreshRecord, RefreshState, RotationOutcome
from domain.tokens import RefreshToken, TokenPair

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RefreshCommand:
    refresh_token: str | None = field(repr=False)
    client: ClientInfo = ClientInfo()


class Refresh:
    """Rotate a refresh token and issue a new access token.

    Rules (OAuth 2.0 Security BCP, RFC 9700 section 4.14.2): every refresh
    token is used once. A rotated token presented again within the grace
    window returns a new access token and no refresh token, so two tabs that
    refresh at once both keep working. Presented later, it is treated as
    stolen: the whole session is revoked and ``RefreshTokenReused`` raised.

    The rotation, any revocation it leads to and the audit event are written
    in one unit of work. A rejection commits the unit before it is raised, so
    the revocation of a reused token's session stays.
    """

    def __init__(
        self,
        refresh_store: RefreshTokenStore,
        revocations: RevocationStore,
        users: UserRepository,
        issuer: TokenIssuer,
        audit: AuditTrail,
        policy: TokenPolicy,
        clock: Clock,
        *,
        unit_of_work: UnitOfWork,
    ) -> None:
        self._refresh_store = refresh_store
        self._revocations = revocations
        self._users = users
        self._issuer = issuer
        self._audit = audit
        self._policy = policy
        self._clock = clock
        self._unit_of_work = unit_of_work

    async def execute(self, command: RefreshCommand) -> TokenPair:
        if not command.refresh_token:
            raise TokenMissing("no refresh token in the request")
        presented = RefreshToken.parse(command.refresh_token)
        # A rejection can follow a write that must stay, such as the revoked
        # session of a reused token, so it is raised after the unit commits.
        async with self._unit_of_work.atomic():
            try:
                return await self._rotate(presented, command.client)
            except TokenError as error:
                rejection = error
        raise rejection

    async def _rotate(self, presented: RefreshToken, client: ClientInfo) -> TokenPair:
        now = self._clock.now()
        replacement = RefreshToken.generate()
        expires_at = now + self._policy.lifetimes.refresh

        result = await self._refresh_store.rotate(presented.digest, replacement.digest, now, expires_at)

        record = result.record
        if result.outcome is RotationOutcome.ALREADY_ROTATED and record is not None:
            return await self._handle_reuse(record, client)
        if result.outcome is not RotationOutcome.ROTATED or record is None:
            raise _unusable_token_error(record, now)

        await self._require_active_user(record)
        pair = await self._issuer.pair(record.user_id, record.session_id, now, replacement, expires_at)

        await self._audit.record(
            AuditEventType.TOKENS_REFRESHED, client, user_id=record.user_id, session_id=record.session_id
        )
        return pair

    async def _handle_reuse(self, record: RefreshRecord, client: ClientInfo) -> TokenPair:
        now = self._clock.now()
        rotated_at = record.rotated_at or now
        if now - rotated_at <= self._policy.refresh_reuse_grace:
            session = await self._refresh_store.get_session(record.session_id)
            if session is None or not session.is_live(now):
                raise TokenRevoked("the session of this refresh token has ended")
            await self._require_active_user(record)
            return await self._issuer.pair(record.user_id, record.session_id, now, None, None)

        await self._revoke_session(record.session_id, now)
        logger.warning(
            "rotated refresh token presented again; session revoked",
            extra={"user_id": record.user_id, "sid": record.session_id},
        )
        await self._audit.record(
            AuditEventType.REFRESH_TOKEN_REUSED,
            client,
            outcome=Outcome.FAILURE,
            user_id=record.user_id,
            session_id=record.session_id,
            reason="refresh_reused",
        )
        raise RefreshTokenReused("refresh token was already used; the session has been revoked")

    async def _require_active_user(self, record: RefreshRecord) -> None:
        user = await self._users.get(record.user_id)
        if user is None or not user.is_active:
            await self._revoke_session(record.session_id, self._clock.now())
            raise TokenRevoked("the account behind this refresh token is no longer active")

    async def _revoke_session(self, session_id: str, now) -> None:
        await revoke_one_session(self._refresh_store, self._revocations, self._policy, session_id, now)


def _unusable_token_error(record: RefreshRecord | None, now) -> Exception:
    if record is None:
        return TokenInvalid("refresh token is not known")
    if record.state is RefreshState.ACTIVE and now >= record.expires_at:
        return TokenExpired("refresh token has expired")
    return TokenRevoked("refresh token has been revoked")
