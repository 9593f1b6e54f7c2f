"""Revocations outlive the process, and the legacy tables survive real use untouched."""

import sqlite3
from pathlib import Path

import pytest
from dependency_injector import providers
from litestar.testing import AsyncTestClient

from adapters.sql import migrate
from domain.clock import FixedClock, SystemClock
from entrypoints.container import Container
from entrypoints.http.app import create_app
from tests.conftest import account
from tests.e2e.conftest import make_settings
from tests.e2e.http_helpers import assert_problem, cookie_header, csrf_headers, login, refresh_cookie_headers


@pytest.fixture
def service(sqlite_service):
    """These checks read and reopen the SQLite file, so they run on the embedded default only."""
    return sqlite_service


def snapshot(database: Path) -> dict[str, object]:
    with sqlite3.connect(database) as connection:
        schema = connection.execute(
            "SELECT type, name, sql FROM sqlite_master WHERE tbl_name IN ('users', 'posts') ORDER BY name"
        ).fetchall()
        users = connection.execute("SELECT * FROM users ORDER BY id").fetchall()
        posts = connection.execute("SELECT * FROM posts ORDER BY id").fetchall()
    return {"schema": schema, "users": users, "posts": posts}


async def start(database: Path, clock: FixedClock) -> tuple[AsyncTestClient, Container]:
    container = Container(settings=make_settings(database))
    container.clock.override(providers.Object(clock))
    return AsyncTestClient(create_app(container), base_url="https://testserver.local"), container


async def test_revocation_survives_restart(service, legacy_db):
    await login(service, "alice", account("alice")["password"])
    access = service.client.cookies["access_token"]
    refresh = service.client.cookies["refresh_token"]
    csrf = service.client.cookies["csrf_token"]
    assert (await service.client.post("/auth/logout", headers=csrf_headers(service.client))).status_code == 204

    client, _ = await start(legacy_db, service.clock)
    async with client:
        me = await client.get("/auth/me", headers=cookie_header("access_token", access))
        again = await client.post("/auth/refresh", headers=refresh_cookie_headers(refresh, csrf))

    assert_problem(me, 401, "token_revoked")
    assert_problem(again, 401, "token_revoked")


async def test_session_survives_restart(service, legacy_db):
    await login(service, "carol", account("carol")["password"])
    access = service.client.cookies["access_token"]

    client, _ = await start(legacy_db, service.clock)
    async with client:
        me = await client.get("/auth/me", headers=cookie_header("access_token", access))

    assert me.json()["username"] == "carol"


async def test_legacy_tables_unchanged_after_use(legacy_db):
    before = snapshot(legacy_db)
    settings = make_settings(legacy_db)
    await migrate.upgrade(settings.database_url, settings.users_table)
    client, _ = await start(legacy_db, FixedClock(SystemClock().now()))

    statuses = []
    async with client:
        for username in ("alice", "bob", "ivan", "frank", "grace"):
            password = account(username)["password"] or "no password"
            response = await client.post("/auth/login", json={"login": username, "password": password})
            statuses.append(response.status_code)
            await client.get("/auth/me")
            await client.post("/auth/refresh", headers=csrf_headers(client))
            await client.post("/auth/logout", headers=csrf_headers(client))

    assert statuses == [200, 200, 200, 401, 401]
    assert snapshot(legacy_db) == before
