"""Run the HTTP benchmark: anchors (A) Litestar, (B) Litestar JWT, (C) Flask JWT, then Keyturn.

Writes ``bench/results/latest.json`` and prints a Markdown summary. See
``bench/README.md`` for the scenarios, the options and what the figures mean.
"""

from __future__ import annotations

import argparse
import json
import logging
import secrets
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

if __package__ in (None, ""):
    # Run as a script (`python bench/run.py`): make the repository root importable.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import environment, report, scenarios
from bench.commands import CommandLog, redact, without_password
from bench.context import REPO_ROOT, Bench, Options
from bench.stores import BenchStores

logger = logging.getLogger("bench")

DEFAULT_OUTPUT = REPO_ROOT / "bench" / "results" / "latest.json"
FULL_WARMUP_S, FULL_DURATION_S = 5, 20
QUICK_WARMUP_S, QUICK_DURATION_S = 1, 3
# The servers and the load generators each need a whole CPU, so a load
# average of one or more before the run suggests that something else
# competes with them.
BUSY_LOAD_AVERAGE = 1.0


def build_parser() -> argparse.ArgumentParser:
    ids = ", ".join(scenario.id for scenario in scenarios.all_scenarios())
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help=f"smoke test: {QUICK_WARMUP_S} s warm-up and {QUICK_DURATION_S} s measurement per scenario")
    parser.add_argument("--warmup", type=int, help=f"warm-up seconds per scenario (default {FULL_WARMUP_S})")
    parser.add_argument("--duration", type=int, help=f"measured seconds per scenario (default {FULL_DURATION_S})")
    parser.add_argument("--connections", type=int, default=16,
                        help="connections of the closed-loop and refresh scenarios (default 16)")
    parser.add_argument("--wrk-threads", type=int, default=1, help="wrk threads of the GET scenarios (default 1)")
    parser.add_argument("--timeout", type=int, default=5, help="wrk request timeout in seconds (default 5)")
    parser.add_argument("--me-connections", type=int, default=4, help="connections of the /auth/me runs (default 4)")
    parser.add_argument("--me-rate", type=float, default=200.0,
                        help="requests per second the /auth/me runs offer in total (default 200)")
    parser.add_argument("--login-rate", type=float, default=5.0,
                        help="logins per second during the second /auth/me run (default 5)")
    parser.add_argument("--server-cpu", default="1", help="taskset CPU list for the servers (default 1)")
    parser.add_argument("--load-cpu", default="0", help="taskset CPU list for wrk and the drivers (default 0)")
    parser.add_argument("--keyturn-env", action="append", default=[], metavar="KEY=VALUE",
                        help="extra variable for every Keyturn process, overriding the store profile (repeatable)")
    parser.add_argument("--only", action="append", default=[], metavar="ID",
                        help=f"run only this scenario (repeatable). IDs: {ids}")
    parser.add_argument("--profile", action="store_true",
                        help="sample each server with py-spy during the measurement and save SVGs in bench/results/profiles/")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0", help="Redis for the Redis store profiles")
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/postgres",
                        help="PostgreSQL database to connect to when creating and dropping the bench database")
    parser.add_argument("--keep-logs", action="store_true",
                        help="keep the temporary directory with the server logs and SQLite files after the run")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="results file (default %(default)s)")
    return parser


