"""Crafted and malformed input gets a problem detail with a stable code, never a 500."""

import base64
import json
import os

import jwt
import pytest

from tests.conftest import account
from tests.e2e.http_helpers import assert_problem, cookie_header, login


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


async def valid_access_token(service) -> str:
    await login(service, "alice", account("alice")["password"])
    token = service.client.cookies["access_token"]
    service.client.cookies.clear()
    return token


async def me_with(service, token: str):
    return await service.client.get("/auth/me", headers={"Authorization": f"Bearer {token}"})


async def test_alg_none_rejected(service):
    token = await valid_access_token(service)
    header, payload, _ = token.split(".")
    unsigned_header = json.loads(base64.urlsafe_b64decode(header + "=="))
    unsigned_header["alg"] = "none"

    response = await me_with(service, f"{b64(json.dumps(unsigned_header).encode())}.{payload}.")

    assert_problem(response, 401, "token_invalid")


async def test_token_signed_with_other_key_rejected(service):
    token = await valid_access_token(service)
    claims = jwt.decode(token, options={"verify_signature": False})
    forged = jwt.encode(claims, b"attacker-key-" * 4, algorithm="HS256", headers=jwt.get_unverified_header(token))

    assert_problem(await me_with(service, forged), 401, "token_invalid")


async def test_truncated_token_rejected(service):
    token = await valid_access_token(service)

    assert_problem(await me_with(service, token[: len(token) // 2]), 401, "token_invalid")


@pytest.mark.parametrize("seed", range(5))
async def test_random_bytes_rejected(service, seed):
    junk = b64(os.urandom(64 + seed))

    assert_problem(await me_with(service, junk), 401, "token_invalid")
    assert_problem(await service.client.get("/auth/me", headers=cookie_header("access_token", junk)), 401, "token_invalid")


async def test_non_bearer_scheme_rejected(service):
    response = await service.client.get("/auth/me", headers={"Authorization": "Basic YWxpY2U6eA=="})

    assert_problem(response, 401, "token_invalid")


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"[]",
        b'{"login": "alice"}',
        b'{"login": 1, "password": 2}',
        b'{"login": "", "password": "x"}',
        b'{"login": "alice", "password": "x", "extra": 1}',
        json.dumps({"login": "alice", "password": "x" * 5000}).encode(),
    ],
)
async def test_malformed_login_body(service, body):
    response = await service.client.post(
        "/auth/login", content=body, headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] in {"invalid_request"}


async def test_validation_error_never_echoes_password(service):
    response = await service.client.post("/auth/login", json={"login": "alice", "password": 12345678901})

    assert "12345678901" not in response.text


@pytest.mark.parametrize("cookie", ["", "x", "a" * 43, "é", "a" * 10_000])
async def test_bad_refresh_cookie(service, cookie):
    response = await service.client.post("/auth/refresh", headers=cookie_header("refresh_token", cookie))

    assert response.status_code == 401
    assert response.json()["code"] in {"token_invalid", "token_missing"}


async def test_unknown_route_is_problem(service):
    assert_problem(await service.client.get("/nope"), 404, "not_found")


async def test_wrong_method_is_problem(service):
    assert_problem(await service.client.get("/auth/login"), 405, "method_not_allowed")
