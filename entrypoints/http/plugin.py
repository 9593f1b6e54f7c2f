"""Mount Keyturn into a host Litestar application with one plugin.

``KeyturnPlugin(container)`` adds the ``/auth`` routes and the JWKS route,
and a middleware that authenticates every other route of the host app:

- the access token comes from ``Authorization: Bearer`` or the access cookie,
  and is checked for signature, lifetime and revocation;
- an unsafe request (POST, PUT, PATCH, DELETE) authenticated by the cookie
  must pass the CSRF check (see ``entrypoints.http.csrf``);
- the handler receives a ``Principal`` as ``request.user`` and the verified
  ``AccessToken`` as ``request.auth``.

A route opts out with ``opt={"exclude_from_auth": True}`` (Litestar's own
option key), or by path with ``exclude=[regex, ...]``. The OpenAPI routes of
the host are left out, as they serve no user data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from litestar.config.app import AppConfig
from litestar.connection import ASGIConnection
from litestar.di import Provide
from litestar.exceptions import ValidationException
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult, DefineMiddleware
from litestar.plugins import InitPluginProtocol
from litestar.types import ASGIApp

from domain.errors import AuthError, RequestError, StoreUnavailable
from entrypoints.container import Container, close_stores, start_background_work
from entrypoints.http.account_routes import AccountController
from entrypoints.http.app import build_services
from entrypoints.http.auth_routes import AuthController
from entrypoints.http.csrf import CSRF_EXCEPTION_HANDLERS
from entrypoints.http.jwks import jwks_route
from entrypoints.http.problems import (
    handle_auth_error,
    handle_request_error,
    handle_store_unavailable,
    handle_validation_error,
)
from entrypoints.http.services import AuthServices

EXCLUDE_OPT_KEY = "exclude_from_auth"


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller of a protected route: the users-table id and the Keyturn session."""

    user_id: str
    session_id: str


class KeyturnAuthMiddleware(AbstractAuthenticationMiddleware):
    """Authenticates each request to a protected host route, or raises a Keyturn error."""

    def __init__(self, app: ASGIApp, services: AuthServices, exclude: str | list[str] | None = None) -> None:
        super().__init__(app, exclude=exclude, exclude_from_auth_key=EXCLUDE_OPT_KEY)
        self._services = services

    async def authenticate_request(self, connection: ASGIConnection) -> AuthenticationResult:
        token = await self._services.authenticate(connection)
        return AuthenticationResult(user=Principal(user_id=token.subject, session_id=token.session_id), auth=token)


class KeyturnPlugin(InitPluginProtocol):
    """Adds Keyturn's routes, error handlers and authentication middleware to a host app.

    The host's own exception handlers win over Keyturn's for the same
    exception type; Keyturn adds handlers only for its own errors and for
    request validation, so its routes answer with problem details.
    """

    def __init__(self, container: Container, *, exclude: Sequence[str] = ()) -> None:
        self._container = container
        self._exclude = list(exclude)

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        services = build_services(self._container)
        jwks = jwks_route(self._container.key_ring_source())
        # Verifiers fetch the public keys without a token.
        jwks.opt[EXCLUDE_OPT_KEY] = True
        app_config.route_handlers.extend([AuthController, AccountController, jwks])
        app_config.dependencies["services"] = Provide(lambda: services, use_cache=True, sync_to_thread=False)
        handlers = {
            AuthError: handle_auth_error,
            RequestError: handle_request_error,
            StoreUnavailable: handle_store_unavailable,
            ValidationException: handle_validation_error,
            **CSRF_EXCEPTION_HANDLERS,
        }
        app_config.exception_handlers = {**handlers, **app_config.exception_handlers}  # type: ignore[dict-item]
        exclude = self._exclude + _openapi_paths(app_config)
        app_config.middleware.append(DefineMiddleware(KeyturnAuthMiddleware, services=services, exclude=exclude or None))
        app_config.on_startup.append(self._start)
        app_config.on_shutdown.append(self._close_stores)
        return app_config

    async def _start(self) -> None:
        start_background_work(self._container)

    async def _close_stores(self) -> None:
        await close_stores(self._container)


def _openapi_paths(app_config: AppConfig) -> list[str]:
    config = app_config.openapi_config
    if config is None:
        return []
    path = (config.path or "/schema").rstrip("/")
    return [f"^{path}(/|$)"]
