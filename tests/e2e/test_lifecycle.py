"""Session management, log out everywhere, password change and refresh token reuse over HTTP."""

import json
import logging
from datetime import datetime, timedelta

from werkzeug.security import check_password_hash

from tests.conftest import account
from tests.e2e.http_helpers import (
    assert_problem,
    cookie_header,
    csrf_headers,
    max_age,
    refresh_cookie_headers,
    set_cookie_headers,
)

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
SAFARI = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) Version/17.5 Mobile/15E148 Safari/604.1"
AUDIT_LOGGER = "keyturn.audit"


async def log_in(client, username: str, user_agent: str | None = None, password: str | None = None):
    headers = {"User-Agent": user_agent} if user_agent else {}
    body = {"login": username, "password": password if password is not None else account(username)["password"]}
    response = await client.post("/auth/login", json=body, headers=headers)
    assert response.status_code == 200, response.text
    return response


def tokens(client) -> tuple[str, str]:
    """Return the access and refresh token in the client's cookie jar."""
    return client.cookies["access_token"], client.cookies["refresh_token"]


def csrf_of(client) -> str:
    """Return the CSRF token in the client's cookie jar, which a browser tab would send with its refresh cookie."""
    return client.cookies["csrf_token"]


async def me_with(client, access: str):
    return await client.get("/auth/me", headers=cookie_header("access_token", access))


async def refresh_with(client, refresh: str, csrf: str):
    return await client.post("/auth/refresh", headers=refresh_cookie_headers(refresh, csrf))


async def current_session_id(client) -> str:
    listed = await client.get("/auth/sessions")
    assert listed.status_code == 200, listed.text
    return next(item["id"] for item in listed.json() if item["current"])


async def password_hash_of(service, username: str) -> str:
    rows = await service.rows(f"SELECT password_hash FROM users WHERE username = '{username}'")
    return rows[0]["password_hash"]


def assert_cleared(response) -> None:
    cleared = set_cookie_headers(response)
    assert max_age(cleared["access_token"]) == 0
    assert max_age(cleared["refresh_token"]) == 0


# Sessions list


async def test_sessions_list_two_devices(service, open_client):
    laptop = service.client
    phone = await open_client()
    await log_in(laptop, "alice", FIREFOX)
    service.clock.advance(timedelta(seconds=1))
    await log_in(phone, "alice", SAFARI)

    response = await laptop.get("/auth/sessions")

    assert response.status_code == 200, response.text
    listed = response.json()
    assert len(listed) == 2
    assert [item["current"] for item in listed] == [False, True]
    assert [item["user_agent"] for item in listed] == [SAFARI, FIREFOX]
    for item in listed:
        assert set(item) == {"id", "created_at", "last_used_at", "user_agent", "ip", "current"}
        assert item["id"]
        assert item["ip"]
        assert datetime.fromisoformat(item["created_at"]).utcoffset() == timedelta(0)
        assert datetime.fromisoformat(item["last_used_at"]).utcoffset() == timedelta(0)
    assert datetime.fromisoformat(listed[0]["created_at"]) > datetime.fromisoformat(listed[1]["created_at"])


async def test_sessions_list_other_device(service, open_client):
    laptop = service.client
    phone = await open_client()
    await log_in(laptop, "alice", FIREFOX)
    service.clock.advance(timedelta(seconds=1))
    await log_in(phone, "alice", SAFARI)

    listed = (await phone.get("/auth/sessions")).json()

    current = [item for item in listed if item["current"]]
    assert len(current) == 1
    assert current[0]["user_agent"] == SAFARI


async def test_sessions_list_per_user(service, open_client):
    alice = service.client
    bob = await open_client()
    await log_in(alice, "alice", FIREFOX)
    await log_in(alice, "alice", SAFARI)
    await log_in(bob, "bob", FIREFOX)

    alice_ids = {item["id"] for item in (await alice.get("/auth/sessions")).json()}
    bob_listed = (await bob.get("/auth/sessions")).json()

    assert len(alice_ids) == 2
    assert len(bob_listed) == 1
    assert bob_listed[0]["id"] not in alice_ids
    assert bob_listed[0]["current"] is True


async def test_sessions_list_needs_token(service):
    assert_problem(await service.client.get("/auth/sessions"), 401, "token_missing")


# Revoking one session


