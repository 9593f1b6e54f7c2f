"""Anchor (B): Litestar's own ``JWTCookieAuth`` protecting one GET route."""

from __future__ import annotations

import os
from dataclasses import dataclass

from litestar import Litestar, Request, Response, get, post
from litestar.connection import ASGIConnection
from litestar.security.jwt import JWTCookieAuth, Token

from bench.anchors import USER_ID


@dataclass(frozen=True, slots=True)
class User:
    id: str


USERS = {USER_ID: User(id=USER_ID)}


async def retrieve_user(token: Token, connection: ASGIConnection) -> User | None:
    return USERS.get(token.sub)


jwt_cookie_auth = JWTCookieAuth[User](
    retrieve_user_handler=retrieve_user,
    token_secret=os.environ["BENCH_JWT_SECRET"],
    exclude=["^/login$"],
)


@post("/login", sync_to_thread=False)
def login() -> Response[None]:
    """Set the token cookie with ``JWTCookieAuth.login``, as a real login route would."""
    return jwt_cookie_auth.login(identifier=USER_ID)


@get("/hello", sync_to_thread=False)
def hello(request: Request[User, Token, object]) -> dict[str, str]:
    return {"user_id": request.user.id}


app = Litestar(route_handlers=[login, hello], on_app_init=[jwt_cookie_auth.on_app_init])
