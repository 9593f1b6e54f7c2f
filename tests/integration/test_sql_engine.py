"""URL handling and SQLite connection settings of ``adapters.sql.engine``."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.sql.engine import create_engine, normalize_url
from domain.errors import ConfigurationError


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///var/keyturn.sqlite3", "sqlite+aiosqlite:///var/keyturn.sqlite3"),
        ("sqlite:////abs/path.db", "sqlite+aiosqlite:////abs/path.db"),
        ("postgresql://keyturn:pw@127.0.0.1:5432/app", "postgresql+asyncpg://keyturn:pw@127.0.0.1:5432/app"),
        ("postgres://keyturn@127.0.0.1/app", "postgresql+asyncpg://keyturn@127.0.0.1/app"),
        ("sqlite+aiosqlite:///x.db", "sqlite+aiosqlite:///x.db"),
        ("postgresql+asyncpg://127.0.0.1/app", "postgresql+asyncpg://127.0.0.1/app"),
        ("postgresql+psycopg://127.0.0.1/app", "postgresql+psycopg://127.0.0.1/app"),
    ],
)
def test_normalize_url(url: str, expected: str) -> None:
    assert normalize_url(url) == expected


@pytest.mark.parametrize(
    "url",
    [
        "",
        "keyturn.sqlite3",
        "mysql://127.0.0.1/app",
        "sqlite+pysqlite:///sync-driver.db",
        "postgresql+nosuchdriver://user:secret-password@127.0.0.1/app",
        "postgresql://user:secret-password@127.0.0.1:notaport/app",
    ],
)
def test_unsupported_url_raises_configuration_error(url: str) -> None:
    with pytest.raises(ConfigurationError, match="KEYTURN_DATABASE_URL") as raised:
        create_engine(url)

    printed_chain = [raised.value]
    while True:
        error = printed_chain[-1]
        linked = error.__cause__ or (None if error.__suppress_context__ else error.__context__)
        if linked is None:
            break
        printed_chain.append(linked)
    assert not any("secret-password" in str(error) for error in printed_chain)


async def test_sqlite_connection_pragmas(tmp_path: Path) -> None:
    database = tmp_path / "missing" / "parent" / "keyturn.sqlite3"

    engine = create_engine(f"sqlite:///{database}")
    try:
        async with engine.connect() as connection:
            journal_mode = (await connection.exec_driver_sql("PRAGMA journal_mode")).scalar()
            busy_timeout = (await connection.exec_driver_sql("PRAGMA busy_timeout")).scalar()
            foreign_keys = (await connection.exec_driver_sql("PRAGMA foreign_keys")).scalar()
    finally:
        await engine.dispose()

    assert (journal_mode, busy_timeout, foreign_keys) == ("wal", 5000, 1)
    assert database.is_file()