async def test_revoke_other_session(service, open_client):
    laptop = service.client
    phone = await open_client()
    await log_in(laptop, "alice", FIREFOX)
    await log_in(phone, "alice", SAFARI)
    phone_access, phone_refresh = tokens(phone)
    phone_session = await current_session_id(phone)

    response = await laptop.delete(f"/auth/sessions/{phone_session}", headers=csrf_headers(laptop))

    assert response.status_code == 204, response.text
    assert response.headers.get_list("set-cookie") == []
    assert_problem(await me_with(phone, phone_access), 401, "token_revoked")
    assert_problem(await refresh_with(phone, phone_refresh, csrf_of(phone)), 401, "token_revoked")
    assert (await laptop.get("/auth/me")).status_code == 200
    remaining = [item["id"] for item in (await laptop.get("/auth/sessions")).json()]
    assert phone_session not in remaining
    assert len(remaining) == 1


async def test_revoke_current_session(service):
    client = service.client
    await log_in(client, "alice", FIREFOX)
    access, refresh = tokens(client)
    csrf = csrf_of(client)
    session_id = await current_session_id(client)

    response = await client.delete(f"/auth/sessions/{session_id}", headers=csrf_headers(client))

    assert response.status_code == 204, response.text
    assert_cleared(response)
    assert_problem(await me_with(client, access), 401, "token_revoked")
    assert_problem(await refresh_with(client, refresh, csrf), 401, "token_revoked")


async def test_revoke_other_users_session(service, open_client):
    alice = service.client
    bob = await open_client()
    await log_in(alice, "alice")
    await log_in(bob, "bob")
    bob_session = await current_session_id(bob)

    response = await alice.delete(f"/auth/sessions/{bob_session}", headers=csrf_headers(alice))

    assert_problem(response, 404, "session_not_found")
    assert (await bob.get("/auth/me")).status_code == 200
    assert (await bob.post("/auth/refresh", headers=csrf_headers(bob))).status_code == 200


async def test_revoke_unknown_session(service):
    await log_in(service.client, "alice")

    response = await service.client.delete("/auth/sessions/no-such-session", headers=csrf_headers(service.client))

    assert_problem(response, 404, "session_not_found")


async def test_revoke_session_twice(service, open_client):
    laptop = service.client
    phone = await open_client()
    await log_in(laptop, "alice")
    await log_in(phone, "alice")
    phone_session = await current_session_id(phone)
    assert (await laptop.delete(f"/auth/sessions/{phone_session}", headers=csrf_headers(laptop))).status_code == 204

    again = await laptop.delete(f"/auth/sessions/{phone_session}", headers=csrf_headers(laptop))

    assert_problem(again, 404, "session_not_found")


# Log out everywhere


async def test_logout_all_devices(service, open_client):
    laptop = service.client
    phone = await open_client()
    bob = await open_client()
    await log_in(laptop, "alice", FIREFOX)
    await log_in(phone, "alice", SAFARI)
    await log_in(bob, "bob")
    devices = [(*tokens(laptop), csrf_of(laptop)), (*tokens(phone), csrf_of(phone))]

    response = await laptop.post("/auth/logout-all", headers=csrf_headers(laptop))

    assert response.status_code == 204, response.text
    assert_cleared(response)
    for access, refresh, csrf in devices:
        assert_problem(await me_with(phone, access), 401, "token_revoked")
        sessions = await phone.get("/auth/sessions", headers=cookie_header("access_token", access))
        assert_problem(sessions, 401, "token_revoked")
        assert_problem(await refresh_with(phone, refresh, csrf), 401, "token_revoked")
    assert (await bob.get("/auth/me")).status_code == 200
    assert (await bob.post("/auth/refresh", headers=csrf_headers(bob))).status_code == 200


async def test_logout_all_then_login(service, open_client):
    laptop = service.client
    phone = await open_client()
    await log_in(laptop, "alice")
    await log_in(phone, "alice")
    assert (await laptop.post("/auth/logout-all", headers=csrf_headers(laptop))).status_code == 204

    # The clock has not moved, so this login falls in the same second as the watermark.
    await log_in(laptop, "alice")

    me = await laptop.get("/auth/me")
    assert me.status_code == 200, me.text
    assert me.json()["username"] == "alice"
    listed = (await laptop.get("/auth/sessions")).json()
    assert len(listed) == 1
    assert listed[0]["current"] is True
    assert (await laptop.post("/auth/refresh", headers=csrf_headers(laptop))).status_code == 200


