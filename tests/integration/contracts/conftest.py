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
from adapters.sql.refresh_tokens import SqlRefreshTokenStore
from adapters.sql.revocations import SqlRevocationStore
from adapters.sql.users import SqlUserRepository
from adapters.sql.users_table import UsersTableSpec, default_users_table
from application.ports import RefreshTokenStore, RevocationStore, UserRepository
from domain.user import User

Builder = Callable[[pytest.FixtureRequest], object]


def _sqlite_engine(request: pytest.FixtureRequest) -> AsyncEngine:
    return request.getfixturevalue("sqlite_engine")


REFRESH_STORES: dict[str, Builder] = {
    "memory": lambda request: InMemoryRefreshTokenStore(),
    "sqlite": lambda request: SqlRefreshTokenStore(_sqlite_engine(request)),
}

REVOCATION_STORES: dict[str, Builder] = {
    "memory": lambda request: InMemoryRevocationStore(),
    "sqlite": lambda request: SqlRevocationStore(_sqlite_engine(request)),
}


@pytest.fixture(params=list(REFRESH_STORES))
def refresh_store(request: pytest.FixtureRequest) -> RefreshTokenStore:
    return REFRESH_STORES[request.param](request)


@pytest.fixture(params=list(REVOCATION_STORES))
def revocations(request: pytest.FixtureRequest) -> RevocationStore:
    return REVOCATION_STORES[request.param](request)


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
    async with sqlite_engine.begin() as connection:
        await connection.execute(sa.insert(table), rows)
    return SqlUserRepository(sqlite_engine, spec)


USER_REPOSITORIES: dict[str, Builder] = {
    "memory": lambda request: InMemoryUserRepository([user.as_user() for user in SEEDED_USERS]),
    "sqlite": lambda request: request.getfixturevalue("sqlite_users"),
}


@pytest.fixture(params=list(USER_REPOSITORIES))
def users(request: pytest.FixtureRequest) -> UserRepository:
    return USER_REPOSITORIES[request.param](request)
