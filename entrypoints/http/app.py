"""Builds the Litestar application from a wired container."""

from __future__ import annotations

from importlib.metadata import version

from litestar import Litestar, get
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig

from entrypoints.container import Container
from entrypoints.http.account_routes import AccountController
from entrypoints.http.auth_routes import AuthController
from entrypoints.http.cookies import CookieTransport
from entrypoints.http.problems import EXCEPTION_HANDLERS
from entrypoints.http.services import AuthServices


KEYTURN_VERSION = version("keyturn")


@get("/health/live", summary="The process is up", sync_to_thread=False)
def live() -> dict[str, str]:
    return {"status": "ok"}


def build_services(container: Container) -> AuthServices:
    settings = container.settings()
    return AuthServices(
        login=container.login(),
        refresh=container.refresh(),
        logout=container.logout(),
        verify_access_token=container.verify_access_token(),
        current_user=container.current_user(),
        list_sessions=container.list_sessions(),
        revoke_session=container.revoke_session(),
        logout_everywhere=container.logout_everywhere(),
        change_password=container.change_password(),
        cookies=CookieTransport(settings.cookies),
        clock=container.clock(),
    )


def create_app(container: Container) -> Litestar:
    """Resolve every service once, so no request pays for container lookups."""
    services = build_services(container)

    async def dispose_engine() -> None:
        await container.engine().dispose()

    return Litestar(
        route_handlers=[AuthController, AccountController, live],
        dependencies={"services": Provide(lambda: services, use_cache=True, sync_to_thread=False)},
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        on_shutdown=[dispose_engine],
        openapi_config=OpenAPIConfig(title="Keyturn", version=KEYTURN_VERSION, path="/schema"),
    )
