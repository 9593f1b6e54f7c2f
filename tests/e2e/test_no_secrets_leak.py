"""No log line, audit row or error body ever contains a password, token, CSRF value or cookie value."""

import logging
from datetime import timedelta

from tests.conftest import account
from tests.e2e.http_helpers import PROBLEM, csrf_headers

NEW_PASSWORD = "a brand new passphrase 4 alice"
WRONG_PASSWORD = "definitely-not-the-password"


class Recorder:
    """Collects every secret the scenario sees and every text that must not contain one."""

    def __init__(self) -> None:
        self.secrets: set[str] = {account("alice")["password"], NEW_PASSWORD, WRONG_PASSWORD}
        self.texts: list[str] = []

    def response(self, response) -> None:
        for name, value in response.cookies.items():
            if value:
                self.secrets.add(value)
        if response.headers.get("content-type", "").startswith(PROBLEM):
            self.texts.append(response.text)
        elif response.headers.get("content-type", "").startswith("application/json"):
            body = response.json()
            if isinstance(body, dict):
                for key in ("access_token", "refresh_token"):
                    if body.get(key):
                        self.secrets.add(body[key])


async def run_scenario(service, recorder: Recorder) -> None:
    client = service.client
    alice = account("alice")

    async def call(method: str, path: str, **kwargs):
        response = await client.request(method, path, **kwargs)
        recorder.response(response)
        return response

    await call("POST", "/auth/login", json={"login": "alice", "password": WRONG_PASSWORD})
    await call("POST", "/auth/login", json={"login": "alice", "password": alice["password"]})
    await call("GET", "/auth/me")
    await call("POST", "/auth/refresh", headers=csrf_headers(client))
    await call("POST", "/auth/refresh", headers={"X-CSRF-Token": "forged"})
    await call("GET", "/auth/sessions")
    await call("POST", "/auth/password", json={"current_password": WRONG_PASSWORD, "new_password": NEW_PASSWORD},
               headers=csrf_headers(client))
    await call("POST", "/auth/password", json={"current_password": alice["password"], "new_password": "short"},
               headers=csrf_headers(client))
    await call("POST", "/auth/password", json={"current_password": alice["password"], "new_password": NEW_PASSWORD},
               headers=csrf_headers(client))
    stale_access = client.cookies.get("access_token")
    await call("POST", "/auth/logout", headers=csrf_headers(client))
    await call("GET", "/auth/me", headers={"Authorization": f"Bearer {stale_access}"})
    await call("POST", "/auth/login", json={"login": "alice", "password": NEW_PASSWORD},
               headers={"X-Token-Transport": "body"})
    service.clock.advance(timedelta(hours=1))
    await call("GET", "/auth/me", headers={"Authorization": f"Bearer {stale_access}"})
    await call("POST", "/auth/login", json={"login": 12, "password": {"nested": alice["password"]}})


async def test_no_secret_in_logs_audit_or_errors(service, caplog):
    caplog.set_level(logging.DEBUG)
    recorder = Recorder()

    await run_scenario(service, recorder)

    audit_rows = await service.rows("SELECT * FROM keyturn_audit_events")
    log_lines = [f"{record.getMessage()} {record.__dict__}" for record in caplog.records]
    haystacks = recorder.texts + log_lines + [str(row) for row in audit_rows]
    assert len(recorder.secrets) > 8
    assert len(audit_rows) > 5
    assert len(recorder.texts) > 4
    for secret in recorder.secrets:
        leaks = [text[:120] for text in haystacks if secret in text]
        assert leaks == [], f"a secret of length {len(secret)} appears in {leaks}"
