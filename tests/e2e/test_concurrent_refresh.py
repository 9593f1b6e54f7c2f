"""Many refreshes with one refresh token at the same moment, against the SQLite-backed app."""

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest

from tests.conftest import account
from tests.e2e.http_helpers import cookie_header, set_cookie_headers

CONCURRENT_REQUESTS = 20


@pytest.fixture
async def asgi_client(service) -> AsyncIterator[httpx.AsyncClient]:
    """A client that runs the app on the test's own event loop.

    Litestar's ``AsyncTestClient`` (2.25) runs each request on a blocking
    portal and waits for it, so requests sent with ``asyncio.gather``
    through it still run one after another. ``httpx.ASGITransport`` awaits the app
    directly, so gathered requests interleave at every ``await`` in the app.
    """
    transport = httpx.ASGITransport(app=service.client.app)
    async with httpx.AsyncClient(transport=transport, base_url=str(service.client.base_url)) as client:
        yield client


async def test_concurrent_refresh_one_rotation(service, asgi_client):
    login = await asgi_client.post("/auth/login", json={"login": "alice", "password": account("alice")["password"]})
    assert login.status_code == 200, login.text
    refresh = asgi_client.cookies["refresh_token"]
    asgi_client.cookies.clear()

    responses = await asyncio.gather(
        *(
            asgi_client.post("/auth/refresh", headers=cookie_header("refresh_token", refresh))
            for _ in range(CONCURRENT_REQUESTS)
        )
    )

    statuses = [response.status_code for response in responses]
    assert 500 not in statuses
    assert statuses == [200] * CONCURRENT_REQUESTS
    issued = [set_cookie_headers(response) for response in responses]
    assert all("access_token" in cookies for cookies in issued)
    rotated = [response for response, cookies in zip(responses, issued) if "refresh_token" in cookies]
    assert len(rotated) == 1
    new_refresh = rotated[0].cookies["refresh_token"]
    assert new_refresh != refresh

    service.clock.advance(timedelta(seconds=11))
    asgi_client.cookies.clear()
    again = await asgi_client.post("/auth/refresh", headers=cookie_header("refresh_token", new_refresh))
    assert again.status_code == 200, again.text
    assert "refresh_token" in set_cookie_headers(again)
    me = await asgi_client.get("/auth/me", headers=cookie_header("access_token", again.cookies["access_token"]))
    assert me.status_code == 200, me.text
    assert me.json()["username"] == "alice"


async def test_concurrent_refresh_all_access_valid(service, asgi_client):
    login = await asgi_client.post("/auth/login", json={"login": "alice", "password": account("alice")["password"]})
    assert login.status_code == 200, login.text
    refresh = asgi_client.cookies["refresh_token"]
    asgi_client.cookies.clear()

    responses = await asyncio.gather(
        *(
            asgi_client.post("/auth/refresh", headers=cookie_header("refresh_token", refresh))
            for _ in range(CONCURRENT_REQUESTS)
        )
    )

    access_tokens = {response.cookies["access_token"] for response in responses}
    assert len(access_tokens) == CONCURRENT_REQUESTS
    for access in access_tokens:
        me = await asgi_client.get("/auth/me", headers=cookie_header("access_token", access))
        assert me.status_code == 200, me.text
