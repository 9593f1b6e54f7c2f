"""CSRF protection of cookie-authenticated requests, over HTTP on both backends."""

from __future__ import annotations

from datetime import timedelta

import pytest

from adapters.csrf_tokens import CsrfTokens
from tests.conftest import account
from tests.e2e.conftest import SECRET, make_settings, running_service
from tests.e2e.http_helpers import (
    assert_problem,
    cookie_header,
    csrf_headers,
    login,
    max_age,
    refresh_cookie_headers,
    set_cookie_headers,
)
from adapters.sql import migrate


def fixed_attributes(set_cookie: str) -> list[str]:
    """Return the attributes of a Set-Cookie header other than its lifetime."""
    parts = [part.strip().lower() for part in set_cookie.split(";")[1:]]
    return sorted(part for part in parts if not part.startswith(("max-age", "expires")))


async def log_in_alice(service):
    response = await login(service, "alice", account("alice")["password"])
    assert response.status_code == 200, response.text
    return response


async def current_session(client) -> str:
    listed = await client.get("/auth/sessions")
    return next(item["id"] for item in listed.json() if item["current"])


async def test_login_sets_bound_csrf_cookie(service):
    response = await log_in_alice(service)

    csrf = set_cookie_headers(response)["csrf_token"].lower()
    assert "httponly" not in csrf
    assert "path=/;" in csrf
    assert "secure" in csrf
    assert "samesite=lax" in csrf
    assert max_age(csrf) == max_age(set_cookie_headers(response)["refresh_token"])
    session_id = await current_session(service.client)
    assert service.client.cookies["csrf_token"] == CsrfTokens(SECRET).token_for(session_id)


UNSAFE_CALLS = [
    ("POST", "/auth/refresh", None),
    ("POST", "/auth/logout", None),
    ("POST", "/auth/logout-all", None),
    ("POST", "/auth/password", {"current_password": "x", "new_password": "a long new password"}),
    ("DELETE", "/auth/sessions/{session}", None),
]


@pytest.mark.parametrize(("method", "path", "body"), UNSAFE_CALLS)
@pytest.mark.parametrize("header", [None, "", "wrong-token"])
async def test_unsafe_request_needs_header(service, method, path, body, header):
    await log_in_alice(service)
    client = service.client
    session = await current_session(client)
    headers = {} if header is None else {"X-CSRF-Token": header}

    response = await client.request(method, path.format(session=session), json=body, headers=headers)

    assert_problem(response, 403, "csrf_failed")
    assert "set-cookie" not in response.headers
    assert (await client.get("/auth/me")).status_code == 200
    assert (await client.get("/auth/sessions")).json()[0]["id"] == session


async def test_rejected_refresh_keeps_token(service):
    await log_in_alice(service)
    client = service.client
    refresh = client.cookies["refresh_token"]

    assert_problem(await client.post("/auth/refresh"), 403, "csrf_failed")
    service.clock.advance(timedelta(seconds=30))
    response = await client.post("/auth/refresh", headers=csrf_headers(client))

    # Had the rejected call rotated the token, this one would be a reuse after the grace window.
    assert response.status_code == 200, response.text
    assert client.cookies["refresh_token"] != refresh


async def test_header_must_match_the_cookie(service):
    await log_in_alice(service)
    client = service.client
    genuine = client.cookies["csrf_token"]
    client.cookies.set("csrf_token", "planted", domain="testserver.local", path="/")

    assert_problem(await client.post("/auth/logout-all", headers={"X-CSRF-Token": genuine}), 403, "csrf_failed")


async def test_other_session_token_rejected(service, open_client):
    await log_in_alice(service)
    other = await open_client()
    assert (await other.post("/auth/login", json={"login": "bob", "password": account("bob")["password"]})).status_code == 200
    # Cookie tossing: the attacker's own, correctly signed CSRF token planted in the victim's jar.
    foreign = other.cookies["csrf_token"]
    service.client.cookies.set("csrf_token", foreign, domain="testserver.local", path="/")

    response = await service.client.post("/auth/logout-all", headers={"X-CSRF-Token": foreign})

    assert_problem(response, 403, "csrf_failed")


