"""Start the servers under test pinned to one CPU, wait until they respond, and stop them."""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from bench.commands import child_env

HOST = "127.0.0.1"
BIN = Path(sys.executable).parent
READY_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 15.0


class ServerError(RuntimeError):
    """A server exited early or did not respond in time. The message ends with its log."""


@dataclass(frozen=True, slots=True)
class ServerSpec:
    """Server command: the argv without pinning, extra environment variables and a readiness path to poll."""

    name: str
    argv: list[str]
    env: Mapping[str, str]
    ready_path: str = "/"


@dataclass(frozen=True, slots=True)
class RunningServer:
    spec: ServerSpec
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path


def free_port() -> int:
    """Return a TCP port on the loopback address that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def granian_argv(target: str, port: int, *, factory: bool = False) -> list[str]:
    """Granian with one worker and one runtime thread, asyncio loop, HTTP/1.1 and no access log."""
    argv = [
        str(BIN / "granian"), "--interface", "asgi", "--host", HOST, "--port", str(port),
        "--workers", "1", "--runtime-threads", "1", "--loop", "asyncio", "--http", "1",
        "--no-ws", "--no-access-log", "--log-level", "warning",
    ]
    if factory:
        argv.append("--factory")
    return [*argv, target]


def gunicorn_argv(target: str, port: int) -> list[str]:
    """Gunicorn with one sync worker, which closes the connection after every response."""
    return [
        str(BIN / "gunicorn"), "--workers", "1", "--worker-class", "sync", "--bind", f"{HOST}:{port}",
        "--no-control-socket", "--log-level", "warning", target,
    ]


def pinned(argv: list[str], cpu: str) -> list[str]:
    return ["taskset", "-c", cpu, *argv]


@contextlib.contextmanager
def serve(spec: ServerSpec, port: int, cpu: str, log_dir: Path, cwd: Path) -> Iterator[RunningServer]:
    """Run the server pinned to ``cpu`` for the duration of the block, then stop its process group."""
    log_path = log_dir / f"{spec.name}.log"
    env = child_env(spec.env)
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            pinned(spec.argv, cpu), cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = RunningServer(spec=spec, port=port, process=process, log_path=log_path)
    try:
        _wait_until_ready(server)
        yield server
    finally:
        stop(server)


def stop(server: RunningServer) -> None:
    """Send SIGTERM to the server's process group, and SIGKILL if it is still there after a grace period."""
    process = server.process
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def log_tail(server: RunningServer, lines: int = 30) -> str:
    text = server.log_path.read_text(encoding="utf-8", errors="replace")
    return "\n".join(text.splitlines()[-lines:])


def _wait_until_ready(server: RunningServer) -> None:
    """Poll until any HTTP response arrives. A 401 from a protected path also means ready."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise ServerError(
                f"{server.spec.name} exited with status {server.process.returncode} before responding. "
                f"Log {server.log_path}:\n{log_tail(server)}"
            )
        connection = http.client.HTTPConnection(HOST, server.port, timeout=2)
        try:
            connection.request("GET", server.spec.ready_path)
            connection.getresponse().read()
            return
        except (OSError, http.client.HTTPException):
            time.sleep(0.2)
        finally:
            connection.close()
    raise ServerError(
        f"{server.spec.name} did not respond on port {server.port} within {READY_TIMEOUT_S:.0f} s. "
        f"Log {server.log_path}:\n{log_tail(server)}"
    )
