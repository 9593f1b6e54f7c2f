"""Metrics, request ids, login throttling and the SQL audit trail over HTTP."""

from tests.conftest import account
from tests.e2e.http_helpers import assert_problem, csrf_headers, login


async def test_metrics_count_logins(service):
    await login(service, "alice", account("alice")["password"])
    await login(service, "alice", "wrong password")
    await service.client.get("/auth/me")

    response = await service.client.get("/metrics")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert 'keyturn_audit_events_total{event="login_succeeded",outcome="success"} 1.0' in text
    assert 'keyturn_audit_events_total{event="login_failed",outcome="failure"} 1.0' in text
    assert 'keyturn_token_verifications_total{result="ok"} 1.0' in text
    assert 'keyturn_http_errors_total{code="invalid_credentials",status="401"} 1.0' in text
    assert 'keyturn_store_call_seconds_count{operation="open_session",store="refresh_tokens"} 1.0' in text


async def test_request_id_echoed(service):
    response = await service.client.get("/health/live", headers={"X-Request-ID": "trace-123"})

    assert response.headers["x-request-id"] == "trace-123"


async def test_request_id_generated(service):
    first = await service.client.get("/health/live")
    second = await service.client.get("/health/live", headers={"X-Request-ID": "bad id with spaces"})

    assert len(first.headers["x-request-id"]) == 32
    assert second.headers["x-request-id"] != "bad id with spaces"


async def test_login_throttled_after_failures(service):
    alice = account("alice")
    for _ in range(5):
        assert_problem(await login(service, "alice", "wrong password"), 401, "invalid_credentials")

    response = await login(service, "alice", alice["password"])

    assert_problem(response, 429, "rate_limited")
    assert 0 < int(response.headers["retry-after"]) <= 900
    assert_problem(await login(service, "nobody@example.com", "x"), 401, "invalid_credentials")


async def test_throttle_spares_other_accounts(service):
    for _ in range(5):
        await login(service, "alice", "wrong password")

    response = await login(service, "bob", account("bob")["password"])

    assert response.status_code == 200


async def test_audit_rows_carry_request_id(service):
    await service.client.post(
        "/auth/login",
        json={"login": "alice", "password": account("alice")["password"]},
        headers={"X-Request-ID": "audit-req-1"},
    )
    await service.client.post("/auth/logout", headers=csrf_headers(service.client))

    rows = await service.rows("SELECT event, user_id, request_id, session_id FROM keyturn_audit_events ORDER BY id")

    events = [row["event"] for row in rows]
    assert events == ["login_succeeded", "tokens_issued", "logged_out"]
    assert rows[0]["request_id"] == "audit-req-1"
    assert rows[0]["user_id"] == "1"
    assert rows[0]["session_id"] == rows[2]["session_id"]


async def test_throttled_login_audited(service):
    for _ in range(6):
        await login(service, "carol", "wrong password")

    rows = await service.rows("SELECT event, reason FROM keyturn_audit_events WHERE event = 'login_throttled'")

    assert len(rows) == 1
    assert rows[0]["reason"] == "login_and_address"
