"""``KEYTURN_REVOCATION_CHECK`` chooses between the per-process replica and direct store reads."""

from __future__ import annotations

import pytest

from adapters.revocation_replica import ReplicatedRevocationStore
from domain.errors import ConfigurationError
from entrypoints.container import Container
from entrypoints.settings import Settings


def revocations_for(**environ: str) -> object:
    settings = Settings.from_environ({"APP_ENV": "development", "KEYTURN_DATABASE_URL": "sqlite:///unused.db", **environ})
    return Container(settings=settings).revocations()


def test_shared_store_gets_a_replica_by_default() -> None:
    assert isinstance(revocations_for(), ReplicatedRevocationStore)


def test_direct_mode_reads_the_store() -> None:
    assert not isinstance(revocations_for(KEYTURN_REVOCATION_CHECK="direct"), ReplicatedRevocationStore)


def test_memory_store_needs_no_replica() -> None:
    assert not isinstance(revocations_for(KEYTURN_REVOCATION_STORE="memory"), ReplicatedRevocationStore)


@pytest.mark.parametrize(
    ("name", "value"),
    [("KEYTURN_REVOCATION_CHECK", "sometimes"), ("KEYTURN_REVOCATION_POLL_MS", "0"), ("KEYTURN_REVOCATION_POLL_MS", "soon")],
)
def test_bad_values_name_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigurationError, match=name):
        Settings.from_environ({"APP_ENV": "development", name: value})
