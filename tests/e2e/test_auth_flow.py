"""The login, call, refresh and logout flow over HTTP against the legacy users table."""

from datetime import timedelta

import jwt
import pytest

from tests.conftest import account, legacy_accounts
from tests.e2e.http_helpers import (
    assert_problem,
    cookie_header,
    csrf_headers,
    login,
    max_age,
    refresh_cookie_headers,
    set_cookie_headers,
)

@pytest.mark.parametrize("item", legacy_accounts(), ids=lambda item: item["username"])
async def test_fixture_account_login(service, item):
    password = item["password"] if item["password"] is not None else "any password at all"

    response = await login(service, item["email"], password)

    should_succeed = item["active"] and item["password"] is not None
    if should_succeed:
        assert response.status_code == 200, response.text
        assert response.json()["user_id"] == str(item["id"])
    else:
        assert_problem(response, 401, "invalid_credentials")


@pytest.mark.parametrize("login_name", ["bob.smith@example.com", "BOB.SMITH@EXAMPLE.COM", "bob.smith@Example.COM", "bob"])
async def test_bob_any_email_case(service, login_name):
    response = await login(service, login_name, account("bob")["password"])

    assert response.status_code == 200, response.text
    assert response.json()["user_id"] == "2"


async def test_wrong_password_invalid_credentials(service):
    assert_problem(await login(service, "alice", "wrong password"), 401, "invalid_credentials")


async def test_stripped_password_rejected(service):
    erin = account("erin")

    assert_problem(await login(service, "erin", erin["password"].strip()), 401, "invalid_credentials")


async def test_login_sets_cookie_attributes(service):
    alice = account("alice")

    response = await login(service, "alice", alice["password"])

    cookies = set_cookie_headers(response)
    access = cookies["access_token"].lower()
    refresh = cookies["refresh_token"].lower()
    for header in (access, refresh):
        assert "httponly" in header
        assert "secure" in header
        assert "samesite=lax" in header
        assert "max-age=" in header
    assert "path=/;" in access or access.endswith("path=/")
    assert "path=/auth" in refresh
    assert 895 <= max_age(access) <= 900
    assert 14 * 24 * 3600 - 5 <= max_age(refresh) <= 14 * 24 * 3600
    assert response.headers["cache-control"] == "no-store"


async def test_full_flow(service):
    alice = account("alice")
    client = service.client

    assert (await login(service, "alice@example.com", alice["password"])).status_code == 200
    first_access = client.cookies["access_token"]
    first_refresh = client.cookies["refresh_token"]

    me = await client.get("/auth/me")
    assert me.status_code == 200
    assert me.json() == {"id": "1", "email": "alice@example.com", "username": "alice"}

    refreshed = await client.post("/auth/refresh", headers=csrf_headers(client))
    assert refreshed.status_code == 200, refreshed.text
    assert client.cookies["refresh_token"] != first_refresh
    assert client.cookies["access_token"] != first_access

    service.clock.advance(timedelta(seconds=11))
    replay = await client.post("/auth/refresh", headers=refresh_cookie_headers(first_refresh, client.cookies["csrf_token"]))
    assert_problem(replay, 401, "refresh_reused")


async def test_old_refresh_token_rejected_after_rotation(service):
    alice = account("alice")
    await login(service, "alice", alice["password"])
    client = service.client
    first_refresh = client.cookies["refresh_token"]
    csrf = client.cookies["csrf_token"]
    await client.post("/auth/refresh", headers=csrf_headers(client))
    service.clock.advance(timedelta(seconds=11))

    client.cookies.clear()
    response = await client.post("/auth/refresh", headers=refresh_cookie_headers(first_refresh, csrf))

    assert_problem(response, 401, "refresh_reused")


async def test_logout_revokes_tokens(service):
    alice = account("alice")
    await login(service, "alice", alice["password"])
    client = service.client
    access = client.cookies["access_token"]
    refresh = client.cookies["refresh_token"]
    csrf = client.cookies["csrf_token"]

    response = await client.post("/auth/logout", headers=csrf_headers(client))

    assert response.status_code == 204
    cleared = set_cookie_headers(response)
    assert "max-age=0" in cleared["access_token"].lower()
    assert "path=/auth" in cleared["refresh_token"].lower()
    assert "secure" in cleared["refresh_token"].lower()
    client.cookies.clear()
    assert_problem(await client.get("/auth/me", headers=cookie_header("access_token", access)), 401, "token_revoked")
    assert_problem(
        await client.get("/auth/me", headers={"Authorization": f"Bearer {access}"}), 401, "token_revoked"
    )
    assert "max-age=0" in cleared["csrf_token"].lower()
    assert_problem(await client.post("/auth/refresh", headers=refresh_cookie_headers(refresh, csrf)), 401, "token_revoked")


async def test_bearer_header_accepted(service):
    alice = account("alice")
    await login(service, "alice", alice["password"])
    access = service.client.cookies["access_token"]
    service.client.cookies.clear()

    response = await service.client.get("/auth/me", headers={"Authorization": f"Bearer {access}"})

    assert response.json()["id"] == "1"


async def test_big_user_id_is_string(service):
    ivan = account("ivan")
    await login(service, "ivan", ivan["password"])

    me = await service.client.get("/auth/me")

    assert me.json()["id"] == "2147483653"
    assert jwt.decode(service.client.cookies["access_token"], options={"verify_signature": False})["sub"] == "2147483653"


@pytest.mark.parametrize(("seconds_past_exp", "code"), [(30, None), (90, "token_expired")])
async def test_leeway_on_expired_token(service, seconds_past_exp, code):
    alice = account("alice")
    await login(service, "alice", alice["password"])
    service.clock.advance(timedelta(minutes=15, seconds=seconds_past_exp))

    response = await service.client.get("/auth/me")

    if code is None:
        assert response.status_code == 200
    else:
        assert_problem(response, 401, code)


async def test_me_without_token(service):
    assert_problem(await service.client.get("/auth/me"), 401, "token_missing")


async def test_refresh_without_cookie(service):
    assert_problem(await service.client.post("/auth/refresh"), 401, "token_missing")
