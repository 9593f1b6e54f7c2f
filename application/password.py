"""Password change for a logged-in user."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from application.audit import AuditTrail
from application.issuing import TokenIssuer
from application.ports import PasswordHasher, PasswordVerifier, UnitOfWork, UserRepository
from application.sessions import RevokeAllSessions
from domain.audit import AuditEventType, ClientInfo, Outcome
from domain.clock import Clock
from domain.errors import InvalidCredentials, TokenRevoked
from domain.password_policy import PasswordPolicy
from domain.tokens import AccessToken, TokenPair

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ChangePasswordCommand:
    caller: AccessToken
    current_password: str = field(repr=False)
    new_password: str = field(repr=False)
    client: ClientInfo = ClientInfo()


class ChangePassword:
    """Replace the caller's password and end every session made with the old one.

    Rules: the new password must meet the policy, which is checked first
    because it is cheap and reveals nothing. The current password must verify.
    The new hash goes to the existing password column, in a scheme the legacy
    app can verify too. Every session and access token of the user is revoked,
    and the caller gets a fresh pair in a new session, so a thief holding the
    old refresh token is locked out as well.

    The revocations, the new hash, the new session and the audit event are
    written in one unit of work. Hashing and verifying stay outside it
    because they are slow.
    """

    def __init__(
        self,
        users: UserRepository,
        verifier: PasswordVerifier,
        hasher: PasswordHasher,
        policy: PasswordPolicy,
        revoke_all: RevokeAllSessions,
        issuer: TokenIssuer,
        audit: AuditTrail,
        clock: Clock,
        *,
        unit_of_work: UnitOfWork,
    ) -> None:
        self._users = users
        self._verifier = verifier
        self._hasher = hasher
        self._policy = policy
        self._revoke_all = revoke_all
        self._issuer = issuer
        self._audit = audit
        self._clock = clock
        self._unit_of_work = unit_of_work

    async def execute(self, command: ChangePasswordCommand) -> TokenPair:
        self._policy.check(command.new_password)
        user_id = command.caller.subject
        user = await self._users.get(user_id)
        if user is None or not user.is_active:
            raise TokenRevoked("the account behind this token is no longer active")

        if not await self._verifier.verify(command.current_password, user.password_hash):
            await self._audit.record(
                AuditEventType.PASSWORD_CHANGED,
                command.client,
                outcome=Outcome.FAILURE,
                user_id=user_id,
                session_id=command.caller.session_id,
                reason="wrong_password",
            )
            raise InvalidCredentials("the current password is wrong")

        new_hash = await self._hasher.hash(command.new_password)
        async with self._unit_of_work.atomic():
            # Sessions go first. When they are kept outside the unit's
            # transaction (in Redis) and writing the hash then fails, the user
            # is logged out with the old password intact. The user is never
            # left with a new password beside live sessions that the old one opened.
            revoked = await self._revoke_all.execute(user_id)
            await self._users.update_password_hash(user_id, new_hash)
            pair = await self._issuer.open_session(user_id, command.client, self._clock.now())
            await self._audit.record(
                AuditEventType.PASSWORD_CHANGED, command.client, user_id=user_id, session_id=pair.access.session_id
            )

        logger.info("password changed", extra={"user_id": user_id, "sessions_revoked": len(revoked)})
        return pair
