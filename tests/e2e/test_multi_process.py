"""Two Keyturn processes sharing PostgreSQL and Redis behave as one service."""

from __future__ import annotations

import uuid

import pytest

from tests.conftest import account
from tests.e2e.processes import clean_environment, request, start_keyturn, stop
from tests.integration.postgres_support import create_legacy_postgres_database
from tests.integration.redis_support import REDIS_URL

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


@pytest.fixture
async def shared_stores(redis_target):
    url, drop = await create_legacy_postgres_database()
    try:
        yield url, redis_target.prefix
    finally:
        await drop()


async def test_two_processes_share_state(shared_stores, tmp_path):
    database_url, redis_prefix = shared_stores
    env = clean_environment(
        APP_ENV="production",
        SESSION_SECRET="multi-process-secret-" + uuid.uuid4().hex,
        KEYTURN_DATABASE_URL=database_url,
        KEYTURN_REDIS_URL=REDIS_URL,
        KEYTURN_REDIS_PREFIX=redis_prefix,
        KEYTURN_STORE_TIMEOUT_MS="5000",
    )
    port_a, process_a = start_keyturn(env, tmp_path)
    port_b, process_b = start_keyturn(env, tmp_path)
    try:
        alice = account("alice")
        status, login_cookies, _ = request(port_a, "POST", "/auth/login", {"login": "alice", "password": alice["password"]})
        assert status == 200
        first_access = login_cookies["access_token"]

        csrf = login_cookies["csrf_token"]
        refresh_cookies = {"refresh_token": login_cookies["refresh_token"], "csrf_token": csrf}
        status, refreshed, _ = request(
            port_b, "POST", "/auth/refresh", cookies=refresh_cookies, extra_headers={"X-CSRF-Token": csrf}
        )
        assert status == 200
        assert refreshed["refresh_token"] != login_cookies["refresh_token"]

        status, _, body = request(port_a, "GET", "/auth/me", cookies={"access_token": refreshed["access_token"]})
        assert status == 200
        assert body["id"] == "1"

        status, _, _ = request(port_b, "POST", "/auth/logout", cookies=refreshed, extra_headers={"X-CSRF-Token": csrf})
        assert status == 204

        for access in (first_access, refreshed["access_token"]):
            status, _, body = request(port_a, "GET", "/auth/me", cookies={"access_token": access})
            assert status == 401
            assert body["code"] == "token_revoked"
        status, _, body = request(
            port_a,
            "POST",
            "/auth/refresh",
            cookies={"refresh_token": refreshed["refresh_token"], "csrf_token": csrf},
            extra_headers={"X-CSRF-Token": csrf},
        )
        assert status == 401
        assert body["code"] == "token_revoked"
    finally:
        stop(process_a)
        stop(process_b)
