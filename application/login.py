"""Login: exchange a login name and password for a new session."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import NoReturn

from application.audit import AuditTrail
from application.issuing import TokenIssuer
from application.ports import PasswordHasher, PasswordVerifier, UnitOfWork, UserRepository
from application.throttling import LoginThrottle
from domain.audit import AuditEventType, ClientInfo, Outcome
from domain.clock import Clock
from domain.errors import InvalidCredentials, StoreUnavailable
from domain.throttling import LoginThrottled, ThrottleKeys, throttle_keys
from domain.tokens import TokenPair
from domain.user import User

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class LoginCommand:
    login: str
    password: str = field(repr=False)
    client: ClientInfo = ClientInfo()


class Login:
    """Verify the password and open a session with a fresh token pair.

    Rules: the login is an email (compared case-insensitively) or a username.
    The password is used exactly as typed, never stripped. Unknown accounts,
    accounts without a password and inactive accounts all fail with the same
    ``InvalidCredentials`` after the same amount of hashing work, so a caller
    cannot tell them apart (OWASP Authentication Cheat Sheet).

    With a ``throttle``, a login over the failure limits raises
    ``LoginThrottled`` before the account is even looked up, so known and
    unknown login names are refused alike and no hashing work is spent.

    With ``rehash_with``, a successful login whose stored hash the hasher
    reports as outdated gets the password rehashed in the configured scheme.
    It is off by default because the legacy app may still verify the column
    and may not read the new scheme.

    The failure count, or the reset of the count and the new session, is
    written in one unit of work with the audit events. Verifying and
    rehashing the password stay outside the unit because they are slow.
    """

    def __init__(
        self,
        users: UserRepository,
        passwords: PasswordVerifier,
        issuer: TokenIssuer,
        audit: AuditTrail,
        clock: Clock,
        throttle: LoginThrottle | None = None,
        rehash_with: PasswordHasher | None = None,
        *,
        unit_of_work: UnitOfWork,
    ) -> None:
        self._users = users
        self._passwords = passwords
        self._issuer = issuer
        self._audit = audit
        self._clock = clock
        self._throttle = throttle
        self._rehash_with = rehash_with
        self._unit_of_work = unit_of_work

    async def execute(self, command: LoginCommand) -> TokenPair:
        keys = throttle_keys(command.login, command.client.ip)
        await self._check_throttle(keys, command.client)

        user = await self._users.find_by_login(command.login)
        password_hash = user.password_hash if user is not None else None
        password_ok = await self._passwords.verify(command.password, password_hash)

        if user is None or not password_ok or not user.can_log_in:
            await self._fail(user, password_ok, keys, command.client)

        async with self._unit_of_work.atomic():
            if self._throttle is not None:
                await self._throttle.record_success(keys)
            pair = await self._issuer.open_session(user.id, command.client, self._clock.now())
            await self._audit.record(
                AuditEventType.LOGIN_SUCCEEDED, command.client, user_id=user.id, session_id=pair.access.session_id
            )
            await self._audit.record(
                AuditEventType.TOKENS_ISSUED, command.client, user_id=user.id, session_id=pair.access.session_id
            )

        logger.info("login succeeded", extra={"user_id": user.id, "sid": pair.access.session_id})
        await self._upgrade_hash(user, command.password)
        return pair

    async def _check_throttle(self, keys: ThrottleKeys, client: ClientInfo) -> None:
        if self._throttle is None:
            return
        try:
            await self._throttle.check(keys, self._clock.now())
        except LoginThrottled as error:
            logger.info("login throttled", extra={"limit": error.limit, "retry_after": error.retry_after})
            await self._audit.record(
                AuditEventType.LOGIN_THROTTLED, client, outcome=Outcome.FAILURE, reason=error.limit
            )
            raise

    async def _fail(self, user: User | None, password_ok: bool, keys: ThrottleKeys, client: ClientInfo) -> NoReturn:
        reason = _failure_reason(user is None, password_ok)
        user_id = user.id if user is not None else None
        async with self._unit_of_work.atomic():
            if self._throttle is not None:
                await self._throttle.record_failure(keys, self._clock.now())
            await self._audit.record(
                AuditEventType.LOGIN_FAILED,
                client,
                outcome=Outcome.FAILURE,
                user_id=user_id,
                reason=reason,
            )
        logger.info("login failed", extra={"user_id": user_id, "reason": reason})
        raise InvalidCredentials("invalid login or password")

    async def _upgrade_hash(self, user: User, password: str) -> None:
        """Store a new hash when the old one is outdated. A failed write leaves the old hash for the next login."""
        old_hash = user.password_hash
        if self._rehash_with is None or old_hash is None or not self._rehash_with.needs_rehash(old_hash):
            return
        new_hash = await self._rehash_with.hash(password)
        try:
            await self._users.update_password_hash(user.id, new_hash, replaces=old_hash)
        except StoreUnavailable:
            # The user is logged in already; the next login tries again.
            logger.warning("password hash upgrade failed", extra={"user_id": user.id})
            return
        logger.info("password hash upgraded", extra={"user_id": user.id})


def _failure_reason(unknown_user: bool, password_ok: bool) -> str:
    if unknown_user:
        return "unknown_user"
    if not password_ok:
        return "wrong_password"
    return "inactive_user"