async def test_refresh_checks_refresh_session(service, open_client):
    await log_in_alice(service)
    victim_refresh = service.client.cookies["refresh_token"]
    other = await open_client()
    await other.post("/auth/login", json={"login": "bob", "password": account("bob")["password"]})

    response = await other.post("/auth/refresh", headers=refresh_cookie_headers(victim_refresh, other.cookies["csrf_token"]))

    assert_problem(response, 403, "csrf_failed")


async def test_bearer_requests_are_exempt(service):
    await log_in_alice(service)
    access = service.client.cookies["access_token"]
    service.client.cookies.clear()

    response = await service.client.post("/auth/logout-all", headers={"Authorization": f"Bearer {access}"})

    assert response.status_code == 204, response.text


async def test_safe_methods_need_no_header(service):
    await log_in_alice(service)

    assert (await service.client.get("/auth/me")).status_code == 200
    assert (await service.client.get("/auth/sessions")).status_code == 200


async def test_expiry_reported_before_csrf(service):
    await log_in_alice(service)
    service.clock.advance(timedelta(minutes=20))

    assert_problem(await service.client.post("/auth/logout-all"), 401, "token_expired")


async def test_expired_logout_needs_csrf(service):
    await log_in_alice(service)
    client = service.client
    service.clock.advance(timedelta(minutes=20))

    assert_problem(await client.post("/auth/logout"), 403, "csrf_failed")
    response = await client.post("/auth/logout", headers=csrf_headers(client))

    assert response.status_code == 204


async def test_logout_clears_csrf_cookie(service):
    login_response = await log_in_alice(service)
    issued = set_cookie_headers(login_response)["csrf_token"]

    response = await service.client.post("/auth/logout", headers=csrf_headers(service.client))

    cleared = set_cookie_headers(response)["csrf_token"]
    assert max_age(cleared) == 0
    assert fixed_attributes(cleared) == fixed_attributes(issued)
    assert "csrf_token" not in service.client.cookies


async def test_revoke_current_clears_csrf(service):
    await log_in_alice(service)
    session = await current_session(service.client)

    response = await service.client.delete(f"/auth/sessions/{session}", headers=csrf_headers(service.client))

    assert max_age(set_cookie_headers(response)["csrf_token"]) == 0


async def test_login_and_exchange_are_exempt(service):
    assert (await login(service, "alice", account("alice")["password"])).status_code == 200
    assert_problem(await service.client.post("/auth/session-exchange"), 401, "legacy_session_missing")


async def test_host_prefix_cookies(legacy_db):
    settings = make_settings(legacy_db, KEYTURN_COOKIE_HOST_PREFIX="true")
    await migrate.upgrade(settings.database_url, settings.users_table)
    async with running_service(settings, "sqlite") as service:
        response = await log_in_alice(service)
        issued = set_cookie_headers(response)
        assert set(issued) == {"__Host-access_token", "__Secure-refresh_token", "__Host-csrf_token"}
        for name in ("__Host-access_token", "__Host-csrf_token"):
            assert "path=/;" in issued[name].lower()
            assert "domain" not in issued[name].lower()
            assert "secure" in issued[name].lower()
        assert "path=/auth" in issued["__Secure-refresh_token"].lower()
        csrf = service.client.cookies["__Host-csrf_token"]

        assert_problem(await service.client.post("/auth/refresh"), 403, "csrf_failed")
        refreshed = await service.client.post("/auth/refresh", headers={"X-CSRF-Token": csrf})
        assert refreshed.status_code == 200, refreshed.text
        me = await service.client.get("/auth/me", headers=cookie_header("access_token", "ignored"))
        assert_problem(me, 401, "token_missing")
