"""Builds the Litestar application from a wired container."""

from __future__ import annotations

from importlib.metadata import version

from litestar import Litestar
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig

from adapters.redis.client import ping as redis_ping
from adapters.sql.engine import ping as sql_ping
from entrypoints.container import Container, close_stores, start_background_work
from entrypoints.http.account_routes import AccountController
from entrypoints.http.auth_routes import AuthController
from entrypoints.http.cookies import CookieTransport
from entrypoints.http.csrf import CSRF_EXCEPTION_HANDLERS, CsrfProtection
from entrypoints.http.dev_page import dev_page_route
from entrypoints.http.health import ReadinessChecks, live, ready
from entrypoints.http.jwks import SighupReload, jwks_route
from entrypoints.http.metrics import metrics_route
from entrypoints.observability import request_logging
from entrypoints.http.problems import EXCEPTION_HANDLERS
from entrypoints.http.services import AuthServices, ClientReader


KEYTURN_VERSION = version("keyturn")


def build_services(container: Container) -> AuthServices:
    settings = container.settings()
    cookies = CookieTransport(settings.cookies, settings.legacy)
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
        exchange_legacy_session=container.exchange_legacy_session(),
        identify_session=container.identify_session(),
        cookies=cookies,
        csrf=CsrfProtection(container.csrf_tokens(), cookies),
        clock=container.clock(),
        clients=ClientReader(settings.trusted_proxies),
        metrics=container.metrics(),
    )


def build_readiness(container: Container) -> ReadinessChecks:
    settings = container.settings()
    engine = container.engine()
    checks = {"database": lambda: sql_ping(engine)}
    if settings.stores.uses_redis:
        client = container.redis()
        checks["redis"] = lambda: redis_ping(client)
    return ReadinessChecks(checks)


def create_app(container: Container) -> Litestar:
    """Resolve every service once, so no request pays for container lookups."""
    services = build_services(container)
    readiness = build_readiness(container)
    key_source = container.key_ring_source()
    sighup = SighupReload(key_source)
    settings = container.settings()
    # The sign-in page exists in development only; elsewhere GET / is a plain 404.
    development_routes = [dev_page_route(settings.cookies.csrf_name)] if settings.is_development else []

    async def start_up() -> None:
        start_background_work(container)

    async def shut_down() -> None:
        await close_stores(container)

    return Litestar(
        route_handlers=[
            AuthController,
            AccountController,
            live,
            ready,
            jwks_route(key_source),
            metrics_route(container.metrics()),
            *development_routes,
        ],
        middleware=[request_logging] if settings.request_log else [],
        state=State({"metrics": container.metrics()}),
        dependencies={
            "services": Provide(lambda: services, use_cache=True, sync_to_thread=False),
            "readiness": Provide(lambda: readiness, use_cache=True, sync_to_thread=False),
        },
        exception_handlers={**EXCEPTION_HANDLERS, **CSRF_EXCEPTION_HANDLERS},  # type: ignore[arg-type]
        on_startup=[sighup.install, start_up],
        on_shutdown=[shut_down, sighup.remove],
        # Logging is configured by the process (the CLI or the host app), not by the app factory.
        logging_config=None,
        openapi_config=OpenAPIConfig(title="Keyturn", version=KEYTURN_VERSION, path="/schema"),
    )
