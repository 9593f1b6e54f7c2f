"""The ``/auth`` routes: login, refresh, logout and the current user."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_204_NO_CONTENT

from application.login import LoginCommand
from application.logout import LogoutCommand
from application.refresh import RefreshCommand
from domain.tokens import TokenPair
from entrypoints.http.services import AuthServices, client_info

MAX_LOGIN_LENGTH = 320
# Longer than any password policy allows, short enough that hashing a
# posted value cannot be used to burn CPU.
MAX_PASSWORD_LENGTH = 4096
Password = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_PASSWORD_LENGTH)]


class LoginBody(msgspec.Struct, forbid_unknown_fields=True):
    login: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_LOGIN_LENGTH)]
    password: Password


class UserView(msgspec.Struct):
    id: str
    email: str
    username: str | None


class AuthController(Controller):
    path = "/auth"
    tags = ["auth"]

    @post("/login", status_code=HTTP_200_OK, summary="Log in with email or username and password")
    async def login(self, request: Request, data: JSONBody[LoginBody], services: NamedDependency[AuthServices]) -> Response:
        command = LoginCommand(login=data.login, password=data.password, client=client_info(request))
        pair = await services.login.execute(command)
        return tokens_response(services, pair)

    @post("/refresh", status_code=HTTP_200_OK, summary="Rotate the refresh token and get a new access token")
    async def refresh(self, request: Request, services: NamedDependency[AuthServices]) -> Response:
        command = RefreshCommand(refresh_token=services.cookies.read_refresh(request), client=client_info(request))
        pair = await services.refresh.execute(command)
        return tokens_response(services, pair)

    @post("/logout", status_code=HTTP_204_NO_CONTENT, summary="Revoke this session and clear the cookies")
    async def logout(self, request: Request, services: NamedDependency[AuthServices]) -> Response[None]:
        command = LogoutCommand(
            access_token=_access_token_or_none(services, request),
            refresh_token=services.cookies.read_refresh(request),
            client=client_info(request),
        )
        await services.logout.execute(command)
        return Response(None, status_code=HTTP_204_NO_CONTENT, cookies=services.cookies.clear())

    @get("/me", summary="The user behind the presented access token")
    async def me(self, request: Request, services: NamedDependency[AuthServices]) -> UserView:
        token = await services.verify_access_token.execute(services.access_token(request))
        user = await services.current_user.execute(token)
        return UserView(id=user.id, email=user.email, username=user.username)


def tokens_response(services: AuthServices, pair: TokenPair) -> Response:
    body = {
        "user_id": pair.access.subject,
        "access_expires_at": pair.access.expires_at.isoformat(),
        "refresh_expires_at": pair.refresh_expires_at.isoformat() if pair.refresh_expires_at else None,
    }
    cookies = services.cookies.issue(pair, services.clock.now())
    return Response(body, status_code=HTTP_200_OK, cookies=cookies, headers={"Cache-Control": "no-store"})


def _access_token_or_none(services: AuthServices, request: Request) -> str | None:
    # Logout must work with a malformed Authorization header too, so the
    # cookie is the fallback instead of an error.
    header = request.headers.get("authorization", "")
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    return services.cookies.read_access(request)
