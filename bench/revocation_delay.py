"""Revocation delay between two Keyturn processes that share their stores.

Two ``keyturn serve`` processes run on loopback ports, with the embedded
SQLite stores or with Redis stores (a private ``redis-server``). Each round
logs in on process A, checks the new access token on B, logs out on A, and
then sends requests with that token to B until B returns 401. The delay is the time from
A's logout response to the sending of the first request that B rejects, so
a revocation that B applies at once shows a delay near zero. Requests that B
still accepted after the logout are counted as well.

Run: ``.venv/bin/python -m bench.revocation_delay --rounds 200``. It prints
one JSON object per store kind and check mode.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from bench.private_redis import free_port, start_private_redis

KEYTURN = str(Path(sys.executable).with_name("keyturn"))
PASSWORD = "bench-password-" + uuid.uuid4().hex[:12]
EMAIL = "bench@example.com"


def call(port: int, method: str, path: str, body: dict | None = None, cookies: dict[str, str] | None = None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {"Content-Type": "application/json"}
    if cookies:
        headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in cookies.items())
        if "csrf_token" in cookies:
            headers["X-CSRF-Token"] = cookies["csrf_token"]
    try:
        connection.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
        response = connection.getresponse()
        response.read()
        set_cookies = {}
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                set_cookies[name] = rest.split(";", 1)[0]
        return response.status, set_cookies
    finally:
        connection.close()


def start_keyturn(env: dict[str, str], workdir: Path) -> tuple[int, subprocess.Popen]:
    port = free_port()
    process = subprocess.Popen(
        [KEYTURN, "serve", "--port", str(port)],
        cwd=workdir,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if call(port, "GET", "/health/live")[0] == 200:
                return port, process
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError("keyturn did not start")


def prepare(env: dict[str, str], workdir: Path) -> None:
    subprocess.run([KEYTURN, "db", "upgrade"], cwd=workdir, env=env, check=True, capture_output=True)
    subprocess.run(
        [KEYTURN, "users", "add", "--email", EMAIL, "--password-stdin"],
        cwd=workdir, env=env, input=PASSWORD, text=True, check=True, capture_output=True,
    )


def one_round(port_a: int, port_b: int) -> tuple[float, int]:
    """Return the delay in seconds and how many requests B accepted after the logout."""
    status, cookies = call(port_a, "POST", "/auth/login", {"login": EMAIL, "password": PASSWORD})
    assert status == 200, status
    access = {"access_token": cookies["access_token"]}
    assert call(port_b, "GET", "/auth/me", cookies=access)[0] == 200
    assert call(port_a, "POST", "/auth/logout", cookies=cookies)[0] == 204
    logged_out = time.perf_counter()
    accepted = 0
    while True:
        sent = time.perf_counter()
        if call(port_b, "GET", "/auth/me", cookies=access)[0] != 200:
            return sent - logged_out, accepted
        accepted += 1


def measure(kind: str, check: str, rounds: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as directory:
        workdir = Path(directory)
        env = {key: value for key, value in os.environ.items() if not key.startswith(("KEYTURN_", "APP_ENV"))}
        env |= {
            "APP_ENV": "production",
            "SESSION_SECRET": uuid.uuid4().hex + uuid.uuid4().hex,
            "KEYTURN_DATABASE_URL": f"sqlite:///{workdir / 'keyturn.sqlite3'}",
            "KEYTURN_REVOCATION_CHECK": check,
            "KEYTURN_REQUEST_LOG": "false",
        }
        redis_process = None
        if kind == "redis":
            redis_port, redis_process = start_private_redis()
            env["KEYTURN_REDIS_URL"] = f"redis://127.0.0.1:{redis_port}/0"
        prepare(env, workdir)
        (port_a, a), (port_b, b) = start_keyturn(env, workdir), start_keyturn(env, workdir)
        try:
            results = [one_round(port_a, port_b) for _ in range(rounds)]
        finally:
            for process in (a, b, redis_process):
                if process is not None:
                    process.terminate()
                    process.wait(timeout=10)
    delays = sorted(delay * 1000 for delay, _ in results)
    return {
        "stores": kind,
        "check": check,
        "rounds": rounds,
        "accepted_after_logout": sum(accepted for _, accepted in results),
        "rounds_with_acceptance": sum(1 for _, accepted in results if accepted),
        "p50_ms": round(delays[len(delays) // 2], 2),
        "p99_ms": round(delays[min(len(delays) - 1, int(len(delays) * 0.99))], 2),
        "max_ms": round(delays[-1], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200)
    arguments = parser.parse_args()
    for kind in ("redis", "sqlite"):
        for check in ("replica", "direct"):
            print(json.dumps(measure(kind, check, arguments.rounds)), flush=True)


if __name__ == "__main__":
    main()
