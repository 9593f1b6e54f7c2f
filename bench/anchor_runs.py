"""Scenarios (A), (B) and (C): the anchor apps that Keyturn's figures are compared with."""

from __future__ import annotations

from bench.context import REPO_ROOT, Bench, measure_with_wrk
from bench.http_client import expect_status, expect_success, request
from bench.servers import HOST, ServerSpec, free_port, granian_argv, gunicorn_argv, serve
from bench.wrk import WrkRun

PATH = "/hello"


def run_litestar_hello(bench: Bench) -> dict:
    port = free_port()
    spec = ServerSpec("litestar-hello", granian_argv("bench.anchors.hello:app", port), env={}, ready_path=PATH)
    return _measure_anchor(bench, "A", spec, port, cookie=None)


def run_litestar_jwt(bench: Bench) -> dict:
    port = free_port()
    env = {"BENCH_JWT_SECRET": bench.jwt_secret}
    spec = ServerSpec("litestar-jwt", granian_argv("bench.anchors.litestar_jwt:app", port), env=env, ready_path=PATH)
    return _measure_anchor(bench, "B", spec, port, cookie="token")


def run_flask_jwt(bench: Bench) -> dict:
    port = free_port()
    env = {"BENCH_JWT_SECRET": bench.jwt_secret}
    spec = ServerSpec("flask-jwt", gunicorn_argv("bench.anchors.flask_jwt:app", port), env=env, ready_path=PATH)
    return _measure_anchor(bench, "C", spec, port, cookie="access_token_cookie")


def _measure_anchor(bench: Bench, scenario_id: str, spec: ServerSpec, port: int, cookie: str | None) -> dict:
    bench.commands.record(spec.argv, spec.env, cpu=bench.options.server_cpu)
    with serve(spec, port, bench.options.server_cpu, bench.log_dir, REPO_ROOT) as server:
        headers = {}
        if cookie is not None:
            headers["Cookie"] = _log_in(bench, scenario_id, port, cookie)
            # The route must reject a request without the cookie, or the
            # scenario would measure an unprotected route.
            expect_status(request(HOST, port, "GET", PATH), 401, f"{scenario_id} GET {PATH} without a cookie")
        expect_status(request(HOST, port, "GET", PATH, headers=headers), 200, f"{scenario_id} GET {PATH}")

        def make_run(phase: str, seconds: int) -> WrkRun:
            return WrkRun(
                url=f"http://{HOST}:{port}{PATH}", script="get.lua", duration_s=seconds,
                connections=bench.options.connections, threads=bench.options.wrk_threads,
                timeout_s=bench.options.timeout_s, headers=headers,
            )

        return measure_with_wrk(bench, server, scenario_id, make_run)


def _log_in(bench: Bench, scenario_id: str, port: int, cookie: str) -> str:
    """POST /login and return the ``name=value`` pair of the token cookie it sets."""
    response = expect_success(request(HOST, port, "POST", "/login"), f"{scenario_id} POST /login")
    set_cookies = response.set_cookies()
    if cookie not in set_cookies:
        raise RuntimeError(f"{scenario_id} POST /login set no {cookie} cookie, only {sorted(set_cookies)}")
    bench.record_cookie(scenario_id, cookie, set_cookies[cookie])
    return set_cookies[cookie].split(";", 1)[0]
