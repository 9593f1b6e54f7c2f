"""Login: exchange a login name and password for a new session."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from application.audit import AuditTrail
from application.issuing import TokenIssuer
from application.ports import PasswordVerifier, UserRepository
from domain.audit import AuditEventType, ClientInfo, Outcome
from domain.clock import Clock
from domain.errors import InvalidCredentials
from domain.tokens import TokenPair

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class LoginCommand:
    login: str
    password: str = field(repr=False)
    client: ClientInfo = ClientInfo()


class Login:
    """Verify the password and open a session with a fresh token pair.

    Rules: the login is an email (compared case-insensitively) or a username;
    the password is used exactly as typed, never stripped; unknown accounts,
    accounts without a password and inactive accounts all fail with the same
    ``InvalidCredentials`` after the same amount of hashing work, so a caller
    cannot tell them apart (OWASP Authentication Cheat Sheet).
    """

    def __init__(
        self,
        users: UserRepository,
        passwords: PasswordVerifier,
        issuer: TokenIssuer,
        audit: AuditTrail,
        clock: Clock,
    ) -> None:
        self._users = users
        self._passwords = passwords
        self._issuer = issuer
        self._audit = audit
        self._clock = clock

    async def execute(self, command: LoginCommand) -> TokenPair:
        user = await self._users.find_by_login(command.login)
        password_hash = user.password_hash if user is not None else None
        password_ok = await self._passwords.verify(command.password, password_hash)

        if user is None or not password_ok or not user.can_log_in:
            reason = _failure_reason(user is None, password_ok)
            user_id = user.id if user is not None else None
            logger.info("login failed", extra={"user_id": user_id, "reason": reason})
            await self._audit.record(
                AuditEventType.LOGIN_FAILED,
                command.client,
                outcome=Outcome.FAILURE,
                user_id=user_id,
                reason=reason,
            )
            raise InvalidCredentials("invalid login or password")

        pair = await self._issuer.open_session(user.id, command.client, self._clock.now())

        logger.info("login succeeded", extra={"user_id": user.id, "sid": pair.access.session_id})
        await self._audit.record(
            AuditEventType.LOGIN_SUCCEEDED, command.client, user_id=user.id, session_id=pair.access.session_id
        )
        await self._audit.record(
            AuditEventType.TOKENS_ISSUED, command.client, user_id=user.id, session_id=pair.access.session_id
        )
        return pair


def _failure_reason(unknown_user: bool, password_ok: bool) -> str:
    if unknown_user:
        return "unknown_user"
    if not password_ok:
        return "wrong_password"
    return "inactive_user"
