"""The scenarios of a run, in order, and the loop that runs them.

Scenarios that share a Keyturn store profile share one server process, so
its start-up and the account set-up happen once per profile. A scenario
that fails is recorded with its error and the run goes on.
"""

from __future__ import annotations

import logging
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass

from bench import anchor_runs, keyturn_runs
from bench.context import REPO_ROOT, Bench
from bench.servers import RunningServer, free_port, serve

logger = logging.getLogger("bench")

# Exceptions of a failing scenario: HTTP, server, wrk and store errors (all
# RuntimeError), sockets, unparsable output and child processes that time out.
SCENARIO_ERRORS = (RuntimeError, OSError, ValueError, KeyError, subprocess.SubprocessError)


@dataclass(frozen=True, slots=True)
class Scenario:
    id: str
    title: str
    server: str
    load: str
    # Paced scenarios report latency only, because ratios of their rates mean nothing.
    paced: bool = False


ANCHORS: list[tuple[Scenario, Callable[[Bench], dict]]] = [
    (Scenario("A", "Litestar hello world", "granian", "wrk"), anchor_runs.run_litestar_hello),
    (Scenario("B", "Litestar JWTCookieAuth, protected GET", "granian", "wrk"), anchor_runs.run_litestar_jwt),
    (Scenario("C", "Flask + flask-jwt-extended, protected GET", "gunicorn sync", "wrk"), anchor_runs.run_flask_jwt),
]

KeyturnRun = Callable[[Bench, RunningServer, str], dict]

KEYTURN_PROFILES: list[tuple[str, list[tuple[Scenario, KeyturnRun]]]] = [
    ("sqlite", [
        (Scenario("keyturn-sqlite", "Keyturn host route, SQLite stores", "granian", "wrk"),
         keyturn_runs.run_protected_get),
        (Scenario("me-alone", "GET /auth/me, paced, SQLite", "granian", "wrk", paced=True),
         keyturn_runs.run_me_alone),
        (Scenario("me-logins", "GET /auth/me, paced, during logins, SQLite", "granian", "wrk + logins", paced=True),
         keyturn_runs.run_me_during_logins),
        (Scenario("refresh-sqlite", "POST /auth/refresh, cookies + CSRF, SQLite", "granian", "python driver"),
         keyturn_runs.run_refresh_cookies),
        (Scenario("refresh-sqlite-body", "POST /auth/refresh, body transport, SQLite", "granian", "wrk"),
         keyturn_runs.run_refresh_body),
    ]),
    ("sqlite-redis", [
        (Scenario("keyturn-redis", "Keyturn host route, Redis stores", "granian", "wrk"),
         keyturn_runs.run_protected_get),
    ]),
    ("postgres-redis", [
        (Scenario("refresh-pg-redis", "POST /auth/refresh, cookies + CSRF, PostgreSQL + Redis", "granian",
                  "python driver"),
         keyturn_runs.run_refresh_cookies),
        (Scenario("refresh-pg-redis-body", "POST /auth/refresh, body transport, PostgreSQL + Redis", "granian",
                  "wrk"),
         keyturn_runs.run_refresh_body),
    ]),
]


def all_scenarios() -> list[Scenario]:
    return [scenario for scenario, _ in ANCHORS] + [
        scenario for _, steps in KEYTURN_PROFILES for scenario, _ in steps
    ]


def run_all(bench: Bench) -> None:
    for scenario, run in ANCHORS:
        if bench.wants(scenario.id):
            _record(bench, scenario, None, lambda run=run: run(bench))
    for profile_name, steps in KEYTURN_PROFILES:
        selected = [(scenario, run) for scenario, run in steps if bench.wants(scenario.id)]
        if selected:
            _run_profile(bench, profile_name, selected)


def _run_profile(bench: Bench, profile_name: str, steps: list[tuple[Scenario, KeyturnRun]]) -> None:
    try:
        profile = bench.stores.profile(profile_name, bench.login_password)
        port = free_port()
        spec = keyturn_runs.keyturn_spec(profile, port)
        bench.commands.record(spec.argv, spec.env, cpu=bench.options.server_cpu)
        with serve(spec, port, bench.options.server_cpu, bench.log_dir, REPO_ROOT) as server:
            for scenario, run in steps:
                _record(bench, scenario, profile_name, lambda run=run, scenario=scenario: run(bench, server, scenario.id))
    except SCENARIO_ERRORS as error:
        # A failed set-up or server start fails the profile's remaining scenarios.
        logger.error("store profile %s failed: %s", profile_name, error)
        done = {result["id"] for result in bench.results}
        for scenario, _ in steps:
            if scenario.id not in done:
                bench.results.append(_entry(scenario, profile_name) | {"error": str(error)})


def _record(bench: Bench, scenario: Scenario, profile: str | None, measure: Callable[[], dict]) -> None:
    logger.info("running %s: %s", scenario.id, scenario.title)
    started = time.monotonic()
    try:
        measurement = measure()
    except SCENARIO_ERRORS as error:
        logger.error("scenario %s failed: %s", scenario.id, error)
        bench.results.append(_entry(scenario, profile) | {"error": str(error)})
        return
    seconds = time.monotonic() - started
    logger.info("%s: %.0f requests/s, p99 %.2f ms, %d non-2xx (%.0f s)", scenario.id,
                measurement["requests_per_s"], measurement["latency_ms"]["p99"], measurement["non_2xx"], seconds)
    bench.results.append(_entry(scenario, profile) | measurement | {"error": None})


def _entry(scenario: Scenario, profile: str | None) -> dict:
    return {
        "id": scenario.id,
        "title": scenario.title,
        "server": scenario.server,
        "load": scenario.load,
        "paced": scenario.paced,
        "keyturn_profile": profile,
    }
