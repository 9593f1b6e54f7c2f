"""Alembic environment for Keyturn's own tables.

Programmatic callers (``adapters.sql.migrate``) put ``database_url`` and
``users_table_spec`` into ``config.attributes``; the ``alembic`` command line
falls back to ``KEYTURN_DATABASE_URL`` and the ``KEYTURN_USERS_*`` variables.
"""

from __future__ import annotations

import asyncio
import os
from logging.config import fileConfig

from alembic import context
from sqlalchemy.engine import Connection

from adapters.sql.engine import create_engine
from adapters.sql.tables import VERSION_TABLE, include_name, include_object, metadata
from adapters.sql.users_table import UsersTableSpec

DEFAULT_DATABASE_URL = "sqlite:///var/keyturn.sqlite3"
URL_ATTRIBUTE = "database_url"
SPEC_ATTRIBUTE = "users_table_spec"
# Requests get a fraction of a second; a migration may wait for locks held
# by the application, so it gets far longer before giving up.
MIGRATION_TIMEOUT_SECONDS = 60.0

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = metadata


def database_url() -> str:
    return config.attributes.get(URL_ATTRIBUTE) or os.environ.get("KEYTURN_DATABASE_URL") or DEFAULT_DATABASE_URL


def ensure_users_table_spec() -> None:
    """Make the users table spec available to migration scripts through ``config.attributes``."""
    if config.attributes.get(SPEC_ATTRIBUTE) is None:
        config.attributes[SPEC_ATTRIBUTE] = UsersTableSpec.from_environ(os.environ)


def configure_options(sqlite: bool) -> dict[str, object]:
    return {
        "target_metadata": target_metadata,
        "include_name": include_name,
        "include_object": include_object,
        "version_table": VERSION_TABLE,
        "render_as_batch": sqlite,
        # The engine makes SQLite connections issue a real BEGIN, so DDL can
        # roll back there as well.
        "transactional_ddl": True,
        "compare_type": True,
    }


def run_migrations_offline() -> None:
    url = database_url()
    context.configure(
        url=url,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        **configure_options(url.startswith("sqlite")),
    )
    with context.begin_transaction():
        context.run_migrations()


def run_sync_migrations(connection: Connection) -> None:
    context.configure(connection=connection, **configure_options(connection.dialect.name == "sqlite"))
    with context.begin_transaction():
        context.run_migrations()


async def run_async_migrations() -> None:
    engine = create_engine(database_url(), timeout_seconds=MIGRATION_TIMEOUT_SECONDS)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(run_sync_migrations)
    finally:
        await engine.dispose()


ensure_users_table_spec()
if context.is_offline_mode():
    run_migrations_offline()
else:
    asyncio.run(run_async_migrations())
