"""Run Keyturn's Alembic migrations from code, such as the ``keyturn migrate`` command.

The script folder is found next to this module, so migrations run the same
from a source checkout, an installed package and any working directory.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config

from adapters.sql.users_table import UsersTableSpec

MIGRATIONS_DIRECTORY = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str, spec: UsersTableSpec) -> Config:
    """Build an Alembic configuration that reads no ini file and targets ``url``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIRECTORY))
    config.attributes["database_url"] = url
    config.attributes["users_table_spec"] = spec
    return config


async def upgrade(url: str, spec: UsersTableSpec, revision: str = "head") -> None:
    """Upgrade the database at ``url`` to ``revision``, creating the users table if it is missing."""
    await _run_in_thread(command.upgrade, alembic_config(url, spec), revision)


async def downgrade(url: str, spec: UsersTableSpec, revision: str) -> None:
    """Downgrade the database at ``url`` to ``revision``; ``"base"`` drops every Keyturn table."""
    await _run_in_thread(command.downgrade, alembic_config(url, spec), revision)


async def _run_in_thread(alembic_command, config: Config, revision: str) -> None:
    # env.py drives its async engine with asyncio.run(), which needs a thread
    # without a running event loop.
    await asyncio.to_thread(alembic_command, config, revision)
