"""Keyturn store profiles for the benchmark, and the databases and Redis keys they need.

Each profile is a set of ``KEYTURN_*`` variables: SQLite alone (the embedded
default), SQLite with Redis stores, and PostgreSQL with Redis stores. A run
creates a temporary SQLite file per profile, one PostgreSQL database named
``keyturn_bench_<run id>`` and Redis keys under ``keyturn_bench_<run id>:``,
and ``cleanup`` removes all of them.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
from redis.asyncio import Redis
from redis.exceptions import RedisError

from bench.commands import CommandLog, child_env, redact, without_password

KEYTURN = str(Path(sys.executable).parent / "keyturn")
BENCH_EMAIL = "bench@example.com"
BENCH_USERNAME = "bench"
STORE_VARIABLES = ("KEYTURN_REVOCATION_STORE", "KEYTURN_REFRESH_STORE", "KEYTURN_LOGIN_ATTEMPT_STORE")


class StoreError(RuntimeError):
    """A database or Redis step of the set-up failed."""


@dataclass(frozen=True, slots=True)
class Profile:
    name: str
    description: str
    env: dict[str, str]


@dataclass
class BenchStores:
    """Creates the profiles of one run and removes what they created."""

    run_id: str
    base_env: dict[str, str]
    extra_env: dict[str, str]
    redis_url: str
    postgres_admin_url: str
    commands: CommandLog
    _tmp_dir: Path = field(init=False)
    _databases: list[str] = field(default_factory=list, init=False)
    _profiles: dict[str, Profile] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        self._tmp_dir = Path(tempfile.mkdtemp(prefix=f"keyturn-bench-{self.run_id}-"))

    @property
    def redis_prefix(self) -> str:
        return f"keyturn_bench_{self.run_id}:"

    @property
    def log_dir(self) -> Path:
        return self._tmp_dir

    def profile(self, name: str, password: str) -> Profile:
        """Return the named profile, migrating its database and adding the bench account on first use."""
        if name not in self._profiles:
            profile = self._build(name)
            self._prepare(profile, password)
            self._profiles[name] = profile
        return self._profiles[name]

    def _build(self, name: str) -> Profile:
        sqlite_url = f"sqlite:///{self._tmp_dir / f'{name}.sqlite3'}"
        redis = {"KEYTURN_REDIS_URL": self.redis_url, "KEYTURN_REDIS_PREFIX": f"{self.redis_prefix}{name}:"}
        if name == "sqlite":
            stores = dict.fromkeys(STORE_VARIABLES, "sql")
            env, description = {"KEYTURN_DATABASE_URL": sqlite_url, **stores}, "SQLite, every store in SQL"
        elif name == "sqlite-redis":
            stores = dict.fromkeys(STORE_VARIABLES, "redis")
            env, description = {"KEYTURN_DATABASE_URL": sqlite_url, **redis, **stores}, "SQLite users, Redis stores"
        elif name == "postgres-redis":
            database = self._create_database()
            stores = dict.fromkeys(STORE_VARIABLES, "redis")
            env = {"KEYTURN_DATABASE_URL": _with_database(self.postgres_admin_url, database), **redis, **stores}
            description = "PostgreSQL users, Redis stores"
        else:
            raise ValueError(f"unknown store profile {name!r}")
        # Variables from --keyturn-env come last, so they override the profile.
        return Profile(name=name, description=description, env={**self.base_env, **env, **self.extra_env})

    def _prepare(self, profile: Profile, password: str) -> None:
        self._keyturn(profile, ["db", "upgrade"])
        self._keyturn(
            profile, ["users", "add", "--email", BENCH_EMAIL, "--username", BENCH_USERNAME, "--password-stdin"],
            stdin=password + "\n",
        )

    def _keyturn(self, profile: Profile, arguments: list[str], stdin: str | None = None) -> None:
        argv = [KEYTURN, *arguments]
        self.commands.record(argv, profile.env)
        env = child_env(profile.env)
        completed = subprocess.run(argv, input=stdin, capture_output=True, text=True, env=env, check=False)
        if completed.returncode != 0:
            raise StoreError(
                f"`keyturn {' '.join(arguments)}` failed for profile {profile.name} "
                f"with status {completed.returncode}: {completed.stderr.strip()[-800:]}"
            )

    def _create_database(self) -> str:
        name = f"keyturn_bench_{self.run_id}"
        asyncio.run(_execute(self.postgres_admin_url, f'CREATE DATABASE "{name}"'))
        self._databases.append(name)
        return name

    def described_profiles(self) -> dict[str, dict[str, object]]:
        """Return each profile used so far with its variables, secrets redacted."""
        return {
            name: {"description": profile.description, "env": {key: redact(key, value) for key, value in profile.env.items()}}
            for name, profile in self._profiles.items()
        }

    def cleanup(self, *, keep_files: bool = False) -> list[str]:
        """Drop the databases, delete the Redis keys and the temporary files, and return the problems met.

        With ``keep_files`` the temporary directory (server logs, SQLite files) stays for inspection.
        """
        problems = []
        for name in self._databases:
            try:
                asyncio.run(_execute(self.postgres_admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            except (OSError, StoreError) as error:
                problems.append(f"could not drop database {name}: {error}")
        try:
            asyncio.run(_delete_redis_keys(self.redis_url, self.redis_prefix))
        except (OSError, StoreError) as error:
            problems.append(f"could not delete Redis keys {self.redis_prefix}*: {error}")
        if not keep_files:
            shutil.rmtree(self._tmp_dir, ignore_errors=True)
        return problems


def _with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{database}", parts.query, parts.fragment))


async def _execute(admin_url: str, statement: str) -> None:
    try:
        connection = await asyncpg.connect(admin_url, timeout=10)
    except (OSError, asyncpg.PostgresError) as error:
        raise StoreError(f"cannot connect to PostgreSQL at {without_password(admin_url)}: {error}") from error
    try:
        await connection.execute(statement)
    except asyncpg.PostgresError as error:
        raise StoreError(f"PostgreSQL rejected `{statement}`: {error}") from error
    finally:
        await connection.close()


async def _delete_redis_keys(redis_url: str, prefix: str) -> None:
    client = Redis.from_url(redis_url)
    try:
        batch = []
        async for key in client.scan_iter(match=f"{prefix}*", count=1000):
            batch.append(key)
            if len(batch) >= 1000:
                await client.delete(*batch)
                batch.clear()
        if batch:
            await client.delete(*batch)
    except RedisError as error:
        raise StoreError(f"Redis at {without_password(redis_url)} failed: {error}") from error
    finally:
        await client.aclose()

