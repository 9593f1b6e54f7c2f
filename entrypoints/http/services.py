"""The use cases and transport the HTTP handlers need, resolved once at start-up."""

from __future__ import annotations

from dataclasses import dataclass

from litestar import Request

from application.login import Login
from application.logout import Logout
from application.password import ChangePassword
from application.refresh import Refresh
from application.sessions import ListSessions, LogoutEverywhere, RevokeSession
from application.verify import GetCurrentUser, VerifyAccessToken
from domain.audit import ClientInfo
from domain.clock import Clock
from domain.errors import TokenInvalid
from domain.tokens import AccessToken
from entrypoints.http.cookies import CookieTransport

MAX_USER_AGENT_LENGTH = 512


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
    cookies: CookieTransport
    clock: Clock

    async def authenticate(self, request: Request) -> AccessToken:
        """Verify the request's access token and return its claims."""
        return await self.verify_access_token.execute(self.access_token(request))

    def access_token(self, request: Request) -> str | None:
        """Return the Bearer token when an Authorization header is present, else the cookie."""
        header = request.headers.get("authorization")
        if header is None:
            return self.cookies.read_access(request)
        scheme, _, credentials = header.partition(" ")
        if scheme.lower() != "bearer" or not credentials.strip():
            raise TokenInvalid("Authorization header must use the Bearer scheme")
        return credentials.strip()


def client_info(request: Request) -> ClientInfo:
    user_agent = request.headers.get("user-agent")
    return ClientInfo(
        ip=request.client.host if request.client else None,
        user_agent=user_agent[:MAX_USER_AGENT_LENGTH] if user_agent else None,
        request_id=request.headers.get("x-request-id"),
    )
