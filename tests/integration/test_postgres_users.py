"""``SqlUserRepository``, ``add_user`` and the session store on the legacy PostgreSQL schema.

The legacy ``users`` table has ``id BIGINT NOT NULL PRIMARY KEY`` with no
default and no sequence, one id above 2^31, and plain ``TIMESTAMP`` columns.
Each test gets its own copy of the migrated legacy database.
"""

from __future__ import annotations

import asyncio
import hashlib
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sql.refresh_tokens import SqlRefreshTokenStore
from adapters.sql.users import SqlUserRepository, UserAlreadyExists, add_user, count_users
from adapters.sql.users_table import UsersTableSpec
from domain.session import RefreshRecord, RotationOutcome, Session
from tests.integration.postgres_support import (  # noqa: F401 (fixtures)
    legacy_postgres_database,
    legacy_postgres_engine,
    make_engine,
    postgres_legacy_template,
)

pytestmark = pytest.mark.postgres

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc)
IVAN_ID = "2147483653"


@pytest.fixture
def repository(legacy_postgres_engine: AsyncEngine) -> SqlUserRepository:
    return SqlUserRepository(legacy_postgres_engine, UsersTableSpec())


async def all_rows(engine: AsyncEngine, table: str) -> list[tuple]:
    async with engine.connect() as connection:
        return [tuple(row) for row in await connection.execute(sa.text(f"SELECT * FROM {table} ORDER BY id"))]


async def test_get_id_above_32_bits(repository: SqlUserRepository) -> None:
    ivan = await repository.get(IVAN_ID)

    assert ivan is not None
    assert ivan.id == IVAN_ID
    assert ivan.username == "ivan"
    assert await repository.find_by_login("ivan") == ivan


async def test_bob_by_email_in_another_case(repository: SqlUserRepository) -> None:
    bob = await repository.find_by_login("bob.smith@example.com")

    assert bob is not None
    assert bob.email == "bob.smith@Example.COM"
    assert await repository.find_by_login("BOB.SMITH@EXAMPLE.COM") == bob


async def test_quote_no_password_and_inactive(repository: SqlUserRepository) -> None:
    obrien = await repository.find_by_login("O'Brien@example.ie")
    grace = await repository.find_by_login("grace")
    frank = await repository.find_by_login("frank")

    assert obrien is not None and obrien.username == "obrien"
    assert grace is not None and grace.password_hash is None
    assert frank is not None and frank.is_active is False


@pytest.mark.parametrize("user_id", ["", "abc", "01", "9223372036854775808", "99999999999999999999"])
async def test_impossible_ids_return_none(repository: SqlUserRepository, user_id: str) -> None:
    assert await repository.get(user_id) is None


async def test_update_password_hash_one_cell(
    repository: SqlUserRepository, legacy_postgres_engine: AsyncEngine
) -> None:
    before = await all_rows(legacy_postgres_engine, "users")

    await repository.update_password_hash(IVAN_ID, "scrypt:new")

    after = await all_rows(legacy_postgres_engine, "users")
    changed = [(old, new) for old, new in zip(before, after) if old != new]
    assert len(changed) == 1
    old, new = changed[0]
    assert str(new[0]) == IVAN_ID
    assert new[3] == "scrypt:new"
    assert new[:3] + new[4:] == old[:3] + old[4:]


async def test_add_user_without_sequence(legacy_postgres_engine: AsyncEngine) -> None:
    spec = UsersTableSpec()
    posts_before = await all_rows(legacy_postgres_engine, "posts")

    new_id = await add_user(
        legacy_postgres_engine, spec, email="judy@example.com", username="judy", password_hash="scrypt:x", now=NOW
    )

    assert new_id == "2147483654"
    assert await count_users(legacy_postgres_engine, spec) == 51
    judy = await SqlUserRepository(legacy_postgres_engine, spec).get(new_id)
    assert judy is not None
    assert (judy.email, judy.username, judy.is_active) == ("judy@example.com", "judy", True)
    async with legacy_postgres_engine.connect() as connection:
        created_at = (
            await connection.execute(sa.text("SELECT created_at FROM users WHERE id = 2147483654"))
        ).scalar_one()
    # The legacy column is TIMESTAMP WITHOUT TIME ZONE holding UTC.
    assert created_at == datetime(2025, 3, 1, 12, 0)
    assert await all_rows(legacy_postgres_engine, "posts") == posts_before


async def test_add_user_rejects_a_taken_email_or_username(legacy_postgres_engine: AsyncEngine) -> None:
    spec = UsersTableSpec()

    for email, username in (("ALICE@example.com", "x"), ("x@example.com", "alice")):
        with pytest.raises(UserAlreadyExists):
            await add_user(legacy_postgres_engine, spec, email=email, username=username, password_hash=None, now=NOW)
    assert await count_users(legacy_postgres_engine, spec) == 50


async def test_legacy_user_sessions_revoked(legacy_postgres_engine: AsyncEngine) -> None:
    store = SqlRefreshTokenStore(legacy_postgres_engine)
    now = datetime.now(timezone.utc)
    for number in range(3):
        await open_session(store, f"session-{number}", IVAN_ID, now + timedelta(seconds=number))
    await open_session(store, "session-of-alice", "1", now)

    listed = await store.list_sessions(IVAN_ID, now)
    revoked = await store.revoke_user_sessions(IVAN_ID, now)

    assert [session.id for session in listed] == ["session-2", "session-1", "session-0"]
    assert sorted(revoked) == ["session-0", "session-1", "session-2"]
    assert await store.list_sessions(IVAN_ID, now) == []
    assert [session.id for session in await store.list_sessions("1", now)] == ["session-of-alice"]


async def test_concurrent_rotations_default_timeout(legacy_postgres_database: str) -> None:
    """Twenty concurrent rotations of one token, more than the pool holds, still give exactly one winner."""
    engine = make_engine(legacy_postgres_database, timeout_seconds=0.25)
    try:
        store = SqlRefreshTokenStore(engine)
        now = datetime.now(timezone.utc)
        record = await open_session(store, "contended", IVAN_ID, now)

        results = await asyncio.gather(
            *(store.rotate(record.token_hash, f"{n:064x}", now, now + timedelta(days=1)) for n in range(1, 21))
        )
    finally:
        await engine.dispose()

    outcomes = [result.outcome for result in results]
    assert outcomes.count(RotationOutcome.ROTATED) == 1
    assert outcomes.count(RotationOutcome.ALREADY_ROTATED) == 19


async def open_session(
    store: SqlRefreshTokenStore, session_id: str, user_id: str, created_at: datetime
) -> RefreshRecord:
    expires_at = created_at + timedelta(days=14)
    session = Session(session_id, user_id, created_at, created_at, expires_at, user_agent="curl/8.5.0")
    token_hash = hashlib.sha256(session_id.encode()).hexdigest()
    record = RefreshRecord(token_hash, session_id, user_id, created_at, expires_at)
    await store.open_session(session, record)
    return record
