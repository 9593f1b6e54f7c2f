"""Facts about the machine and software of a run, for the results file."""

from __future__ import annotations

import asyncio
import os
import platform
import subprocess
from importlib.metadata import PackageNotFoundError, version

import asyncpg
from redis.asyncio import Redis
from redis.exceptions import RedisError

from bench.context import REPO_ROOT
from bench.wrk import WrkError, wrk_version

PACKAGES = ("keyturn", "litestar", "PyJWT", "granian", "gunicorn", "Flask", "flask-jwt-extended", "SQLAlchemy",
            "redis", "asyncpg", "aiosqlite")


def load_average() -> list[float]:
    """Return the 1, 5 and 15 minute load averages, which show other processes competing for the CPUs."""
    return [round(value, 2) for value in os.getloadavg()]


def describe(redis_url: str, postgres_admin_url: str) -> dict[str, object]:
    return {
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "packages": {name: _package_version(name) for name in PACKAGES},
        "wrk": _wrk(),
        "cpu_model": _cpu_model(),
        "logical_cpus": os.cpu_count(),
        "kernel": platform.release(),
        "redis_server": _redis_version(redis_url),
        "postgresql_server": _postgres_version(postgres_admin_url),
        "git_commit": _git(["rev-parse", "HEAD"]),
        # The results directory is left out, because a run rewrites it and its files are committed afterwards.
        "git_worktree_clean": _git(["status", "--porcelain", "--", ".", ":(exclude)bench/results"]) == "",
    }


def _package_version(name: str) -> str | None:
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def _wrk() -> str:
    try:
        return wrk_version()
    except WrkError as error:
        return f"unavailable: {error}"


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _redis_version(redis_url: str) -> str:
    async def query() -> str:
        client = Redis.from_url(redis_url, socket_timeout=5)
        try:
            return str((await client.info("server"))["redis_version"])
        finally:
            await client.aclose()

    try:
        return asyncio.run(query())
    except (OSError, RedisError) as error:
        return f"unavailable: {error}"


def _postgres_version(admin_url: str) -> str:
    async def query() -> str:
        connection = await asyncpg.connect(admin_url, timeout=5)
        try:
            return str(await connection.fetchval("SHOW server_version"))
        finally:
            await connection.close()

    try:
        return asyncio.run(query())
    except (OSError, asyncpg.PostgresError) as error:
        return f"unavailable: {error}"


def _git(arguments: list[str]) -> str | None:
    completed = subprocess.run(["git", *arguments], cwd=REPO_ROOT, capture_output=True, text=True, check=False)
    return completed.stdout.strip() if completed.returncode == 0 else None
