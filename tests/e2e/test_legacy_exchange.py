"""``POST /auth/session-exchange``: every legacy fixture cookie over HTTP, on both backends."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from itsdangerous import URLSafeTimedSerializer

from adapters.csrf_tokens import CsrfTokens
from tests.conftest import LEGACY_FIXTURES
from tests.e2e.conftest import BACKENDS, LegacyPostgresTemplate, Service, start_postgres_redis, start_sqlite
from tests.e2e.http_helpers import assert_problem, csrf_headers, max_age, set_cookie_headers

LEGACY = json.loads((LEGACY_FIXTURES / "legacy_session_cookies.json").read_text(encoding="utf-8"))
LEGACY_SECRET = LEGACY["session_secret"]
COOKIES = LEGACY["cookies"]
AUDIT_LOGGER = "keyturn.audit"

ACCEPTED = {"valid_alice": "1", "valid_big_id_user": "2147483653"}
REJECTED = {
    "inactive_frank": "legacy_session_account_unavailable",
    "unknown_user": "legacy_session_account_unavailable",
    "wrong_secret": "legacy_session_invalid",
    "tampered": "legacy_session_invalid",
    "older_than_31_days": "legacy_session_expired",
}


def issued_at(cookie: str) -> datetime:
    """Read the signing time from the cookie's itsdangerous timestamp."""
    serializer = URLSafeTimedSerializer(
        LEGACY_SECRET, salt="cookie-session", signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha1}
    )
    return serializer.loads(cookie, return_timestamp=True)[1]


# The valid fixture cookies were all signed at this moment; the service's clock
# stands a little after it, so they are fresh and the 40-day-old one is not.
FIXTURE_TIME = issued_at(COOKIES["valid_alice"]) + timedelta(minutes=5)


async def start(legacy_db: Path, backend: str, template: LegacyPostgresTemplate, stack: AsyncExitStack, **env) -> Service:
    overrides = {"SESSION_SECRET": LEGACY_SECRET, **env}
    if backend == "sqlite":
        service = await start_sqlite(legacy_db, stack, **overrides)
    else:
        service = await start_postgres_redis(legacy_db, template, stack, **overrides)
    service.clock.set(FIXTURE_TIME)
    return service


@pytest.fixture(params=BACKENDS)
async def legacy_service(request, legacy_db, legacy_postgres_template) -> AsyncIterator[Service]:
    """The app whose SESSION_SECRET is the legacy Flask secret, with its clock at the fixture cookies' time."""
    async with AsyncExitStack() as stack:
        yield await start(legacy_db, request.param, legacy_postgres_template, stack)


def exchange(service: Service, cookie: str | None, **headers: str):
    # Raw bytes, so a test can send what a browser might, not only ASCII.
    cookies = {"Cookie": f"session={cookie}".encode("utf-8")} if cookie is not None else {}
    return service.client.post("/auth/session-exchange", headers={**cookies, **headers})


@pytest.mark.parametrize("name", sorted(ACCEPTED))
async def test_valid_cookie_opens_session(legacy_service, name):
    response = await exchange(legacy_service, COOKIES[name])

    assert response.status_code == 200, response.text
    assert response.json()["user_id"] == ACCEPTED[name]
    issued = set_cookie_headers(response)
    assert {"access_token", "refresh_token", "csrf_token", "session"} <= issued.keys()
    me = await legacy_service.client.get("/auth/me")
    assert me.status_code == 200, me.text
    assert me.json()["id"] == ACCEPTED[name]


async def test_exchange_expires_the_legacy_cookie(legacy_service):
    response = await exchange(legacy_service, COOKIES["valid_alice"])

    expired = set_cookie_headers(response)["session"]
    assert max_age(expired) == 0
    assert "path=/;" in expired.lower() + ";"
    assert "domain" not in expired.lower()


async def test_csrf_bound_to_new_session(legacy_service):
    await exchange(legacy_service, COOKIES["valid_alice"])
    sessions = await legacy_service.client.get("/auth/sessions")
    session_id = next(item["id"] for item in sessions.json() if item["current"])

    assert legacy_service.client.cookies["csrf_token"] == CsrfTokens(LEGACY_SECRET).token_for(session_id)
    response = await legacy_service.client.post("/auth/refresh", headers=csrf_headers(legacy_service.client))
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("name", sorted(REJECTED))
async def test_rejected_cookie_code(legacy_service, name):
    response = await exchange(legacy_service, COOKIES[name])

    assert_problem(response, 401, REJECTED[name])
    assert "access_token" not in set_cookie_headers(response)


