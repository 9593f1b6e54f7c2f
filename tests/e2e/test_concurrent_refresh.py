"""Many refreshes with one refresh token at the same moment, on each backend."""

import asyncio
from datetime import timedelta

import httpx
import pytest

from tests.conftest import account
from tests.e2e.http_helpers import cookie_header, refresh_cookie_headers, set_cookie_headers

CONCURRENT_REQUESTS = 20


@pytest.fixture
def asgi_client(service) -> httpx.AsyncClient:
    """The service's client, which awaits the app on the test's loop, so gathered requests interleave."""
    return service.client


async def test_concurrent_refresh_one_rotation(service, asgi_client):
    login = await asgi_client.post("/auth/login", json={"login": "alice", "password": account("alice")["password"]})
    assert login.status_code == 200, login.text
    refresh = asgi_client.cookies["refresh_token"]
    csrf = asgi_client.cookies["csrf_token"]
    asgi_client.cookies.clear()

    responses = await asyncio.gather(
        *(
            asgi_client.post("/auth/refresh", headers=refresh_cookie_headers(refresh, csrf))
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
    again = await asgi_client.post("/auth/refresh", headers=refresh_cookie_headers(new_refresh, csrf))
    assert again.status_code == 200, again.text
    assert "refresh_token" in set_cookie_headers(again)
    me = await asgi_client.get("/auth/me", headers=cookie_header("access_token", again.cookies["access_token"]))
    assert me.status_code == 200, me.text
    assert me.json()["username"] == "alice"


async def test_concurrent_refresh_all_access_valid(service, asgi_client):
    login = await asgi_client.post("/auth/login", json={"login": "alice", "password": account("alice")["password"]})
    assert login.status_code == 200, login.text
    refresh = asgi_client.cookies["refresh_token"]
    csrf = asgi_client.cookies["csrf_token"]
    asgi_client.cookies.clear()

    responses = await asyncio.gather(
        *(
            asgi_client.post("/auth/refresh", headers=refresh_cookie_headers(refresh, csrf))
            for _ in range(CONCURRENT_REQUESTS)
        )
    )

    access_tokens = {response.cookies["access_token"] for response in responses}
    assert len(access_tokens) == CONCURRENT_REQUESTS
    for access in access_tokens:
        me = await asgi_client.get("/auth/me", headers=cookie_header("access_token", access))
        assert me.status_code == 200, me.text
