"""A host Litestar app that lets Keyturn authenticate its routes.

Run it against the development database (after ``make upgrade``)::

    APP_ENV=development .venv/bin/uvicorn --factory examples.host_app:create_host_app

Every route below is protected unless it opts out; handlers read the caller
from ``request.user``.
"""

from __future__ import annotations

from dataclasses import dataclass

from litestar import Litestar, Request, get, post
from litestar.params import JSONBody

from entrypoints.container import Container
from entrypoints.http.plugin import EXCLUDE_OPT_KEY, KeyturnPlugin, Principal
from entrypoints.settings import Settings


@dataclass(frozen=True, slots=True)
class Note:
    text: str


@get("/api/hello", opt={EXCLUDE_OPT_KEY: True}, sync_to_thread=False)
def hello() -> dict[str, str]:
    """Public: no token needed."""
    return {"message": "hello, anyone"}


@get("/api/profile", sync_to_thread=False)
def profile(request: Request[Principal, object, object]) -> dict[str, str]:
    """Protected: Keyturn has verified the token before the handler runs."""
    return {"user_id": request.user.user_id, "session_id": request.user.session_id}


@post("/api/notes", sync_to_thread=False)
def add_note(request: Request[Principal, object, object], data: JSONBody[Note]) -> dict[str, str]:
    """Protected and unsafe: a cookie-authenticated call also needs the CSRF header."""
    return {"owner": request.user.user_id, "text": data.text}


def create_host_app(container: Container | None = None) -> Litestar:
    """Build the host app; tests pass a container with their own settings and clock."""
    if container is None:
        container = Container(settings=Settings.from_environ())
    return Litestar(route_handlers=[hello, profile, add_note], plugins=[KeyturnPlugin(container)])
