"""The ``/auth`` routes: login, refresh, logout, the legacy session exchange and the current user."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.exceptions import ValidationException
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_204_NO_CONTENT

from application.legacy_exchange import LegacyExchangeCommand
from application.login import LoginCommand
from application.logout import LogoutCommand
from application.refresh import RefreshCommand
from domain.errors import TokenError
from domain.tokens import TokenPair
from entrypoints.http.services import AuthServices

MAX_LOGIN_LENGTH = 320
# Longer than any password policy allows, short enough that hashing a
# posted value cannot be used to burn CPU.
MAX_PASSWORD_LENGTH = 4096
# A refresh token is 43 characters; the bound only stops oversized bodies.
MAX_REFRESH_TOKEN_LENGTH = 256
Password = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_PASSWORD_LENGTH)]

TRANSPORT_HEADER = "x-token-transport"
BODY_TRANSPORT = "body"
# Keyturn's routes authenticate themselves; a host app's Keyturn middleware skips them.
EXCLUDE_FROM_AUTH = {"exclude_from_auth": True}


class LoginBody(msgspec.Struct, forbid_unknown_fields=True):
    login: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_LOGIN_LENGTH)]
    password: Password


class RefreshTokenBody(msgspec.Struct, forbid_unknown_fields=True):
    refresh_token: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_REFRESH_TOKEN_LENGTH)] | None = None


class UserView(msgspec.Struct):
    id: str
    email: str | None
    username: str | None


class AuthController(Controller):
    path = "/auth"
    tags = ["auth"]
    opt = EXCLUDE_FROM_AUTH

    @post("/login", status_code=HTTP_200_OK, summary="Log in with email or username and password")
    async def login(self, request: Request, data: JSONBody[LoginBody], services: NamedDependency[AuthServices]) -> Response:
        command = LoginCommand(login=data.login, password=data.password, client=services.client(request))
        pair = await services.login.execute(command)
        return tokens_response(services, pair, request)

    @post("/refresh", status_code=HTTP_200_OK, summary="Rotate the refresh token and get a new access token")
    async def refresh(self, request: Request, services: NamedDependency[AuthServices]) -> Response:
        body_token = await _body_refresh_token(request)
        raw = body_token if body_token is not None else services.cookies.read_refresh(request)
        if body_token is None:
            # CSRF is checked against the session being rotated, before it is rotated.
            session_id = await services.identify_session.by_refresh_token(raw)
            if session_id is not None:
                services.csrf.require(request, session_id)
        pair = await services.refresh.execute(RefreshCommand(refresh_token=raw, client=services.client(request)))
        return tokens_response(services, pair, request, body=body_token is not None)

    @post("/logout", status_code=HTTP_204_NO_CONTENT, summary="Revoke this session and clear the cookies")
    async def logout(self, request: Request, services: NamedDependency[AuthServices]) -> Response[None]:
        access, access_from_cookie = _access_token_or_none(services, request)
        body_token = await _body_refresh_token(request)
        refresh = body_token if body_token is not None else services.cookies.read_refresh(request)
        await _require_csrf_for_logout(services, request, access, access_from_cookie, refresh, body_token is None)
        command = LogoutCommand(access_token=access, refresh_token=refresh, client=services.client(request))
        await services.logout.execute(command)

        # Clear cookies only for a client that sent some: a cross-site form
        # post arrives without them (SameSite), and clearing would log the
        # user out in the browser although nothing was revoked.
        presented_cookies = access_from_cookie and access is not None or services.cookies.read_refresh(request)
        cookies = services.cookies.clear() if presented_cookies else []
        return Response(None, status_code=HTTP_204_NO_CONTENT, cookies=cookies)

    @post("/session-exchange", status_code=HTTP_200_OK, summary="Trade the legacy Flask session cookie for a session")
    async def session_exchange(self, request: Request, services: NamedDependency[AuthServices]) -> Response:
        command = LegacyExchangeCommand(cookie=services.cookies.read_legacy_session(request), client=services.client(request))
        pair = await services.exchange_legacy_session.execute(command)
        return tokens_response(services, pair, request, extra_cookies=[services.cookies.expire_legacy_session()])

    @get("/me", summary="The user behind the presented access token")
    async def me(self, request: Request, services: NamedDependency[AuthServices]) -> UserView:
        token = await services.authenticate(request)
        user = await services.current_user.execute(token)
        return UserView(id=user.id, email=user.email, username=user.username)


def wants_body_transport(request: Request) -> bool:
    return request.headers.get(TRANSPORT_HEADER, "").strip().lower() == BODY_TRANSPORT


def tokens_response(
    services: AuthServices,
    pair: TokenPair,
    request: Request,
    *,
    body: bool = False,
    extra_cookies: list[Cookie] | None = None,
) -> Response:
    """Answer with the new tokens: in cookies by default, in the JSON body for ``X-Token-Transport: body``."""
    content: dict[str, Any] = {
        "user_id": pair.access.subject,
        "access_expires_at": pair.access.expires_at.isoformat(),
        "refresh_expires_at": pair.refresh_expires_at.isoformat() if pair.refresh_expires_at else None,
    }
    cookies = list(extra_cookies or [])
    if body or wants_body_transport(request):
        content |= {
            "token_type": "Bearer",
            "access_token": pair.access_token,
            "refresh_token": pair.refresh.value if pair.refresh is not None else None,
        }
    else:
        csrf_token = services.csrf.token_for(pair.access.session_id)
        cookies += services.cookies.issue(pair, services.clock.now(), csrf_token)
    return Response(content, status_code=HTTP_200_OK, cookies=cookies, headers={"Cache-Control": "no-store"})


async def _body_refresh_token(request: Request) -> str | None:
    """Read ``{"refresh_token": ...}`` when the request has a body; an empty body means none."""
    raw = await request.body()
    if not raw.strip():
        return None
    try:
        return msgspec.json.decode(raw, type=RefreshTokenBody).refresh_token
    except msgspec.DecodeError:
        raise ValidationException(
            "the request body must be empty or a JSON object with refresh_token",
            extra=[{"key": "refresh_token", "message": "expected a JSON object with an optional string refresh_token"}],
        ) from None


def _access_token_or_none(services: AuthServices, request: Request) -> tuple[str | None, bool]:
    # Logout must work with a malformed Authorization header too, so the
    # cookie is the fallback instead of an error.
    try:
        presented = services.presented_access_token(request)
    except TokenError:
        return services.cookies.read_access(request), True
    return presented.raw, presented.from_cookie


async def _require_csrf_for_logout(
    services: AuthServices,
    request: Request,
    access: str | None,
    access_from_cookie: bool,
    refresh: str | None,
    refresh_from_cookie: bool,
) -> None:
    """Check CSRF against the session logout will revoke, when a cookie is what names it.

    Logout prefers the access token's session, even of an expired token,
    and falls back to the refresh token's; this follows the same order.
    """
    session_id = services.identify_session.by_access_token(access)
    from_cookie = access_from_cookie
    if session_id is None:
        session_id = await services.identify_session.by_refresh_token(refresh)
        from_cookie = refresh_from_cookie
    if session_id is not None and from_cookie:
        services.csrf.require(request, session_id)
