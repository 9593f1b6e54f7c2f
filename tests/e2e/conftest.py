"""The HTTP app on a copy of the legacy database, with a clock the tests control."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest
from dependency_injector import providers
from litestar.testing import AsyncTestClient

from adapters.sql import migrate
from domain.clock import FixedClock, SystemClock
from entrypoints.container import Container
from entrypoints.http.app import create_app
from entrypoints.settings import Settings

SECRET = "e2e-test-secret-0123456789abcdef0123456789"


def make_settings(database: Path, **overrides: str) -> Settings:
    environ = {
        "APP_ENV": "test",
        "SESSION_SECRET": SECRET,
        "KEYTURN_DATABASE_URL": f"sqlite:///{database}",
        **overrides,
    }
    return Settings.from_environ(environ)


@dataclass
class Service:
    client: AsyncTestClient
    clock: FixedClock
    container: Container


@pytest.fixture
async def service(legacy_db: Path) -> AsyncIterator[Service]:
    settings = make_settings(legacy_db)
    await migrate.upgrade(settings.database_url, settings.users_table)
    container = Container(settings=settings)
    clock = FixedClock(SystemClock().now())
    container.clock.override(providers.Object(clock))
    app = create_app(container)
    async with AsyncTestClient(app, base_url="https://testserver.local") as client:
        yield Service(client=client, clock=clock, container=container)


@pytest.fixture
async def open_client(service: Service) -> AsyncIterator[Callable[[], Awaitable[AsyncTestClient]]]:
    """Open further clients on the service's app, each with its own cookie jar, to act as other devices or users."""
    async with AsyncExitStack() as stack:

        async def open_one() -> AsyncTestClient:
            client = AsyncTestClient(service.client.app, base_url=str(service.client.base_url))
            return await stack.enter_async_context(client)

        yield open_one
