"""The caller's own account: sessions, log out everywhere, password change."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec
from litestar import Controller, Request, Response, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_204_NO_CONTENT

from application.password import ChangePasswordCommand
from entrypoints.http.auth_routes import EXCLUDE_FROM_AUTH, MAX_PASSWORD_LENGTH, Password, tokens_response
from entrypoints.http.services import AuthServices


class SessionView(msgspec.Struct):
    id: str
    created_at: datetime
    last_used_at: datetime
    user_agent: str | None
    ip: str | None
    current: bool


class PasswordChangeBody(msgspec.Struct, forbid_unknown_fields=True):
    current_password: Password
    # Only a bound on the body size: the password policy reports its own
    # limits with a clearer message.
    new_password: Annotated[str, msgspec.Meta(max_length=MAX_PASSWORD_LENGTH)]


class AccountController(Controller):
    path = "/auth"
    tags = ["account"]
    opt = EXCLUDE_FROM_AUTH

    @get("/sessions", summary="The caller's live sessions, newest first")
    async def sessions(self, request: Request, services: NamedDependency[AuthServices]) -> list[SessionView]:
        caller = await services.authenticate(request)
        sessions = await services.list_sessions.execute(caller)
        return [
            SessionView(
                id=session.id,
                created_at=session.created_at,
                last_used_at=session.last_used_at,
                user_agent=session.user_agent,
                ip=session.ip,
                current=session.id == caller.session_id,
            )
            for session in sessions
        ]

    @delete("/sessions/{session_id:str}", status_code=HTTP_204_NO_CONTENT, summary="Revoke one of the caller's sessions")
    async def revoke_session(
        self, request: Request, session_id: FromPath[str], services: NamedDependency[AuthServices]
    ) -> Response[None]:
        caller = await services.authenticate(request)
        await services.revoke_session.execute(caller, session_id, services.client(request))

        cookies = services.cookies.clear() if session_id == caller.session_id else []
        return Response(None, status_code=HTTP_204_NO_CONTENT, cookies=cookies)

    @post("/logout-all", status_code=HTTP_204_NO_CONTENT, summary="Revoke every session of the caller")
    async def logout_all(self, request: Request, services: NamedDependency[AuthServices]) -> Response[None]:
        caller = await services.authenticate(request)
        await services.logout_everywhere.execute(caller, services.client(request))
        return Response(None, status_code=HTTP_204_NO_CONTENT, cookies=services.cookies.clear())

    @post("/password", status_code=HTTP_200_OK, summary="Change the password and end every other session")
    async def change_password(
        self, request: Request, data: JSONBody[PasswordChangeBody], services: NamedDependency[AuthServices]
    ) -> Response:
        caller = await services.authenticate(request)
        command = ChangePasswordCommand(
            caller=caller,
            current_password=data.current_password,
            new_password=data.new_password,
            client=services.client(request),
        )
        pair = await services.change_password.execute(command)
        return tokens_response(services, pair, request)
