"""Run wrk with the Lua scripts in ``bench/lua`` and read the JSON line their ``done`` hook prints."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from bench.servers import pinned

LUA_DIR = Path(__file__).parent / "lua"
RESULT_PREFIX = "BENCH_RESULT "
# Header values that carry a credential are replaced by this in recorded commands.
REDACTED = "<redacted>"
SECRET_HEADERS = ("cookie", "authorization", "x-csrf-token")


class WrkError(RuntimeError):
    """wrk failed or printed no result line."""


@dataclass(frozen=True, slots=True)
class WrkRun:
    url: str
    script: str
    duration_s: int
    connections: int
    threads: int = 1
    timeout_s: int = 5
    headers: dict[str, str] = field(default_factory=dict)
    script_args: list[str] = field(default_factory=list)

    def argv(self, *, redact: bool = False) -> list[str]:
        argv = [
            wrk_path(), "--threads", str(self.threads), "--connections", str(self.connections),
            "--duration", f"{self.duration_s}s", "--timeout", f"{self.timeout_s}s",
            "--script", str(LUA_DIR / self.script),
        ]
        for name, value in self.headers.items():
            header_value = REDACTED if redact and name.lower() in SECRET_HEADERS else value
            argv += ["--header", f"{name}: {header_value}"]
        argv.append(self.url)
        if self.script_args:
            argv += ["--", *self.script_args]
        return argv


def wrk_path() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise WrkError("wrk is not installed; install it with `apt-get install wrk`")
    return path


def wrk_version() -> str:
    # wrk has no version flag, but its usage text starts with the version line.
    completed = subprocess.run([wrk_path(), "-v"], capture_output=True, text=True, check=False)
    first_line = (completed.stdout or completed.stderr).splitlines()[0]
    return first_line.split(" Copyright", 1)[0].strip()


def run_wrk(run: WrkRun, cpu: str) -> dict:
    """Run wrk pinned to ``cpu`` and return the parsed result with rates and milliseconds added."""
    env = {**os.environ, "LUA_PATH": f"{LUA_DIR}/?.lua;;"}
    completed = subprocess.run(
        pinned(run.argv(), cpu), capture_output=True, text=True, env=env, timeout=run.duration_s + 60, check=False
    )
    lines = [line for line in completed.stdout.splitlines() if line.startswith(RESULT_PREFIX)]
    if completed.returncode != 0 or not lines:
        raise WrkError(
            f"wrk exited with status {completed.returncode} and printed no result line. "
            f"stderr: {completed.stderr.strip()[-500:]!r}, stdout: {completed.stdout.strip()[-500:]!r}"
        )
    return summarize(json.loads(lines[-1].removeprefix(RESULT_PREFIX)))


def summarize(raw: dict) -> dict:
    """Convert wrk's microseconds to requests per second and milliseconds."""
    duration_s = raw["duration_us"] / 1_000_000
    latency_ms = {name: round(value / 1000, 3) for name, value in raw["latency_us"].items()}
    return {
        "requests": raw["requests"],
        "duration_s": round(duration_s, 3),
        "requests_per_s": round(raw["requests"] / duration_s, 1) if duration_s else 0.0,
        "latency_ms": latency_ms,
        "non_2xx": raw["non_2xx"],
        "socket_errors": raw["socket_errors"],
        "wrk_status_errors": raw["status_errors"],
        "bytes": raw["bytes"],
    }
