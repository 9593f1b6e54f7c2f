"""Fixtures every test layer shares: the legacy Flask app's data."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

LEGACY_FIXTURES = Path(__file__).resolve().parent / "fixtures" / "legacy"
LEGACY_SQLITE = LEGACY_FIXTURES / "legacy_flask_app.sqlite"


def legacy_accounts() -> list[dict]:
    """The known passwords of the legacy app's first ten accounts."""
    return json.loads((LEGACY_FIXTURES / "legacy_accounts.json").read_text(encoding="utf-8"))


def account(username: str) -> dict:
    return next(item for item in legacy_accounts() if item["username"] == username)


@pytest.fixture
def legacy_db(tmp_path: Path) -> Path:
    """A private copy of the legacy Flask database; the original file is never opened for writing."""
    copy = tmp_path / "legacy.sqlite"
    shutil.copyfile(LEGACY_SQLITE, copy)
    return copy
