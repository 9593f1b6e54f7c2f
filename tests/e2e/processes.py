"""Running ``keyturn`` and ``redis-server`` as real processes on loopback ports."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

KEYTURN = str(Path(sys.executable).with_name("keyturn"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def clean_environment(**extra: str) -> dict[str, str]:
    """Return this process's environment without Keyturn settings, plus ``extra``."""
    base = {key: value for key, value in os.environ.items() if not key.startswith(("KEYTURN_", "APP_ENV", "FLASK_ENV"))}
    return base | extra


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stdout.read() if process.stdout else ""
            raise AssertionError(f"process exited early with {process.returncode}: {output}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"nothing listened on port {port} within {timeout} s")


def start_keyturn(env: dict[str, str], cwd: Path) -> tuple[int, subprocess.Popen]:
    port = free_port()
    process = subprocess.Popen(
        [KEYTURN, "serve", "--port", str(port)],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    wait_for_port(port, process)
    return port, process


def start_redis(port: int) -> subprocess.Popen:
    """Start a throwaway Redis with no persistence on ``port``."""
    executable = shutil.which("redis-server")
    if executable is None:
        raise AssertionError("redis-server is not installed")
    process = subprocess.Popen(
        [executable, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for_port(port, process)
    return process


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def request(
    port: int,
    method: str,
    path: str,
    body: dict | None = None,
    cookies: dict[str, str] | None = None,
    extra_headers: dict[str, str] | None = None,
):
    """Send one request; return the status, the Set-Cookie values by name and the decoded JSON body."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {"Content-Type": "application/json", **(extra_headers or {})}
    if cookies:
        headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in cookies.items())
    try:
        connection.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
        response = connection.getresponse()
        raw = response.read()
        set_cookies = {}
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                set_cookies[name] = rest.split(";", 1)[0]
        return response.status, set_cookies, json.loads(raw) if raw else None
    finally:
        connection.close()
