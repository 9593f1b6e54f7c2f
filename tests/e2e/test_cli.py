"""The ``keyturn`` command as a user runs it: migrate, add a user, serve, log in."""

from __future__ import annotations

import http.client
import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

KEYTURN = str(Path(sys.executable).with_name("keyturn"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def environment(**extra: str) -> dict[str, str]:
    base = {key: value for key, value in os.environ.items() if not key.startswith(("KEYTURN_", "APP_ENV", "FLASK_ENV"))}
    return base | extra


def run(args: list[str], cwd: Path, env: dict[str, str], stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([KEYTURN, *args], cwd=cwd, env=env, input=stdin, capture_output=True, text=True, timeout=120)


def request(port: int, method: str, path: str, body: dict | None = None, cookie: str | None = None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {"Content-Type": "application/json"}
    if cookie:
        headers["Cookie"] = cookie
    connection.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
    response = connection.getresponse()
    return response.status, response.getheader("Set-Cookie") or "", response.read()


def wait_for_port(port: int, process: subprocess.Popen, deadline: float) -> None:
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"keyturn serve exited early: {process.stdout.read()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("keyturn serve did not open its port in time")


@pytest.fixture
def serve(tmp_path: Path):
    processes: list[subprocess.Popen] = []

    def start(env: dict[str, str]) -> tuple[int, subprocess.Popen]:
        port = free_port()
        process = subprocess.Popen(
            [KEYTURN, "serve", "--port", str(port)],
            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        processes.append(process)
        wait_for_port(port, process, time.monotonic() + 30)
        return port, process

    yield start
    for process in processes:
        process.terminate()
        process.wait(timeout=10)


def test_production_without_secret_refuses_to_start(tmp_path):
    result = run(["db", "upgrade"], tmp_path, environment())

    assert result.returncode == 2
    assert "SESSION_SECRET" in result.stderr


def test_upgrade_add_user_and_log_in(tmp_path, serve):
    env = environment(APP_ENV="production", SESSION_SECRET="p" * 40, KEYTURN_COOKIE_SECURE="true")
    assert run(["db", "upgrade"], tmp_path, env).returncode == 0
    added = run(["users", "add", "--email", "Zoe@Example.org", "--username", "zoe", "--password-stdin"],
                tmp_path, env, stdin=" zoe's passphrase \n")
    assert added.returncode == 0, added.stderr

    duplicate = run(["users", "add", "--email", "zoe@example.org", "--password-stdin"], tmp_path, env, stdin="another one\n")
    assert duplicate.returncode == 1
    assert "already uses this email" in duplicate.stderr
    assert "Traceback" not in duplicate.stderr

    port, _ = serve(env)
    status, set_cookie, _ = request(port, "POST", "/auth/login", {"login": "zoe@example.org", "password": " zoe's passphrase "})

    assert status == 200
    assert "Secure" in set_cookie
    assert (tmp_path / "var" / "keyturn.sqlite3").exists()


def test_development_creates_demo_account(tmp_path, serve):
    env = environment(APP_ENV="development")
    assert run(["db", "upgrade"], tmp_path, env).returncode == 0

    port, process = serve(env)
    status, _, _ = request(port, "GET", "/health/live")
    process.terminate()
    output = process.communicate(timeout=10)[0]

    match = re.search(r"login (\S+) .* password (\S+)", output)
    assert status == 200
    assert match, output

    port, _ = serve(env)
    status, set_cookie, _ = request(port, "POST", "/auth/login", {"login": match.group(1), "password": match.group(2)})
    assert status == 200
    access = re.search(r"access_token=([^;]+)", set_cookie).group(1)
    status, _, body = request(port, "GET", "/auth/me", cookie=f"access_token={access}")
    assert status == 200
    assert json.loads(body)["email"] == "demo@example.com"
