"""Verify an access token presented by a client."""

from __future__ import annotations

from application.ports import RevocationStore, TokenCodec, UserRepository
from domain.clock import Clock
from domain.errors import TokenMissing, TokenRevoked
from domain.policy import TokenPolicy
from domain.tokens import AccessToken
from domain.user import User


class VerifyAccessToken:
    """Check signature and claims, then lifetime with leeway, then revocation.

    Raises ``TokenMissing``, ``TokenInvalid``, ``TokenExpired`` or
    ``TokenRevoked``; returns the token's claims when every check passes.
    """

    def __init__(self, codec: TokenCodec, revocations: RevocationStore, policy: TokenPolicy, clock: Clock) -> None:
        self._codec = codec
        self._revocations = revocations
        self._policy = policy
        self._revocation_policy = policy.revocation
        self._clock = clock

    async def execute(self, raw_token: str | None) -> AccessToken:
        if not raw_token:
            raise TokenMissing("no access token in the request")

        token = self._codec.decode(raw_token)
        now = self._clock.now()
        token.check_lifetime(now, self._policy.leeway)

        status = await self._revocations.status(token, now)
        if self._revocation_policy.is_revoked(token, status):
            raise TokenRevoked("access token has been revoked")
        return token


class GetCurrentUser:
    """Load the account behind a verified access token.

    A deleted or deactivated account makes its tokens count as revoked.
    """

    def __init__(self, users: UserRepository) -> None:
        self._users = users

    async def execute(self, token: AccessToken) -> User:
        user = await self._users.get(token.subject)
        if user is None or not user.is_active:
            raise TokenRevoked("the account behind this token is no longer active")
        return user