# Password change


def change_password(client, current: str, new: str):
    return client.post(
        "/auth/password", json={"current_password": current, "new_password": new}, headers=csrf_headers(client)
    )


async def test_password_change_login(service, open_client):
    alice = account("alice")
    new_password = "a new passphrase for alice"
    await log_in(service.client, "alice")

    response = await change_password(service.client, alice["password"], new_password)

    assert response.status_code == 200, response.text
    other = await open_client()
    old = await other.post("/auth/login", json={"login": "alice", "password": alice["password"]})
    assert_problem(old, 401, "invalid_credentials")
    await log_in(other, "alice", password=new_password)
    assert (await other.get("/auth/me")).status_code == 200


async def test_password_change_hash_in_db(service):
    new_password = "a new passphrase for alice"
    await log_in(service.client, "alice")

    response = await change_password(service.client, account("alice")["password"], new_password)

    assert response.status_code == 200, response.text
    stored = await password_hash_of(service, "alice")
    assert stored.startswith("scrypt:")
    assert check_password_hash(stored, new_password)


async def test_password_change_one_column(service):
    users_query = "SELECT * FROM users ORDER BY id"
    posts_query = "SELECT * FROM posts ORDER BY id"
    users_before = await service.rows(users_query)
    posts_before = await service.rows(posts_query)
    await log_in(service.client, "alice")

    response = await change_password(service.client, account("alice")["password"], "a new passphrase for alice")

    assert response.status_code == 200, response.text
    users_after = await service.rows(users_query)
    assert len(users_after) == len(users_before)
    alice_id = account("alice")["id"]
    for before, after in zip(users_before, users_after, strict=True):
        if before["id"] != alice_id:
            assert after == before
            continue
        assert after["password_hash"] != before["password_hash"]
        assert {**after, "password_hash": None} == {**before, "password_hash": None}
    assert await service.rows(posts_query) == posts_before


async def test_password_change_ends_sessions(service, open_client):
    laptop = service.client
    phone = await open_client()
    await log_in(laptop, "alice", FIREFOX)
    await log_in(phone, "alice", SAFARI)
    old_devices = [(*tokens(laptop), csrf_of(laptop)), (*tokens(phone), csrf_of(phone))]

    response = await change_password(laptop, account("alice")["password"], "a new passphrase for alice")

    assert response.status_code == 200, response.text
    for access, refresh, csrf in old_devices:
        assert_problem(await me_with(phone, access), 401, "token_revoked")
        assert_problem(await refresh_with(phone, refresh, csrf), 401, "token_revoked")


async def test_password_change_new_cookies(service):
    client = service.client
    await log_in(client, "alice", FIREFOX)
    old_access, old_refresh = tokens(client)

    response = await change_password(client, account("alice")["password"], "a new passphrase for alice")

    assert response.status_code == 200, response.text
    issued = set_cookie_headers(response)
    assert "access_token" in issued
    assert "refresh_token" in issued
    new_access, new_refresh = tokens(client)
    assert new_access != old_access
    assert new_refresh != old_refresh
    assert (await me_with(client, new_access)).status_code == 200
    listed = (await client.get("/auth/sessions")).json()
    assert len(listed) == 1
    assert listed[0]["current"] is True
    assert (await refresh_with(client, new_refresh, csrf_of(client))).status_code == 200


async def test_password_change_wrong_current(service):
    await log_in(service.client, "alice")
    stored_before = await password_hash_of(service, "alice")

    response = await change_password(service.client, "not the password", "a new passphrase for alice")

    assert_problem(response, 401, "invalid_credentials")
    assert await password_hash_of(service, "alice") == stored_before
    assert (await service.client.get("/auth/me")).status_code == 200


async def test_password_change_length_limits(service):
    await log_in(service.client, "alice")
    current = account("alice")["password"]
    stored_before = await password_hash_of(service, "alice")

    for rejected in ("x" * 7, "x" * 1025):
        assert_problem(await change_password(service.client, current, rejected), 422, "password_rejected")
    assert await password_hash_of(service, "alice") == stored_before

    longest = "y" * 1024
    accepted = await change_password(service.client, current, longest)
    assert accepted.status_code == 200, accepted.text
    assert check_password_hash(await password_hash_of(service, "alice"), longest)


