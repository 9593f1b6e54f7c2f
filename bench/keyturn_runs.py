"""Scenarios that run Keyturn: the protected host route, /auth/me latency and refresh rates."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from bench import cpu_usage
from bench.commands import child_env
from bench.context import REPO_ROOT, Bench, measure_with_wrk, profiled
from bench.http_client import HttpError, cookie_value, expect_status, request
from bench.servers import HOST, RunningServer, ServerSpec, granian_argv, pinned
from bench.stores import BENCH_EMAIL, Profile
from bench.wrk import WrkRun

HOST_ROUTE = "/hello"
# Seconds the login generator runs before the /auth/me measurement starts and after it ends.
LOGIN_LEAD_S = 1


def keyturn_spec(profile: Profile, port: int) -> ServerSpec:
    argv = granian_argv("bench.keyturn_host:create_app", port, factory=True)
    return ServerSpec(f"keyturn-{profile.name}", argv, env=profile.env, ready_path=HOST_ROUTE)


def log_in_with_cookies(bench: Bench, port: int) -> dict[str, str]:
    """Log the bench account in and return its cookies, name to whole ``Set-Cookie`` header."""
    body = {"login": BENCH_EMAIL, "password": bench.login_password}
    response = expect_status(request(HOST, port, "POST", "/auth/login", json_body=body), 200, "POST /auth/login")
    return response.set_cookies()


def log_in_for_body(bench: Bench, port: int) -> str:
    """Log in with body transport and return the refresh token."""
    body = {"login": BENCH_EMAIL, "password": bench.login_password}
    headers = {"X-Token-Transport": "body"}
    response = request(HOST, port, "POST", "/auth/login", headers=headers, json_body=body)
    expect_status(response, 200, "POST /auth/login with body transport")
    return json.loads(response.body)["refresh_token"]


def cookie_named(cookies: dict[str, str], suffix: str) -> tuple[str, str]:
    """Find a Keyturn cookie by its base name, with or without the ``__Host-``/``__Secure-`` prefix."""
    for name, header in cookies.items():
        if name == suffix or name.endswith(f"-{suffix}"):
            return name, header
    raise HttpError(f"the login response set no {suffix} cookie, only {sorted(cookies)}")


def access_cookie_pair(bench: Bench, port: int) -> str:
    name, header = cookie_named(log_in_with_cookies(bench, port), "access_token")
    if "keyturn" not in bench.cookies:
        bench.record_cookie("keyturn", name, header)
    return header.split(";", 1)[0]


def run_protected_get(bench: Bench, server: RunningServer, scenario_id: str) -> dict:
    """Load the host app's protected route with the access cookie in a closed loop."""
    port = server.port
    cookie = access_cookie_pair(bench, port)
    expect_status(request(HOST, port, "GET", HOST_ROUTE), 401, f"GET {HOST_ROUTE} without a cookie")
    expect_status(request(HOST, port, "GET", HOST_ROUTE, headers={"Cookie": cookie}), 200, f"GET {HOST_ROUTE}")

    def make_run(phase: str, seconds: int) -> WrkRun:
        options = bench.options
        return WrkRun(
            url=f"http://{HOST}:{port}{HOST_ROUTE}", script="get.lua", duration_s=seconds,
            connections=options.connections, threads=options.wrk_threads, timeout_s=options.timeout_s,
            headers={"Cookie": cookie},
        )

    return measure_with_wrk(bench, server, scenario_id, make_run)


def run_me_alone(bench: Bench, server: RunningServer, scenario_id: str) -> dict:
    return run_me(bench, server, scenario_id, with_logins=False)


def run_me_during_logins(bench: Bench, server: RunningServer, scenario_id: str) -> dict:
    return run_me(bench, server, scenario_id, with_logins=True)


