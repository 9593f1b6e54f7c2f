"""One fixture per port, parametrised over its adapters.

Each adapter has a builder that takes the fixture request and pulls the
backing resource it needs, such as ``sqlite_engine``, only when its
parameter runs. A server-backed adapter is added by registering a builder
and listing it as ``pytest.param(name, marks=pytest.mark.postgres)``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.memory import InMemoryRefreshTokenStore, InMemoryRevocationStore, InMemoryUserRepository
from adapters.memory.login_attempts import InMemoryLoginAttemptCounter
from adapters.memory.one_time_claims import InMemoryOneTimeClaims
from adapters.redis.login_attempts import RedisLoginAttemptCounter
from adapters.redis.one_time_claims import RedisOneTimeClaims
from adapters.redis.refresh_tokens import RedisRefreshTokenStore
from adapters.redis.revocations import RedisRevocationStore
from adapters.sql.login_attempts import SqlLoginAttemptCounter
from adapters.sql.one_time_claims import SqlOneTimeClaims
from adapters.sql.refresh_tokens import SqlRefreshTokenStore
from adapters.sql.revocations import SqlRevocationStore
from adapters.sql.users import SqlUserRepository
from adapters.sql.users_table import UsersTableSpec, default_users_table
from application.ports import LoginAttemptCounter, RefreshTokenStore, RevocationStore, UserRepository
from domain.user import User
from tests.integration.postgres_support import postgres_engine, postgres_migrated_database  # noqa: F401 (fixtures)
from tests.integration.redis_support import RedisTarget, redis_target  # noqa: F401 (fixture)

Builder = Callable[[pytest.FixtureRequest], object]
# Server-backed adapters carry the marker of their server, so that
# ``-m "not postgres"`` leaves them out.
SERVER_MARKS = {"postgres": pytest.mark.postgres, "redis": pytest.mark.redis}


def _params(builders: dict[str, Builder]) -> list:
    return [pytest.param(name, marks=SERVER_MARKS.get(name, ())) for name in builders]


def _sqlite_engine(request: pytest.FixtureRequest) -> AsyncEngine:
    return request.getfixturevalue("sqlite_engine")


def _redis(request: pytest.FixtureRequest) -> RedisTarget:
    return request.getfixturevalue("redis_target")


REFRESH_STORES: dict[str, Builder] = {
    "memory": lambda request: InMemoryRefreshTokenStore(),
    "sqlite": lambda request: SqlRefreshTokenStore(_sqlite_engine(request)),
    "postgres": lambda request: SqlRefreshTokenStore(request.getfixturevalue("postgres_engine")),
    "redis": lambda request: RedisRefreshTokenStore(_redis(request).client, _redis(request).prefix),
}

REVOCATION_STORES: dict[str, Builder] = {
    "memory": lambda request: InMemoryRevocationStore(),
    "sqlite": lambda request: SqlRevocationStore(_sqlite_engine(request)),
    "postgres": lambda request: SqlRevocationStore(request.getfixturevalue("postgres_engine")),
    "redis": lambda request: RedisRevocationStore(_redis(request).client, _redis(request).prefix),
}

LOGIN_ATTEMPT_COUNTERS: dict[str, Builder] = {
    "memory": lambda request: InMemoryLoginAttemptCounter(),
    "sqlite": lambda request: SqlLoginAttemptCounter(_sqlite_engine(request)),
    "postgres": lambda request: SqlLoginAttemptCounter(request.getfixturevalue("postgres_engine")),
    "redis": lambda request: RedisLoginAttemptCounter(_redis(request).client, _redis(request).prefix),
}


ONE_TIME_CLAIMS: dict[str, Builder] = {
    "memory": lambda request: InMemoryOneTimeClaims(),
    "sqlite": lambda request: SqlOneTimeClaims(_sqlite_engine(request)),
    "postgres": lambda request: SqlOneTimeClaims(request.getfixturevalue("postgres_engine")),
    "redis": lambda request: RedisOneTimeClaims(_redis(request).client, _redis(request).prefix),
}


@pytest.fixture(params=_params(ONE_TIME_CLAIMS))
def one_time_claims(request: pytest.FixtureRequest) -> object:
    return ONE_TIME_CLAIMS[request.param](request)


@pytest.fixture(params=_params(REFRESH_STORES))
def refresh_store(request: pytest.FixtureRequest) -> RefreshTokenStore:
    return REFRESH_STORES[request.param](request)


@pytest.fixture(params=_params(REVOCATION_STORES))
def revocations(request: pytest.FixtureRequest) -> RevocationStore:
    return REVOCATION_STORES[request.param](request)


@pytest.fixture(params=_params(LOGIN_ATTEMPT_COUNTERS))
def login_attempts(request: pytest.FixtureRequest) -> LoginAttemptCounter:
    return LOGIN_ATTEMPT_COUNTERS[request.param](request)


@dataclass(frozen=True)
class SeedUser:
    id: int
    email: str
    username: str | None
    password_hash: str | None
    is_active: bool = True

    def as_user(self) -> User:
        return User(str(self.id), self.email, self.username, self.password_hash, self.is_active)


SEEDED_USERS = (
    SeedUser(1, "alice@example.com", "alice", "hash-alice"),
    SeedUser(2, "Bob.Smith@Example.COM", "bob", "hash-bob"),
    SeedUser(3, "no-password@example.com", "nopassword", None),
    SeedUser(4, "inactive@example.com", "inactive", "hash-inactive", is_active=False),
    SeedUser(5, "shared@example.com", "first", "hash-first"),
    SeedUser(6, "second@example.com", "shared@example.com", "hash-second"),
    SeedUser(2147483653, "big@example.com", "big", "hash-big"),
)


@pytest.fixture
async def sqlite_users(sqlite_engine: AsyncEngine) -> SqlUserRepository:
    """A SQL repository over the default users table of a fresh database, holding ``SEEDED_USERS``."""
    return await _seeded_repository(sqlite_engine)


@pytest.fixture
async def postgres_users(postgres_engine: AsyncEngine) -> SqlUserRepository:
    """Like ``sqlite_users``, on the session's PostgreSQL database, whose users table is emptied per test."""
    return await _seeded_repository(postgres_engine)


async def _seeded_repository(engine: AsyncEngine) -> SqlUserRepository:
    spec = UsersTableSpec()
    table = default_users_table(spec, sa.MetaData())
    created_at = datetime(2020, 1, 1, tzinfo=timezone.utc)
    rows = [
        {
            "id": user.id,
            "email": user.email,
            "username": user.username,
            "password_hash": user.password_hash,
            "is_active": user.is_active,
            "created_at": created_at,
        }
        for user in SEEDED_USERS
    ]
    async with engine.begin() as connection:
        await connection.execute(sa.insert(table), rows)
    return SqlUserRepository(engine, spec)


USER_REPOSITORIES: dict[str, Builder] = {
    "memory": lambda request: InMemoryUserRepository([user.as_user() for user in SEEDED_USERS]),
    "sqlite": lambda request: request.getfixturevalue("sqlite_users"),
    "postgres": lambda request: request.getfixturevalue("postgres_users"),
}


@pytest.fixture(params=_params(USER_REPOSITORIES))
def users(request: pytest.FixtureRequest) -> UserRepository:
    return USER_REPOSITORIES[request.param](request)