def parse_options(parser: argparse.ArgumentParser, arguments: argparse.Namespace) -> Options:
    known = {scenario.id for scenario in scenarios.all_scenarios()}
    unknown = sorted(set(arguments.only) - known)
    if unknown:
        parser.error(f"unknown scenario {', '.join(unknown)}; choose from {', '.join(sorted(known))}")
    for name in ("connections", "wrk_threads", "timeout", "me_connections"):
        if getattr(arguments, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if arguments.me_rate <= 0 or arguments.login_rate <= 0:
        parser.error("--me-rate and --login-rate must be greater than 0")
    warmup, duration = (QUICK_WARMUP_S, QUICK_DURATION_S) if arguments.quick else (FULL_WARMUP_S, FULL_DURATION_S)
    if arguments.warmup is not None:
        warmup = arguments.warmup
    if arguments.duration is not None:
        duration = arguments.duration
    if warmup < 1 or duration < 1:
        parser.error("--warmup and --duration must be at least 1 second")
    return Options(
        warmup_s=warmup, duration_s=duration, connections=arguments.connections, wrk_threads=arguments.wrk_threads,
        timeout_s=arguments.timeout, me_connections=arguments.me_connections, me_rate=arguments.me_rate,
        login_rate=arguments.login_rate, server_cpu=arguments.server_cpu, load_cpu=arguments.load_cpu,
        profile=arguments.profile, only=frozenset(arguments.only),
    )


def parse_keyturn_env(parser: argparse.ArgumentParser, pairs: list[str]) -> dict[str, str]:
    env = {}
    for pair in pairs:
        name, separator, value = pair.partition("=")
        if not separator or not name.strip():
            parser.error(f"--keyturn-env expects KEY=VALUE, got {pair!r}")
        env[name.strip()] = value
    return env


def check_pinning(parser: argparse.ArgumentParser, options: Options) -> None:
    for flag, cpus in (("--server-cpu", options.server_cpu), ("--load-cpu", options.load_cpu)):
        try:
            completed = subprocess.run(["taskset", "-c", cpus, "true"], capture_output=True, text=True, check=False)
        except FileNotFoundError:
            parser.error("taskset is not installed; it comes with util-linux")
        if completed.returncode != 0:
            parser.error(f"{flag} {cpus}: taskset cannot pin to it: {completed.stderr.strip()}")


def recorded_options(arguments: argparse.Namespace, options: Options) -> dict[str, object]:
    """Return the options for the results file. --keyturn-env values are left out, and recorded redacted elsewhere."""
    recorded = {name: value for name, value in vars(arguments).items() if name != "keyturn_env"}
    recorded |= {
        "warmup": options.warmup_s,
        "duration": options.duration_s,
        "only": sorted(options.only),
        "output": str(arguments.output),
        "redis_url": without_password(arguments.redis_url),
        "postgres_url": without_password(arguments.postgres_url),
    }
    return recorded


def in_process_measurements(quick: bool) -> dict[str, list[dict]]:
    """Run the denylist and revocation-delay measurements, each in a process of its own, and collect their JSON lines."""
    sizes = ["10", "10000"] if quick else ["10", "1000000"]
    rounds = "20" if quick else "200"
    runs = {
        "denylist": [sys.executable, "-m", "bench.denylist", "--sizes", *sizes],
        "revocation_delay": [sys.executable, "-m", "bench.revocation_delay", "--rounds", rounds],
    }
    collected = {}
    for name, argv in runs.items():
        logger.info("running %s", " ".join(argv[1:]))
        completed = subprocess.run(argv, cwd=REPO_ROOT, capture_output=True, text=True, check=True)
        collected[name] = [json.loads(line) for line in completed.stdout.splitlines() if line.strip()]
    return collected


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", stream=sys.stderr)
    parser = build_parser()
    arguments = parser.parse_args()
    options = parse_options(parser, arguments)
    keyturn_env = parse_keyturn_env(parser, arguments.keyturn_env)
    check_pinning(parser, options)

    started_at = datetime.now(timezone.utc)
    started = time.monotonic()
    load_before = environment.load_average()
    if load_before[0] >= BUSY_LOAD_AVERAGE:
        logger.warning("the 1-minute load average is %.2f: other processes are using the CPUs, so the figures "
                       "will be lower and noisier than on an idle machine", load_before[0])
    run_id = secrets.token_hex(4)
    commands = CommandLog()
    base_env = {"APP_ENV": "production", "SESSION_SECRET": secrets.token_urlsafe(48)}
    stores = BenchStores(run_id, base_env, keyturn_env, arguments.redis_url, arguments.postgres_url, commands)
    bench = Bench(
        options=options, run_id=run_id, stores=stores, commands=commands,
        jwt_secret=secrets.token_urlsafe(48), login_password=secrets.token_urlsafe(18),
    )
    logger.info("run %s: %d s warm-up and %d s measurement per scenario, server logs in %s",
                run_id, options.warmup_s, options.duration_s, stores.log_dir)
    extras: dict[str, list[dict]] = {}
    try:
        scenarios.run_all(bench)
        if not options.only:
            extras = in_process_measurements(arguments.quick)
    finally:
        cleanup_problems = stores.cleanup(keep_files=arguments.keep_logs)
        if arguments.keep_logs:
            logger.info("kept the server logs and SQLite files in %s", stores.log_dir)
        for problem in cleanup_problems:
            logger.error("clean-up: %s", problem)

    document = {
        "date": started_at.isoformat(timespec="seconds"),
        "run_id": run_id,
        "total_seconds": round(time.monotonic() - started, 1),
        "options": recorded_options(arguments, options),
        "keyturn_env": {name: redact(name, value) for name, value in {**base_env, **keyturn_env}.items()},
        "keyturn_profiles": stores.described_profiles(),
        "environment": environment.describe(arguments.redis_url, arguments.postgres_url),
        "load_average_before": load_before,
        "scenarios": bench.results,
        "me_p99_ratio": report.me_p99_ratio(bench.results),
        "cookies": bench.cookies,
        **extras,
        "commands": commands.entries,
        "cleanup_problems": cleanup_problems,
    }
    arguments.output.parent.mkdir(parents=True, exist_ok=True)
    arguments.output.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    summary = report.markdown(document)
    summary_path = arguments.output.with_suffix(".md")
    summary_path.write_text(report.heading(document) + summary, encoding="utf-8")
    print(summary)
    logger.info("wrote %s and %s in %.0f s", arguments.output, summary_path, document["total_seconds"])

    failed = [result["id"] for result in bench.results if result.get("error") is not None]
    if failed:
        logger.error("failed scenarios: %s", ", ".join(failed))
    if cleanup_problems:
        logger.error("clean-up failed, see the errors above")
    return 1 if failed or cleanup_problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