def run_me(bench: Bench, server: RunningServer, scenario_id: str, *, with_logins: bool) -> dict:
    """GET /auth/me at a paced rate, alone or while the login generator runs on the load CPU."""
    port = server.port
    options = bench.options
    cookie = access_cookie_pair(bench, port)
    expect_status(request(HOST, port, "GET", "/auth/me", headers={"Cookie": cookie}), 200, "GET /auth/me")
    # Each connection waits this long after a response, so all of them together offer about me_rate.
    interval_ms = round(1000 * options.me_connections / options.me_rate)

    def make_run(phase: str, seconds: int) -> WrkRun:
        return WrkRun(
            url=f"http://{HOST}:{port}/auth/me", script="paced_get.lua", duration_s=seconds,
            connections=options.me_connections, threads=1, timeout_s=options.timeout_s,
            headers={"Cookie": cookie}, script_args=[str(interval_ms)],
        )

    if not with_logins:
        return {**measure_with_wrk(bench, server, scenario_id, make_run), "pacing_interval_ms": interval_ms}

    login_seconds = LOGIN_LEAD_S + options.warmup_s + options.duration_s + LOGIN_LEAD_S
    argv = [
        sys.executable, "-m", "bench.login_load", "--host", HOST, "--port", str(port), "--login", BENCH_EMAIL,
        "--rate", str(options.login_rate), "--duration", str(login_seconds),
    ]
    bench.commands.record(argv, cpu=options.load_cpu)
    env = child_env({"BENCH_LOGIN_PASSWORD": bench.login_password})
    logins = subprocess.Popen(
        pinned(argv, options.load_cpu), cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(LOGIN_LEAD_S)
        result = measure_with_wrk(bench, server, scenario_id, make_run)
        stdout, stderr = logins.communicate(timeout=login_seconds + 60)
    finally:
        if logins.poll() is None:
            logins.terminate()
            logins.wait()
    if logins.returncode != 0:
        raise RuntimeError(f"the login generator exited with status {logins.returncode}: {stderr.strip()[-500:]}")
    return {**result, "pacing_interval_ms": interval_ms, "logins": json.loads(stdout)}


def run_refresh_cookies(bench: Bench, server: RunningServer, scenario_id: str) -> dict:
    """Rotate one session per connection through cookies and X-CSRF-Token, with the Python driver."""
    port = server.port
    options = bench.options
    sessions = [_cookie_session(bench, port) for _ in range(options.connections)]
    _check_refresh_needs_csrf(port, sessions[0])
    sessions_path = bench.log_dir / f"{scenario_id}-sessions.jsonl"
    _write_lines(sessions_path, [json.dumps(session) for session in sessions])

    argv = [
        sys.executable, "-m", "bench.refresh_load", "--host", HOST, "--port", str(port),
        "--sessions", str(sessions_path), "--warmup", str(options.warmup_s), "--duration", str(options.duration_s),
    ]
    bench.commands.record(argv, cpu=options.load_cpu)
    timeout = options.warmup_s + options.duration_s + 60
    # The driver runs its own warm-up, so the CPU watch covers the warm-up too.
    with profiled(bench, server, scenario_id, options.warmup_s + options.duration_s), cpu_usage.watch(
        [options.server_cpu, options.load_cpu]
    ) as cpu_use:
        completed = subprocess.run(
            pinned(argv, options.load_cpu), cwd=REPO_ROOT, env=child_env({}), capture_output=True, text=True,
            timeout=timeout, check=False,
        )
    if completed.returncode != 0:
        raise RuntimeError(f"the refresh driver exited with status {completed.returncode}: {completed.stderr[-500:]}")
    result = json.loads(completed.stdout)
    return {**result, "warmup_s": options.warmup_s, "connections": len(sessions), "cpu_use": cpu_use}


def run_refresh_body(bench: Bench, server: RunningServer, scenario_id: str) -> dict:
    """Rotate one session per connection with body transport, driven by wrk.

    The warm-up rotates its own sessions, so the measured run starts from
    tokens that are still current.
    """
    port = server.port
    options = bench.options
    token_files: dict[str, Path] = {}
    for phase in ("warmup", "measure"):
        token_files[phase] = bench.log_dir / f"{scenario_id}-{phase}-tokens.txt"
        _write_lines(token_files[phase], [log_in_for_body(bench, port) for _ in range(options.connections)])

    def make_run(phase: str, seconds: int) -> WrkRun:
        # refresh_body.lua keeps one token per thread, so every thread has one connection.
        return WrkRun(
            url=f"http://{HOST}:{port}/auth/refresh", script="refresh_body.lua", duration_s=seconds,
            connections=options.connections, threads=options.connections, timeout_s=options.timeout_s,
            script_args=[str(token_files[phase])],
        )

    return measure_with_wrk(bench, server, scenario_id, make_run)


def _cookie_session(bench: Bench, port: int) -> dict[str, str]:
    cookies = log_in_with_cookies(bench, port)
    refresh_name, refresh_header = cookie_named(cookies, "refresh_token")
    csrf_name, csrf_header = cookie_named(cookies, "csrf_token")
    return {
        "refresh_name": refresh_name,
        "refresh_token": cookie_value(refresh_header),
        "csrf_name": csrf_name,
        "csrf_token": cookie_value(csrf_header),
    }


def _check_refresh_needs_csrf(port: int, session: dict[str, str]) -> None:
    """A cookie refresh without X-CSRF-Token must get 403; a rejected refresh rotates nothing."""
    cookie = f"{session['refresh_name']}={session['refresh_token']}; {session['csrf_name']}={session['csrf_token']}"
    response = request(HOST, port, "POST", "/auth/refresh", headers={"Cookie": cookie})
    expect_status(response, 403, "POST /auth/refresh without X-CSRF-Token")


def _write_lines(path: Path, lines: list[str]) -> None:
    path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
