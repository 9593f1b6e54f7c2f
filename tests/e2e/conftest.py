"""The HTTP app on a copy of the legacy database, with a clock the tests control."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from redis.exceptions import RedisError
from dependency_injector import providers
from litestar import Litestar

from adapters.sql import migrate
from domain.clock import FixedClock, SystemClock
from entrypoints.container import Container
from entrypoints.http.app import create_app
from entrypoints.settings import Settings
from tests.e2e import leak_watch
from tests.integration.postgres_support import (
    create_database,
    create_legacy_postgres_database,
    drop_database,
    postgres_url,
    require_postgres,
)
from tests.integration.redis_support import REDIS_URL, redis_target, skip_or_fail  # noqa: F401  (fixture used by name)

async def require_redis(client) -> None:
    try:
        await client.ping()
    except (RedisError, OSError):
        skip_or_fail("Redis not reachable on 127.0.0.1:6379")


async def delete_keys(client, prefix: str) -> None:
    keys = [key async for key in client.scan_iter(match=f"{prefix}*", count=500)]
    if keys:
        await client.unlink(*keys)


SECRET = "e2e-test-secret-0123456789abcdef0123456789"


def make_settings(database: Path, **overrides: str) -> Settings:
    environ = {
        "APP_ENV": "test",
        "SESSION_SECRET": SECRET,
        "KEYTURN_DATABASE_URL": f"sqlite:///{database}",
        **overrides,
    }
    return Settings.from_environ(environ)


BACKENDS = ("sqlite", pytest.param("postgres-redis", marks=[pytest.mark.postgres, pytest.mark.redis]))


@dataclass
class Service:
    client: httpx.AsyncClient
    clock: FixedClock
    container: Container
    backend: str
    app: Litestar

    async def rows(self, query: str) -> list[dict]:
        """Run a read-only SQL query on the service's database, for checks on the legacy tables."""
        async with self.container.engine().connect() as connection:
            result = await connection.execute(sa.text(query))
            return [dict(row._mapping) for row in result]


BASE_URL = "https://testserver.local"


def asgi_client(app: Litestar) -> httpx.AsyncClient:
    """Return a client that awaits the app on the test's own event loop.

    Litestar's ``AsyncTestClient`` runs the app on a blocking portal in
    another thread, so pooled asyncpg and Redis connections would belong to
    two loops, and requests sent with ``asyncio.gather`` would still run one
    after another. ``httpx.ASGITransport`` has neither problem.
    """
    hooks = {"request": [], "response": []}
    if leak_watch.WATCH is not None:
        hooks = {"request": [leak_watch.WATCH.on_request], "response": [leak_watch.WATCH.on_response]}
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL, event_hooks=hooks)


@pytest.fixture(autouse=True)
def no_secret_leaks() -> Iterator[None]:
    """Fail any e2e test during which a password, token or CSRF value reached a log line or an error body."""
    watch = leak_watch.LeakWatch()
    root = logging.getLogger()
    # Keyturn's own loggers log at every level. Libraries keep their levels,
    # because their debug output is large and slow; their warnings and errors
    # still reach the watch.
    own = [logging.getLogger(name) for name in leak_watch.OWN_LOGGERS]
    previous_levels = [logger.level for logger in own]
    root.addHandler(watch)
    for logger in own:
        logger.setLevel(logging.DEBUG)
    leak_watch.WATCH = watch
    try:
        yield
    finally:
        leak_watch.WATCH = None
        root.removeHandler(watch)
        for logger, level in zip(own, previous_levels, strict=True):
            logger.setLevel(level)
    assert watch.leaks() == []


@asynccontextmanager
async def running_service(settings: Settings, backend: str, redis_prefix: str | None = None) -> AsyncIterator[Service]:
    """Run the app; on exit close its stores and delete the Redis keys under ``redis_prefix``."""
    container = Container(settings=settings)
    clock = FixedClock(SystemClock().now())
    container.clock.override(providers.Object(clock))
    app = create_app(container)
    uses_redis = settings.stores.uses_redis
    if uses_redis:
        await require_redis(container.redis())
    try:
        async with asgi_client(app) as client:
            yield Service(client=client, clock=clock, container=container, backend=backend, app=app)
    finally:
        # ASGITransport sends no lifespan events, so the shutdown hook's work is done here.
        await container.engine().dispose()
        if uses_redis:
            if redis_prefix:
                await delete_keys(container.redis(), redis_prefix)
            await container.redis().aclose()


class LegacyPostgresTemplate:
    """A migrated legacy PostgreSQL database, made on first use, that each test copies."""

    def __init__(self) -> None:
        self.name: str | None = None

    async def copy(self) -> str:
        if self.name is None:
            url, _ = await create_legacy_postgres_database()
            self.name = url.rsplit("/", 1)[1]
        return await create_database(template=self.name)


@pytest.fixture(scope="session")
def legacy_postgres_template() -> Iterator[LegacyPostgresTemplate]:
    template = LegacyPostgresTemplate()
    yield template
    if template.name is not None:
        asyncio.run(drop_database(template.name))


async def start_sqlite(legacy_db: Path, stack: AsyncExitStack, **overrides: str) -> Service:
    settings = make_settings(legacy_db, **overrides)
    await migrate.upgrade(settings.database_url, settings.users_table)
    return await stack.enter_async_context(running_service(settings, "sqlite"))


async def start_postgres_redis(
    legacy_db: Path, template: LegacyPostgresTemplate, stack: AsyncExitStack, **overrides: str
) -> Service:
    require_postgres()
    database = await template.copy()
    stack.push_async_callback(drop_database, database)
    prefix = f"keyturn-test-{uuid.uuid4().hex}:"
    settings = make_settings(
        legacy_db,
        KEYTURN_DATABASE_URL=postgres_url(database),
        KEYTURN_REDIS_URL=REDIS_URL,
        KEYTURN_REDIS_PREFIX=prefix,
        # Generous, so a slow first connection on a busy machine is not an outage.
        KEYTURN_STORE_TIMEOUT_MS="5000",
        **overrides,
    )
    return await stack.enter_async_context(running_service(settings, "postgres-redis", redis_prefix=prefix))


@pytest.fixture
async def sqlite_service(legacy_db: Path) -> AsyncIterator[Service]:
    """The app on a migrated copy of the legacy SQLite database, with SQL stores."""
    async with AsyncExitStack() as stack:
        yield await start_sqlite(legacy_db, stack)


@pytest.fixture(params=BACKENDS)
async def service(
    request: pytest.FixtureRequest, legacy_db: Path, legacy_postgres_template: LegacyPostgresTemplate
) -> AsyncIterator[Service]:
    """The app on each backend: the embedded default, and PostgreSQL with Redis for the stores."""
    async with AsyncExitStack() as stack:
        if request.param == "sqlite":
            yield await start_sqlite(legacy_db, stack)
        else:
            yield await start_postgres_redis(legacy_db, legacy_postgres_template, stack)


@pytest.fixture
async def open_client(service: Service) -> AsyncIterator[Callable[[], Awaitable[httpx.AsyncClient]]]:
    """Open further clients on the service's app, each with its own cookie jar, to act as other devices or users."""
    async with AsyncExitStack() as stack:

        async def open_one() -> httpx.AsyncClient:
            client = asgi_client(service.app)
            return await stack.enter_async_context(client)

        yield open_one
