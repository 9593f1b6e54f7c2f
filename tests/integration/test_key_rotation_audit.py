import sqlite3
from pathlib import Path

from adapters.sql.migrate import upgrade
from entrypoints.commands import record_key_rotation
from entrypoints.settings import Settings


async def test_key_rotation_audited(tmp_path: Path):
    database = tmp_path / "keyturn.sqlite3"
    settings = Settings.from_environ(
        {"APP_ENV": "test", "SESSION_SECRET": "r" * 40, "KEYTURN_DATABASE_URL": f"sqlite:///{database}"}
    )
    await upgrade(settings.database_url, settings.users_table)

    await record_key_rotation(settings)

    with sqlite3.connect(database) as connection:
        rows = connection.execute("SELECT event, outcome, user_agent FROM keyturn_audit_events").fetchall()
    assert rows == [("signing_key_rotated", "success", "keyturn keys rotate")]
