"""A host Litestar app protected by Keyturn, as in ``examples/host_app.py``.

Settings come from the environment, so the benchmark chooses the stores
and any other Keyturn setting by passing variables to the server process.
"""

from __future__ import annotations

from litestar import Litestar, Request, get

from entrypoints.container import Container
from entrypoints.http.plugin import KeyturnPlugin, Principal
from entrypoints.settings import Settings


@get("/hello", sync_to_thread=False)
def hello(request: Request[Principal, object, object]) -> dict[str, str]:
    """Protected: the plugin's middleware has verified the access token and checked revocation."""
    return {"user_id": request.user.user_id}


def create_app() -> Litestar:
    container = Container(settings=Settings.from_environ())
    return Litestar(route_handlers=[hello], plugins=[KeyturnPlugin(container)])
