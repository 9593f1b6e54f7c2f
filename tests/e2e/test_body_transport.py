"""``X-Token-Transport: body``: tokens in the JSON body for clients that send ``Authorization: Bearer``."""

from __future__ import annotations

from datetime import datetime

from tests.conftest import account
from tests.e2e.http_helpers import assert_problem

BODY = {"X-Token-Transport": "body"}


async def body_login(service, username: str = "alice"):
    body = {"login": username, "password": account(username)["password"]}
    response = await service.client.post("/auth/login", json=body, headers=BODY)
    assert response.status_code == 200, response.text
    return response


async def test_login_returns_body_tokens(service):
    response = await body_login(service)

    body = response.json()
    assert "set-cookie" not in response.headers
    assert body["token_type"] == "Bearer"
    assert body["access_token"] and body["refresh_token"]
    assert datetime.fromisoformat(body["access_expires_at"]) < datetime.fromisoformat(body["refresh_expires_at"])
    assert response.headers["cache-control"] == "no-store"
    me = await service.client.get("/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.json()["username"] == "alice"


async def test_body_refresh_needs_no_csrf(service):
    first = (await body_login(service)).json()

    response = await service.client.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})

    assert response.status_code == 200, response.text
    assert "set-cookie" not in response.headers
    second = response.json()
    assert second["refresh_token"] not in (None, first["refresh_token"])
    me = await service.client.get("/auth/me", headers={"Authorization": f"Bearer {second['access_token']}"})
    assert me.status_code == 200


async def test_logout_bearer_and_body(service):
    tokens = (await body_login(service)).json()
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}

    response = await service.client.post("/auth/logout", json={"refresh_token": tokens["refresh_token"]}, headers=bearer)

    assert response.status_code == 204
    assert_problem(await service.client.get("/auth/me", headers=bearer), 401, "token_revoked")
    rejected = await service.client.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert_problem(rejected, 401, "token_revoked")


async def test_logout_body_token_only(service):
    tokens = (await body_login(service)).json()

    response = await service.client.post("/auth/logout", json={"refresh_token": tokens["refresh_token"]})

    assert response.status_code == 204
    rejected = await service.client.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert_problem(rejected, 401, "token_revoked")


async def test_bearer_on_account_routes(service):
    tokens = (await body_login(service)).json()
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}

    listed = await service.client.get("/auth/sessions", headers=bearer)
    assert listed.status_code == 200
    assert len(listed.json()) == 1
    assert (await service.client.post("/auth/logout-all", headers=bearer)).status_code == 204


async def test_malformed_refresh_body(service):
    for raw in (b"not json", b"[]", b'{"refresh_token": 5}', b'{"other": "x"}'):
        response = await service.client.post(
            "/auth/refresh", content=raw, headers={"Content-Type": "application/json"}
        )
        assert_problem(response, 422, "invalid_request")


async def test_cookie_session_refreshes_to_body(service):
    await service.client.post("/auth/login", json={"login": "alice", "password": account("alice")["password"]})
    headers = {**BODY, "X-CSRF-Token": service.client.cookies["csrf_token"]}

    response = await service.client.post("/auth/refresh", headers=headers)

    assert response.status_code == 200, response.text
    assert response.json()["access_token"]
    assert "set-cookie" not in response.headers