async def test_replayed_cookie_is_refused(legacy_service):
    assert (await exchange(legacy_service, COOKIES["valid_alice"])).status_code == 200
    legacy_service.client.cookies.clear()

    assert_problem(await exchange(legacy_service, COOKIES["valid_alice"]), 401, "legacy_session_reused")


async def test_concurrent_exchange_one_winner(legacy_service):
    responses = await asyncio.gather(*(exchange(legacy_service, COOKIES["valid_big_id_user"]) for _ in range(6)))

    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200] + [401] * 5
    for response in responses:
        if response.status_code == 401:
            assert response.json()["code"] == "legacy_session_reused"


async def test_missing_cookie(legacy_service):
    assert_problem(await exchange(legacy_service, None), 401, "legacy_session_missing")


@pytest.mark.parametrize("value", ["", "garbage", ".", "..", ".eJw.x.y", "a" * 9000, "é", COOKIES["valid_alice"][:-3]])
async def test_malformed_cookie_is_invalid(sqlite_service_with_legacy_secret, value):
    response = await exchange(sqlite_service_with_legacy_secret, value)

    assert response.status_code == 401, response.text
    assert response.json()["code"] in {"legacy_session_invalid", "legacy_session_missing"}


@pytest.fixture
async def sqlite_service_with_legacy_secret(legacy_db, legacy_postgres_template) -> AsyncIterator[Service]:
    async with AsyncExitStack() as stack:
        yield await start(legacy_db, "sqlite", legacy_postgres_template, stack)


async def test_max_age_setting_applies(legacy_db, legacy_postgres_template):
    async with AsyncExitStack() as stack:
        service = await start(
            legacy_db, "sqlite", legacy_postgres_template, stack, KEYTURN_LEGACY_SESSION_MAX_AGE="3600"
        )
        service.clock.set(issued_at(COOKIES["valid_alice"]) + timedelta(hours=1, seconds=1))

        assert_problem(await exchange(service, COOKIES["valid_alice"]), 401, "legacy_session_expired")


async def test_previous_secret_cookie_exchanges(legacy_db, legacy_postgres_template):
    async with AsyncExitStack() as stack:
        service = await start(
            legacy_db,
            "sqlite",
            legacy_postgres_template,
            stack,
            SESSION_SECRET="a-new-secret-after-rotation-0123456789abcdef",
            SESSION_SECRET_PREVIOUS=LEGACY_SECRET,
        )

        assert (await exchange(service, COOKIES["valid_alice"])).status_code == 200


async def test_body_transport_custom_cookie(legacy_db, legacy_postgres_template):
    async with AsyncExitStack() as stack:
        service = await start(
            legacy_db,
            "sqlite",
            legacy_postgres_template,
            stack,
            KEYTURN_LEGACY_COOKIE_NAME="legacy_sid",
            KEYTURN_LEGACY_COOKIE_DOMAIN="example.com",
        )
        response = await service.client.post(
            "/auth/session-exchange",
            headers={"Cookie": f"legacy_sid={COOKIES['valid_alice']}", "X-Token-Transport": "body"},
        )

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["access_token"] and body["refresh_token"]
    issued = set_cookie_headers(response)
    assert set(issued) == {"legacy_sid"}
    assert "domain=example.com" in issued["legacy_sid"].lower()


async def test_exchange_is_audited(legacy_service, caplog):
    with caplog.at_level(logging.INFO, logger=AUDIT_LOGGER):
        await exchange(legacy_service, COOKIES["valid_alice"])
        await exchange(legacy_service, COOKIES["tampered"])

    events = [json.loads(record.getMessage()) for record in caplog.records if record.name == AUDIT_LOGGER]
    exchanged = [event for event in events if event["event"] == "legacy_session_exchanged"]
    assert [(event["outcome"], event["user_id"], event["reason"]) for event in exchanged] == [
        ("success", "1", None),
        ("failure", None, "legacy_session_invalid"),
    ]
    assert all(COOKIES["valid_alice"] not in record.getMessage() for record in caplog.records)
