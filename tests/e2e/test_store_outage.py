"""Keyturn fails closed while Redis is down and recovers by itself when it returns."""

from __future__ import annotations

import logging

import pytest

from tests.conftest import account
from tests.e2e.conftest import make_settings, running_service
from tests.e2e.http_helpers import assert_problem, csrf_headers, login
from tests.e2e.processes import free_port, start_redis, stop

pytestmark = pytest.mark.redis


@pytest.fixture
def redis_port():
    port = free_port()
    process = start_redis(port)
    state = {"process": process}
    yield port, state
    stop(state["process"])


async def test_redis_outage_fails_closed(legacy_db, redis_port, caplog):
    from adapters.sql import migrate

    port, state = redis_port
    settings = make_settings(legacy_db, KEYTURN_REDIS_URL=f"redis://127.0.0.1:{port}/0", KEYTURN_STORE_TIMEOUT_MS="250")
    await migrate.upgrade(settings.database_url, settings.users_table)
    async with running_service(settings, "sqlite-redis") as service:
        assert (await login(service, "alice", account("alice")["password"])).status_code == 200
        assert (await service.client.get("/auth/me")).status_code == 200

        stop(state["process"])
        caplog.set_level(logging.ERROR)
        for _ in range(5):
            response = await service.client.get("/auth/me")
            assert_problem(response, 503, "store_unavailable")
            assert response.headers["retry-after"] == "1"
        assert_problem(await login(service, "bob", account("bob")["password"]), 503, "store_unavailable")
        assert_problem(await service.client.post("/auth/refresh", headers=csrf_headers(service.client)), 503, "store_unavailable")
        ready = await service.client.get("/health/ready")
        assert_problem(ready, 503, "store_unavailable")
        outage_lines = [record for record in caplog.records if "unavailable" in record.getMessage()]
        assert len(outage_lines) == 1

        state["process"] = start_redis(port)
        assert (await service.client.get("/health/ready")).status_code == 200
        assert (await login(service, "alice", account("alice")["password"])).status_code == 200
        assert (await service.client.get("/auth/me")).status_code == 200
