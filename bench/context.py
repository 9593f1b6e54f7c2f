"""Options of a run, the state its scenarios share, and the warm-up-then-measure step."""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from bench import cpu_usage
from bench.commands import CommandLog
from bench.http_client import cookie_value
from bench.servers import BIN, RunningServer, pinned
from bench.stores import BenchStores
from bench.wrk import WrkRun, run_wrk

REPO_ROOT = Path(__file__).resolve().parent.parent
PROFILE_DIR = REPO_ROOT / "bench" / "results" / "profiles"


@dataclass(frozen=True, slots=True)
class Options:
    warmup_s: int
    duration_s: int
    connections: int
    wrk_threads: int
    timeout_s: int
    me_connections: int
    me_rate: float
    login_rate: float
    server_cpu: str
    load_cpu: str
    profile: bool
    only: frozenset[str]


@dataclass
class Bench:
    """Shared state of one run: options, secrets, stores, the command log and the results."""

    options: Options
    run_id: str
    stores: BenchStores
    commands: CommandLog
    jwt_secret: str
    login_password: str
    results: list[dict] = field(default_factory=list)
    cookies: dict[str, dict[str, object]] = field(default_factory=dict)

    @property
    def log_dir(self) -> Path:
        return self.stores.log_dir

    def wants(self, scenario_id: str) -> bool:
        return not self.options.only or scenario_id in self.options.only

    def record_cookie(self, app: str, name: str, set_cookie_header: str) -> None:
        value = cookie_value(set_cookie_header)
        self.cookies[app] = {
            "cookie": name,
            "value_bytes": len(value.encode("latin-1")),
            "set_cookie_bytes": len(set_cookie_header.encode("latin-1")),
        }


def measure_with_wrk(
    bench: Bench, server: RunningServer, scenario_id: str, make_run: Callable[[str, int], WrkRun]
) -> dict:
    """Run wrk once for the warm-up and once for the measurement, and return the measured result.

    ``make_run`` gets the phase (``"warmup"`` or ``"measure"``) and its length in seconds.
    """
    options = bench.options
    warmup = make_run("warmup", options.warmup_s)
    bench.commands.record(warmup.argv(redact=True), cpu=options.load_cpu)
    run_wrk(warmup, options.load_cpu)

    measured = make_run("measure", options.duration_s)
    bench.commands.record(measured.argv(redact=True), cpu=options.load_cpu)
    with profiled(bench, server, scenario_id, options.duration_s), cpu_usage.watch(
        [options.server_cpu, options.load_cpu]
    ) as cpu_use:
        result = run_wrk(measured, options.load_cpu)
    return {
        **result,
        "warmup_s": options.warmup_s,
        "connections": measured.connections,
        "threads": measured.threads,
        "cpu_use": cpu_use,
    }


@contextlib.contextmanager
def profiled(bench: Bench, server: RunningServer, scenario_id: str, seconds: int) -> Iterator[None]:
    """With ``--profile``, sample the server with py-spy while the block runs and save a flame graph."""
    if not bench.options.profile:
        yield
        return
    PROFILE_DIR.mkdir(parents=True, exist_ok=True)
    output = PROFILE_DIR / f"{scenario_id}.svg"
    argv = [
        str(BIN / "py-spy"), "record", "--pid", str(server.process.pid),
        "--subprocesses", "--nonblocking", "--duration", str(seconds), "--format", "flamegraph",
        "--output", str(output),
    ]
    bench.commands.record(argv, cpu=bench.options.load_cpu)
    with (bench.log_dir / f"py-spy-{scenario_id}.log").open("ab") as log:
        sampler = subprocess.Popen(pinned(argv, bench.options.load_cpu), stdout=log, stderr=subprocess.STDOUT)
    try:
        yield
    finally:
        try:
            sampler.wait(timeout=seconds + 30)
        except subprocess.TimeoutExpired:
            sampler.terminate()
            sampler.wait()
