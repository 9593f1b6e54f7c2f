"""The use cases and transport the HTTP handlers need, resolved once at start-up."""

from __future__ import annotations

from dataclasses import dataclass

from litestar.connection import ASGIConnection

from application.legacy_exchange import ExchangeLegacySession
from application.login import Login
from application.logout import Logout
from application.password import ChangePassword
from application.refresh import Refresh
from application.session_lookup import IdentifySession
from application.sessions import ListSessions, LogoutEverywhere, RevokeSession
from application.verify import GetCurrentUser, VerifyAccessToken
from domain.audit import ClientInfo
from domain.client_address import Network, client_address
from domain.clock import Clock
from domain.errors import AuthError, TokenInvalid
from domain.tokens import AccessToken
from entrypoints.http.cookies import CookieTransport
from entrypoints.http.csrf import CsrfProtection
from entrypoints.observability import Metrics, request_id_of

MAX_USER_AGENT_LENGTH = 512


class ClientReader:
    """Describes the caller, taking the address from ``X-Forwarded-For`` only behind a trusted proxy.

    A plain class rather than a dataclass field of ``AuthServices``, because
    Litestar inspects the field types of dependencies and rejects a union of
    the two ``ipaddress`` network classes.
    """

    def __init__(self, trusted_proxies: tuple[Network, ...] = ()) -> None:
        self._trusted_proxies = trusted_proxies

    def read(self, connection: ASGIConnection) -> ClientInfo:
        return client_info(connection, self._trusted_proxies)


@dataclass(frozen=True, slots=True)
class PresentedToken:
    """An access token as the request carried it, and whether it came in a cookie."""

    raw: str | None
    from_cookie: bool


@dataclass(frozen=True, slots=True)
class AuthServices:
    login: Login
    refresh: Refresh
    logout: Logout
    verify_access_token: VerifyAccessToken
    current_user: GetCurrentUser
    list_sessions: ListSessions
    revoke_session: RevokeSession
    logout_everywhere: LogoutEverywhere
    change_password: ChangePassword
    exchange_legacy_session: ExchangeLegacySession
    identify_session: IdentifySession
    cookies: CookieTransport
    csrf: CsrfProtection
    clock: Clock
    clients: ClientReader
    metrics: Metrics

    def client(self, connection: ASGIConnection) -> ClientInfo:
        return self.clients.read(connection)

    async def authenticate(self, connection: ASGIConnection) -> AccessToken:
        """Verify the request's access token, then CSRF when the token came in a cookie; return its claims."""
        presented = self.presented_access_token(connection)
        try:
            token = await self.verify_access_token.execute(presented.raw)
        except AuthError as error:
            self.metrics.verifications.labels(error.code).inc()
            raise
        self.metrics.verified_ok.inc()
        if presented.from_cookie:
            self.csrf.require(connection, token.session_id)
        return token

    def access_token(self, connection: ASGIConnection) -> str | None:
        """Return the Bearer token when an Authorization header is present, else the cookie."""
        return self.presented_access_token(connection).raw

    def presented_access_token(self, connection: ASGIConnection) -> PresentedToken:
        header = connection.headers.get("authorization")
        if header is None:
            return PresentedToken(self.cookies.read_access(connection), from_cookie=True)
        scheme, _, credentials = header.partition(" ")
        if scheme.lower() != "bearer" or not credentials.strip():
            raise TokenInvalid("Authorization header must use the Bearer scheme")
        return PresentedToken(credentials.strip(), from_cookie=False)


def client_info(connection: ASGIConnection, trusted_proxies: tuple[Network, ...] = ()) -> ClientInfo:
    user_agent = connection.headers.get("user-agent")
    peer = connection.client.host if connection.client else None
    return ClientInfo(
        ip=client_address(peer, connection.headers.get("x-forwarded-for"), trusted_proxies),
        user_agent=user_agent[:MAX_USER_AGENT_LENGTH] if user_agent else None,
        request_id=request_id_of(connection.scope) or connection.headers.get("x-request-id"),
    )