async def test_password_change_minimum_length(service):
    await log_in(service.client, "alice")

    response = await change_password(service.client, account("alice")["password"], "x" * 8)

    assert response.status_code == 200, response.text
    assert check_password_hash(await password_hash_of(service, "alice"), "x" * 8)


# Refresh token reuse


def audit_events(caplog, event: str) -> list[dict]:
    records = [record for record in caplog.records if record.name == AUDIT_LOGGER]
    parsed = [json.loads(record.getMessage()) for record in records]
    return [item for item in parsed if item["event"] == event]


async def test_stolen_refresh_token(service, open_client, caplog):
    victim = service.client
    attacker = await open_client()
    await log_in(victim, "alice", FIREFOX)
    _, stolen = tokens(victim)
    # A thief who copies the cookie jar gets the CSRF cookie along with the refresh cookie.
    stolen_csrf = csrf_of(victim)
    session = next(item for item in (await victim.get("/auth/sessions")).json() if item["current"])
    assert (await victim.post("/auth/refresh", headers=csrf_headers(victim))).status_code == 200
    victim_access, victim_refresh = tokens(victim)
    assert victim_refresh != stolen
    service.clock.advance(timedelta(seconds=11))

    with caplog.at_level(logging.INFO, logger=AUDIT_LOGGER):
        replay = await refresh_with(attacker, stolen, stolen_csrf)

    assert_problem(replay, 401, "refresh_reused")
    assert "refresh_token" not in set_cookie_headers(replay)
    assert_problem(await refresh_with(victim, victim_refresh, csrf_of(victim)), 401, "token_revoked")
    assert_problem(await me_with(victim, victim_access), 401, "token_revoked")
    reused = audit_events(caplog, "refresh_token_reused")
    assert len(reused) == 1
    assert reused[0]["user_id"] == str(account("alice")["id"])
    assert reused[0]["session_id"] == session["id"]
    assert reused[0]["ip"] == session["ip"]
    assert reused[0]["outcome"] == "failure"


async def test_stolen_token_spares_other_sessions(service, open_client):
    victim = service.client
    attacker = await open_client()
    phone = await open_client()
    await log_in(victim, "alice", FIREFOX)
    await log_in(phone, "alice", SAFARI)
    _, stolen = tokens(victim)
    stolen_csrf = csrf_of(victim)
    await victim.post("/auth/refresh", headers=csrf_headers(victim))
    service.clock.advance(timedelta(seconds=11))

    assert_problem(await refresh_with(attacker, stolen, stolen_csrf), 401, "refresh_reused")

    assert (await phone.get("/auth/me")).status_code == 200
    assert (await phone.post("/auth/refresh", headers=csrf_headers(phone))).status_code == 200


async def test_reuse_within_grace(service, open_client):
    first_tab = service.client
    second_tab = await open_client()
    await log_in(first_tab, "alice")
    _, shared = tokens(first_tab)
    shared_csrf = csrf_of(first_tab)
    assert (await first_tab.post("/auth/refresh", headers=csrf_headers(first_tab))).status_code == 200
    service.clock.advance(timedelta(seconds=5))

    response = await refresh_with(second_tab, shared, shared_csrf)

    assert response.status_code == 200, response.text
    issued = set_cookie_headers(response)
    assert "access_token" in issued
    assert "refresh_token" not in issued
    assert response.json()["refresh_expires_at"] is None
    grace_access = second_tab.cookies["access_token"]
    me = await me_with(second_tab, grace_access)
    assert me.status_code == 200, me.text
    assert me.json()["username"] == "alice"
    assert (await first_tab.get("/auth/me")).status_code == 200


async def test_reuse_at_grace_boundary(service, open_client):
    first_tab = service.client
    second_tab = await open_client()
    await log_in(first_tab, "alice")
    _, shared = tokens(first_tab)
    shared_csrf = csrf_of(first_tab)
    await first_tab.post("/auth/refresh", headers=csrf_headers(first_tab))

    service.clock.advance(timedelta(seconds=10))
    within = await refresh_with(second_tab, shared, shared_csrf)
    service.clock.advance(timedelta(microseconds=1))
    after = await refresh_with(second_tab, shared, shared_csrf)

    assert within.status_code == 200, within.text
    assert_problem(after, 401, "refresh_reused")
