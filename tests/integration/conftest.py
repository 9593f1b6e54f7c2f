"""Fixtures for tests against real storage: migrated SQLite files and copies of the legacy database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sql.engine import create_engine
from adapters.sql.migrate import upgrade
from adapters.sql.users_table import UsersTableSpec

def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


async def _migrated_engine(path: Path) -> AsyncIterator[AsyncEngine]:
    await upgrade(sqlite_url(path), UsersTableSpec())
    engine = create_engine(sqlite_url(path))
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
async def legacy_engine(legacy_db: Path) -> AsyncIterator[AsyncEngine]:
    """An engine on a migrated copy of the legacy database."""
    async for engine in _migrated_engine(legacy_db):
        yield engine


@pytest.fixture
async def sqlite_engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """An engine on a fresh SQLite file migrated to head, so it also contains an empty default users table."""
    async for engine in _migrated_engine(tmp_path / "keyturn.sqlite3"):
        yield engine
