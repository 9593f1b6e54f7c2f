"""Legacy session exchange: trade the old Flask session cookie for a Keyturn session once."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from application.audit import AuditTrail
from application.issuing import TokenIssuer
from application.ports import LegacySessionReader, OneTimeClaims, UnitOfWork, UserRepository
from domain.audit import AuditEventType, ClientInfo, Outcome
from domain.clock import Clock
from domain.errors import (
    LegacySessionAccountUnavailable,
    LegacySessionAnonymous,
    LegacySessionError,
    LegacySessionMissing,
    LegacySessionReused,
)
from domain.legacy import LegacySession, LegacySessionAge
from domain.tokens import TokenPair

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class LegacyExchangeCommand:
    cookie: str | None = field(repr=False)
    client: ClientInfo = ClientInfo()


class ExchangeLegacySession:
    """Open a Keyturn session for the user of a genuine, fresh legacy session cookie.

    Rules, in order: the cookie must carry a valid signature of the current
    or a previous secret; it must be younger than the legacy lifetime; it
    must name an active user; and it is exchanged at most once, which a
    one-time claim on its digest enforces atomically across processes.
    The claim comes last, so a cookie rejected for its user is not used up,
    and the claim expires when the cookie would have expired anyway. The
    claim, the new session and the audit event are written in one unit of work.
    """

    def __init__(
        self,
        reader: LegacySessionReader,
        claims: OneTimeClaims,
        users: UserRepository,
        issuer: TokenIssuer,
        audit: AuditTrail,
        age: LegacySessionAge,
        clock: Clock,
        *,
        unit_of_work: UnitOfWork,
    ) -> None:
        self._reader = reader
        self._claims = claims
        self._users = users
        self._issuer = issuer
        self._audit = audit
        self._age = age
        self._clock = clock
        self._unit_of_work = unit_of_work

    async def execute(self, command: LegacyExchangeCommand) -> TokenPair:
        try:
            session, user_id = await self._verified(command)
            async with self._unit_of_work.atomic():
                pair = await self._claim_and_open(session, user_id, command.client)
        except LegacySessionError as error:
            await self._record_failure(command.client, error.code)
            raise
        logger.info("legacy session exchanged", extra={"user_id": user_id, "sid": pair.access.session_id})
        return pair

    async def _verified(self, command: LegacyExchangeCommand) -> tuple[LegacySession, str]:
        if not command.cookie:
            raise LegacySessionMissing("no legacy session cookie in the request")
        session = self._reader.read(command.cookie)
        now = self._clock.now()
        self._age.check(session, now)
        if session.user_id is None:
            raise LegacySessionAnonymous("the legacy session has no logged-in user")
        user = await self._users.get(session.user_id)
        if user is None or not user.is_active:
            raise LegacySessionAccountUnavailable("the legacy session's account is unknown or inactive")
        return session, user.id

    async def _claim_and_open(self, session: LegacySession, user_id: str, client: ClientInfo) -> TokenPair:
        now = self._clock.now()
        # NOTE: the claim is taken before the session is opened. Unless both
        # are written in one SQL transaction, a store outage between the two
        # uses up the cookie and the user must log in.
        if not await self._claims.claim(session.claim_key, self._age.claim_expiry(session), now):
            raise LegacySessionReused("this legacy session cookie was already exchanged")
        pair = await self._issuer.open_session(user_id, client, now)
        await self._audit.record(
            AuditEventType.LEGACY_SESSION_EXCHANGED, client, user_id=user_id, session_id=pair.access.session_id
        )
        return pair

    async def _record_failure(self, client: ClientInfo, reason: str) -> None:
        await self._audit.record(
            AuditEventType.LEGACY_SESSION_EXCHANGED, client, outcome=Outcome.FAILURE, reason=reason
        )
