"""The ``keyturn`` command as a user runs it: migrate, add a user, serve, log in."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from tests.e2e.processes import KEYTURN, clean_environment, request, start_keyturn, stop


def run(args: list[str], cwd: Path, env: dict[str, str], stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([KEYTURN, *args], cwd=cwd, env=env, input=stdin, capture_output=True, text=True, timeout=120)


@pytest.fixture
def serve(tmp_path: Path):
    processes: list[subprocess.Popen] = []

    def start(env: dict[str, str]) -> tuple[int, subprocess.Popen]:
        port, process = start_keyturn(env, tmp_path)
        processes.append(process)
        return port, process

    yield start
    for process in processes:
        stop(process)


def test_production_without_secret_refuses_to_start(tmp_path):
    result = run(["db", "upgrade"], tmp_path, clean_environment())

    assert result.returncode == 2
    assert "SESSION_SECRET" in result.stderr


def test_upgrade_add_user_and_log_in(tmp_path, serve):
    env = clean_environment(APP_ENV="production", SESSION_SECRET="p" * 40, KEYTURN_COOKIE_SECURE="true")
    assert run(["db", "upgrade"], tmp_path, env).returncode == 0
    added = run(["users", "add", "--email", "Zoe@Example.org", "--username", "zoe", "--password-stdin"],
                tmp_path, env, stdin=" zoe's passphrase \n")
    assert added.returncode == 0, added.stderr
    duplicate = run(["users", "add", "--email", "zoe@example.org", "--password-stdin"], tmp_path, env, stdin="another one\n")
    assert duplicate.returncode == 1
    assert "already uses this email" in duplicate.stderr
    assert "Traceback" not in duplicate.stderr
    too_short = run(["users", "add", "--email", "short@example.org", "--password-stdin"], tmp_path, env, stdin="short\n")
    assert too_short.returncode != 0
    assert "KEYTURN_PASSWORD_MIN_LENGTH" in too_short.stderr

    port, _ = serve(env)
    status, cookies, _ = request(port, "POST", "/auth/login", {"login": "zoe@example.org", "password": " zoe's passphrase "})

    assert status == 200
    assert "access_token" in cookies
    assert (tmp_path / "var" / "keyturn.sqlite3").exists()


def test_development_creates_demo_account(tmp_path, serve):
    env = clean_environment(APP_ENV="development")
    assert run(["db", "upgrade"], tmp_path, env).returncode == 0

    port, process = serve(env)
    status, _, _ = request(port, "GET", "/health/live")
    stop(process)
    output = process.stdout.read()

    match = re.search(r"login (\S+) .* password (\S+)", output)
    assert status == 200
    assert match, output

    port, _ = serve(env)
    status, cookies, _ = request(port, "POST", "/auth/login", {"login": match.group(1), "password": match.group(2)})
    assert status == 200
    status, _, body = request(port, "GET", "/auth/me", cookies={"access_token": cookies["access_token"]})
    assert status == 200
    assert body["email"] == "demo@example.com"


def test_operator_commands(tmp_path, serve):
    env = clean_environment(APP_ENV="production", SESSION_SECRET="o" * 40)
    assert run(["db", "upgrade"], tmp_path, env).returncode == 0
    assert run(["users", "add", "--email", "ops@example.org", "--password-stdin"], tmp_path, env,
               stdin="operator passphrase\n").returncode == 0
    port, _ = serve(env)
    for _ in range(2):
        status, _, _ = request(port, "POST", "/auth/login", {"login": "ops@example.org", "password": "operator passphrase"})
        assert status == 200

    listed = run(["sessions", "list", "--user", "1"], tmp_path, env)
    audit = run(["audit", "--user", "1"], tmp_path, env)
    revoked = run(["sessions", "revoke", "--user", "1"], tmp_path, env)
    after = run(["sessions", "list", "--user", "1"], tmp_path, env)
    audit_after = [json.loads(line) for line in run(["audit", "--user", "1"], tmp_path, env).stdout.splitlines()]

    assert len(listed.stdout.splitlines()) == 2
    assert [json.loads(line)["event"] for line in audit.stdout.splitlines()].count("login_succeeded") == 2
    assert "revoked 2 session(s)" in revoked.stdout
    assert after.stdout == ""
    support_events = [event for event in audit_after if event["event"] == "session_revoked"]
    assert [event["reason"] for event in support_events] == ["support", "support"]
    assert {event["user_agent"] for event in support_events} == {"keyturn-cli"}


def test_check_config_reports_problems(tmp_path):
    good = run(["check-config"], tmp_path, clean_environment(APP_ENV="development", SESSION_SECRET="c" * 40))
    bad = run(["check-config"], tmp_path, clean_environment(APP_ENV="production", SESSION_SECRET="short"))
    masked = run(["check-config"], tmp_path, clean_environment(
        APP_ENV="development", SESSION_SECRET="c" * 40, KEYTURN_REDIS_URL="redis://:hunter2@127.0.0.1:1/0",
    ))

    assert good.returncode == 0
    assert "no problems found" in good.stdout
    assert "c" * 40 not in good.stdout
    assert bad.returncode == 1
    assert "SESSION_SECRET" in bad.stdout
    assert masked.returncode == 1
    assert "hunter2" not in masked.stdout
    assert "problem: Redis" in masked.stdout
