"""The environment of child processes, and the record of every command a run starts."""

from __future__ import annotations

import os
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

# Variables that configure the programs under test. A value left in the
# caller's shell must not change a run, so children get only what the
# benchmark sets.
CONTROLLED_PREFIXES = ("KEYTURN_", "GRANIAN_", "GUNICORN_", "BENCH_")
CONTROLLED_NAMES = ("APP_ENV", "FLASK_ENV", "SESSION_SECRET", "SESSION_SECRET_PREVIOUS", "GUNICORN_CMD_ARGS")
SECRET_MARKERS = ("SECRET", "PASSWORD")
REDACTED = "<redacted>"


def child_env(extra: Mapping[str, str]) -> dict[str, str]:
    """Return this process's environment without the controlled variables, plus ``extra``."""
    inherited = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(CONTROLLED_PREFIXES) and name not in CONTROLLED_NAMES
    }
    return {**inherited, **extra}


def redact(name: str, value: str) -> str:
    """Hide secrets and URL passwords, so a value can be written to the results file."""
    if any(marker in name.upper() for marker in SECRET_MARKERS):
        return REDACTED
    return without_password(value) if "://" in value else value


def without_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", f":{REDACTED}@")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


@dataclass
class CommandLog:
    """Every command a run starts, with the variables the benchmark set for it, secrets redacted."""

    entries: list[dict[str, object]] = field(default_factory=list)

    def record(self, argv: Sequence[str], env: Mapping[str, str] | None = None, *, cpu: str | None = None) -> None:
        """Add a command, prefixed with ``taskset -c cpu`` when it ran pinned to that CPU list."""
        pinned_argv = ["taskset", "-c", cpu, *argv] if cpu is not None else list(argv)
        entry: dict[str, object] = {"command": shlex.join(pinned_argv)}
        if env:
            entry["env"] = {name: redact(name, value) for name, value in sorted(env.items())}
        self.entries.append(entry)
