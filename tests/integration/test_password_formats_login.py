"""Logging in through the SQL users table with each stored hash format, and rehashing there."""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime, timezone

import argon2
import bcrypt
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine
from werkzeug.security import check_password_hash, generate_password_hash

from adapters.passwords import SchemePasswordHasher
from adapters.sql.users import SqlUserRepository
from adapters.sql.users_table import UsersTableSpec, default_users_table
from application.login import LoginCommand
from domain.errors import InvalidCredentials
from tests.integration.postgres_support import postgres_engine, postgres_migrated_database  # noqa: F401 (fixtures)
from tests.unit.harness import Harness

PASSWORD = "format test password"
CREATED_AT = datetime(2024, 1, 1, tzinfo=timezone.utc)


def django_pbkdf2(password: str) -> str:
    derived = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), b"salt1234", 1000)
    return f"pbkdf2_sha256$1000$salt1234${base64.b64encode(derived).decode('ascii')}"


def stored_hashes() -> dict[str, str | None]:
    cheap_argon2 = argon2.PasswordHasher(time_cost=1, memory_cost=64, parallelism=1).hash(PASSWORD)
    bare_bcrypt = bcrypt.hashpw(PASSWORD.encode("utf-8"), bcrypt.gensalt(rounds=4)).decode("ascii")
    return {
        "werkzeug-scrypt": generate_password_hash(PASSWORD, method="scrypt:1024:8:1"),
        "werkzeug-pbkdf2": generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000"),
        "django-pbkdf2": django_pbkdf2(PASSWORD),
        "django-argon2": "argon2" + cheap_argon2,
        "django-bcrypt": "bcrypt$" + bare_bcrypt,
        "bcrypt-2y": "$2y$" + bare_bcrypt[4:],
        "argon2id": cheap_argon2,
        "django-unusable": "!" + django_pbkdf2(PASSWORD),
        "null": None,
    }


HASHES = stored_hashes()
USABLE = [name for name, value in HASHES.items() if value is not None and not value.startswith("!")]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest) -> AsyncEngine:
    """A migrated database with an empty default users table."""
    return request.getfixturevalue(f"{request.param}_engine")


@pytest.fixture
async def users(engine: AsyncEngine) -> SqlUserRepository:
    """The default users table, one row per format, the login name being the format's name."""
    spec = UsersTableSpec()
    rows = [
        {
            "id": number,
            "email": f"{name}@example.com",
            "username": name,
            "password_hash": password_hash,
            "is_active": True,
            "created_at": CREATED_AT,
        }
        for number, (name, password_hash) in enumerate(HASHES.items(), start=1)
    ]
    async with engine.begin() as connection:
        await connection.execute(sa.insert(default_users_table(spec, sa.MetaData())), rows)
    return SqlUserRepository(engine, spec)


async def login(harness: Harness, name: str, password: str = PASSWORD):
    return await harness.login.execute(LoginCommand(login=name, password=password))


@pytest.mark.parametrize("name", USABLE)
async def test_each_format_logs_in(users, name):
    harness = Harness(users=users)

    assert (await login(harness, name)).access.subject == (await users.find_by_login(name)).id
    with pytest.raises(InvalidCredentials):
        await login(harness, name, PASSWORD + "!")


@pytest.mark.parametrize("name", ["django-unusable", "null"])
async def test_unusable_hashes_never_log_in(users, name):
    with pytest.raises(InvalidCredentials):
        await login(Harness(users=users), name)


async def test_rehash_on_login_moves_legacy_formats_to_scrypt(users):
    harness = Harness(users=users, rehash_with=SchemePasswordHasher("scrypt"))

    await login(harness, "django-pbkdf2")
    await login(harness, "werkzeug-scrypt")

    upgraded = (await users.find_by_login("django-pbkdf2")).password_hash
    assert upgraded.startswith("scrypt:32768:8:1$")
    assert check_password_hash(upgraded, PASSWORD)
    assert (await users.find_by_login("werkzeug-scrypt")).password_hash.startswith("scrypt:32768:8:1$")
    assert (await login(harness, "django-pbkdf2")).access.subject == (await users.find_by_login("django-pbkdf2")).id


async def test_without_rehash_the_column_is_left_alone(users):
    await login(Harness(users=users), "django-pbkdf2")

    assert (await users.find_by_login("django-pbkdf2")).password_hash == HASHES["django-pbkdf2"]
