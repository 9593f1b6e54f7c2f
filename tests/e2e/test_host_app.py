"""The example host app in ``examples/host_app.py``, with Keyturn mounted by its plugin."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from dependency_injector import providers

from adapters.sql import migrate
from domain.clock import FixedClock, SystemClock
from entrypoints.container import Container
from examples.host_app import create_host_app
from tests.conftest import account
from tests.e2e.conftest import asgi_client, make_settings
from tests.e2e.http_helpers import assert_problem, csrf_headers


@pytest.fixture
async def host(legacy_db) -> AsyncIterator:
    settings = make_settings(legacy_db)
    await migrate.upgrade(settings.database_url, settings.users_table)
    container = Container(settings=settings)
    clock = FixedClock(SystemClock().now())
    container.clock.override(providers.Object(clock))
    async with asgi_client(create_host_app(container)) as client:
        client.clock = clock
        yield client
    await container.engine().dispose()


async def log_in(client, username: str = "alice", **headers: str):
    body = {"login": username, "password": account(username)["password"]}
    response = await client.post("/auth/login", json=body, headers=headers)
    assert response.status_code == 200, response.text
    return response


async def test_public_route_needs_no_token(host):
    response = await host.get("/api/hello")

    assert response.status_code == 200
    assert response.json() == {"message": "hello, anyone"}


async def test_protected_route_rejects_anonymous(host):
    assert_problem(await host.get("/api/profile"), 401, "token_missing")
    assert_problem(await host.get("/api/profile", headers={"Authorization": "Bearer nonsense"}), 401, "token_invalid")


async def test_principal_from_cookie(host):
    await log_in(host)

    response = await host.get("/api/profile")

    assert response.status_code == 200, response.text
    assert response.json()["user_id"] == str(account("alice")["id"])
    sessions = (await host.get("/auth/sessions")).json()
    assert response.json()["session_id"] == sessions[0]["id"]


async def test_principal_from_bearer(host):
    tokens = (await log_in(host, "bob", **{"X-Token-Transport": "body"})).json()

    response = await host.post("/api/notes", json={"text": "hi"}, headers={"Authorization": f"Bearer {tokens['access_token']}"})

    assert response.status_code == 201, response.text
    assert response.json() == {"owner": str(account("bob")["id"]), "text": "hi"}


async def test_unsafe_cookie_request_needs_csrf(host):
    await log_in(host)

    assert_problem(await host.post("/api/notes", json={"text": "hi"}), 403, "csrf_failed")
    response = await host.post("/api/notes", json={"text": "hi"}, headers=csrf_headers(host))
    assert response.status_code == 201, response.text


async def test_revocation_reaches_host_routes(host):
    await log_in(host)
    access = host.cookies["access_token"]
    assert (await host.post("/auth/logout", headers=csrf_headers(host))).status_code == 204

    response = await host.get("/api/profile", headers={"Authorization": f"Bearer {access}"})

    assert_problem(response, 401, "token_revoked")


async def test_expired_token_then_refresh(host):
    await log_in(host)
    host.clock.advance(timedelta(minutes=20))

    assert_problem(await host.get("/api/profile"), 401, "token_expired")
    assert (await host.post("/auth/refresh", headers=csrf_headers(host))).status_code == 200
    assert (await host.get("/api/profile")).status_code == 200


async def test_keyturn_routes_stay_reachable(host):
    assert (await host.get("/.well-known/jwks.json")).status_code == 200
    assert (await host.get("/schema/openapi.json")).status_code == 200
    assert_problem(await host.get("/auth/me"), 401, "token_missing")
