"""The key directory, the ``keyturn keys`` commands and the reloading key-ring source."""

import argparse
import io
import json
import logging
import os
import stat
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from adapters.key_directory import KeyDirectory, KeyRingSource, build_key_ring_source
from adapters.keys import derive_hs256_key, key_ring_from_secrets
from domain.clock import FixedClock
from domain.errors import ConfigurationError
from domain.keys import KeyManagementError, KeyState
from domain.policy import TokenPolicy
from entrypoints.key_commands import add_keys_parser, run_keys_command

SECRET = "key-directory-test-secret-0123456789ab"
START = datetime(2026, 5, 1, 12, 0, tzinfo=timezone.utc)
RELOAD = timedelta(seconds=10)
POLICY = TokenPolicy()
# Access lifetime 15 min + leeway 60 s + reload interval 10 s.
RETENTION = timedelta(minutes=16, seconds=10)


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def directory(tmp_path: Path) -> KeyDirectory:
    return KeyDirectory(tmp_path / "keys")


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def keys_command(directory: KeyDirectory, clock: FixedClock, *args: str) -> tuple[int, str]:
    parser = argparse.ArgumentParser(prog="keyturn")
    add_keys_parser(parser.add_subparsers(dest="command", required=True))
    out = io.StringIO()
    status = run_keys_command(parser.parse_args(["keys", *args]), directory.path, POLICY, RELOAD, clock, out)
    return status, out.getvalue()


def test_generate_writes_private_key_0600(directory, clock):
    record = directory.generate("EdDSA", clock.now())

    key_path = directory.private_key_path(record.kid)
    assert mode_of(key_path) == 0o600
    assert key_path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert mode_of(directory.path) == 0o700


def test_generate_lists_key_as_pending(directory, clock):
    record = directory.generate("ES256", clock.now())

    manifest = directory.read_manifest()
    assert manifest.records == (record,)
    assert record.state is KeyState.PENDING
    assert record.kid.startswith("es-")
    assert manifest.active is None


def test_manifest_holds_no_key_material(directory, clock):
    directory.generate("EdDSA", clock.now())

    document = json.loads(directory.manifest_path.read_text())
    assert set(document["keys"][0]) == {"kid", "alg", "state", "created_at", "retired_at"}
    assert "PRIVATE" not in directory.manifest_path.read_text()


def test_writes_leave_no_temporary_files(directory, clock):
    directory.generate("EdDSA", clock.now())
    directory.generate("ES256", clock.now())

    names = sorted(path.name for path in directory.path.iterdir())
    assert [name for name in names if name.endswith(".tmp")] == []
    assert len([name for name in names if name.endswith(".pem")]) == 2


def test_pending_key_loads_as_verify_only(directory, clock):
    record = directory.generate("EdDSA", clock.now())

    active, verify_only = directory.load_keys(directory.read_manifest())

    assert active is None
    assert [key.kid for key in verify_only] == [record.kid]


def test_rotate_rejected_until_reload_interval(directory, clock):
    directory.generate("EdDSA", clock.now())
    clock.advance(RELOAD - timedelta(seconds=1))

    with pytest.raises(KeyManagementError, match="reload interval"):
        directory.rotate(clock.now(), RELOAD)
    assert directory.read_manifest().active is None


def test_rotate_promotes_and_retires(directory, clock):
    first = directory.generate("EdDSA", clock.now())
    clock.advance(RELOAD)
    directory.rotate(clock.now(), RELOAD)
    second = directory.generate("EdDSA", clock.now())
    clock.advance(RELOAD)

    manifest = directory.rotate(clock.now(), RELOAD)

    by_kid = {record.kid: record for record in manifest.records}
    assert by_kid[second.kid].state is KeyState.ACTIVE
    assert by_kid[first.kid].state is KeyState.RETIRED
    assert by_kid[first.kid].retired_at == clock.now()
    assert directory.read_manifest() == manifest


def test_prune_keeps_retired_key_until_retention(directory, clock):
    first = directory.generate("EdDSA", clock.now())
    directory.rotate(clock.now(), RELOAD, force=True)
    directory.generate("EdDSA", clock.now())
    directory.rotate(clock.now(), RELOAD, force=True)
    clock.advance(RETENTION - timedelta(seconds=1))

    assert directory.prune(clock.now(), RETENTION) == ()
    assert directory.private_key_path(first.kid).exists()


def test_prune_deletes_expired_retired_key(directory, clock):
    first = directory.generate("EdDSA", clock.now())
    directory.rotate(clock.now(), RELOAD, force=True)
    second = directory.generate("EdDSA", clock.now())
    directory.rotate(clock.now(), RELOAD, force=True)
    clock.advance(RETENTION)

    removed = directory.prune(clock.now(), RETENTION)

    assert [record.kid for record in removed] == [first.kid]
    assert not directory.private_key_path(first.kid).exists()
    assert [record.kid for record in directory.read_manifest().records] == [second.kid]


def test_load_rejects_group_readable_key(directory, clock):
    record = directory.generate("EdDSA", clock.now())
    directory.private_key_path(record.kid).chmod(0o644)

    with pytest.raises(ConfigurationError, match="chmod 600"):
        directory.load_keys(directory.read_manifest())


def test_load_rejects_key_of_other_algorithm(directory, clock):
    record = directory.generate("EdDSA", clock.now())
    other = directory.generate("ES256", clock.now())
    os.replace(directory.private_key_path(other.kid), directory.private_key_path(record.kid))
    manifest = directory.read_manifest().without([other])

    with pytest.raises(ConfigurationError, match="does not hold a key for EdDSA"):
        directory.load_keys(manifest)


def test_load_reports_missing_key_file(directory, clock):
    record = directory.generate("EdDSA", clock.now())
    directory.private_key_path(record.kid).unlink()

    with pytest.raises(ConfigurationError, match="missing"):
        directory.load_keys(directory.read_manifest())


@pytest.mark.parametrize(
    "content",
    [b"not json", b"[]", b'{"version": 2, "keys": []}', b'{"version": 1, "keys": [{"kid": "../x"}]}',
     b'{"version": 1, "keys": [{"kid": "ed-a", "alg": "EdDSA", "state": "on", "created_at": "2026-05-01T00:00:00Z"}]}'],
)
def test_malformed_manifest_rejected(directory, content):
    directory.path.mkdir()
    directory.manifest_path.write_bytes(content)

    with pytest.raises(ConfigurationError, match="keys.json"):
        directory.read_manifest()


def test_missing_manifest_is_empty(directory):
    assert directory.read_manifest().records == ()
    assert directory.manifest_signature() is None


def test_command_generate_rotate_list(directory, clock):
    status, output = keys_command(directory, clock, "generate", "--alg", "EdDSA")
    assert status == 0
    kid = directory.read_manifest().records[0].kid
    assert kid in output

    clock.advance(RELOAD)
    status, output = keys_command(directory, clock, "rotate")
    assert status == 0
    assert f"{kid} (EdDSA) now signs" in output

    status, output = keys_command(directory, clock, "list")
    assert status == 0
    assert output.splitlines()[0].split() == ["KID", "ALG", "STATE", "CREATED", "RETIRED"]
    assert output.splitlines()[1].split() == [kid, "EdDSA", "active", "2026-05-01T12:00:00Z", "-"]
    assert "PRIVATE" not in output


def test_command_rotate_too_early(directory, clock, capsys):
    keys_command(directory, clock, "generate", "--alg", "ES256")

    status, _ = keys_command(directory, clock, "rotate")

    assert status == 1
    assert "--force" in capsys.readouterr().err


def test_command_rotate_force(directory, clock):
    keys_command(directory, clock, "generate", "--alg", "ES256")

    status, output = keys_command(directory, clock, "rotate", "--force")

    assert status == 0
    assert "--force" in output
    assert directory.read_manifest().active is not None


def test_command_prune_reports_nothing(directory, clock):
    status, output = keys_command(directory, clock, "prune")

    assert status == 0
    assert "nothing to prune" in output


def test_command_list_empty(directory, clock):
    status, output = keys_command(directory, clock, "list")

    assert status == 0
    assert "HS256" in output


def test_command_without_key_dir(clock, capsys):
    parser = argparse.ArgumentParser(prog="keyturn")
    add_keys_parser(parser.add_subparsers(dest="command", required=True))

    status = run_keys_command(parser.parse_args(["keys", "list"]), None, POLICY, RELOAD, clock)

    assert status == 2
    assert "KEYTURN_KEY_DIR" in capsys.readouterr().err


def test_source_without_directory_returns_secret_ring():
    ring = key_ring_from_secrets(SECRET)

    source = KeyRingSource(ring, None, RELOAD)

    assert source.current() is ring
    assert source.reload_now() is ring


def test_source_reloads_only_after_interval(directory, clock):
    directory.generate("EdDSA", clock.now())
    monotonic = FakeMonotonic()
    source = KeyRingSource(key_ring_from_secrets(SECRET), directory, RELOAD, monotonic)
    hs_kid = derive_hs256_key(SECRET).kid
    assert source.current().active.kid == hs_kid

    directory.rotate(clock.now(), RELOAD, force=True)
    monotonic.now += RELOAD.total_seconds() - 0.5
    assert source.current().active.kid == hs_kid

    monotonic.now += 0.5
    assert source.current().active.kid == directory.read_manifest().active.kid
    assert source.current().find(hs_kid).algorithm == "HS256"


def test_source_stats_at_most_once_per_interval(directory, clock, monkeypatch):
    directory.generate("EdDSA", clock.now())
    monotonic = FakeMonotonic()
    source = KeyRingSource(key_ring_from_secrets(SECRET), directory, RELOAD, monotonic)
    stats = []
    original = directory.manifest_signature
    monkeypatch.setattr(directory, "manifest_signature", lambda: stats.append(1) or original())

    # 400 requests 50 ms apart span 19.95 s, which contains one full reload interval.
    for _ in range(400):
        source.current()
        monotonic.now += 0.05

    assert len(stats) == 1


def test_source_skips_reading_unchanged_manifest(directory, clock, monkeypatch):
    directory.generate("EdDSA", clock.now())
    monotonic = FakeMonotonic()
    source = KeyRingSource(key_ring_from_secrets(SECRET), directory, RELOAD, monotonic)
    ring = source.current()
    reads = []
    original = directory.read_manifest
    monkeypatch.setattr(directory, "read_manifest", lambda: reads.append(1) or original())

    monotonic.now += RELOAD.total_seconds()

    assert source.current() is ring
    assert reads == []


def test_source_reload_now_ignores_interval(directory, clock):
    source = KeyRingSource(key_ring_from_secrets(SECRET), directory, RELOAD, FakeMonotonic())
    record = directory.generate("EdDSA", clock.now())
    directory.rotate(clock.now(), RELOAD, force=True)

    assert source.reload_now().active.kid == record.kid


def test_source_keeps_ring_when_reload_fails(directory, clock, caplog):
    record = directory.generate("EdDSA", clock.now())
    directory.rotate(clock.now(), RELOAD, force=True)
    monotonic = FakeMonotonic()
    source = KeyRingSource(key_ring_from_secrets(SECRET), directory, RELOAD, monotonic)
    directory.manifest_path.write_text("broken")
    monotonic.now += RELOAD.total_seconds()

    with caplog.at_level(logging.ERROR, logger="adapters.key_directory"):
        ring = source.current()

    assert ring.active.kid == record.kid
    assert "reload failed" in caplog.text


def test_source_raises_on_broken_directory_at_start(directory, clock):
    directory.path.mkdir()
    directory.manifest_path.write_text("broken")

    with pytest.raises(ConfigurationError):
        KeyRingSource(key_ring_from_secrets(SECRET), directory, RELOAD)


def test_build_source_rejects_missing_directory(tmp_path):
    with pytest.raises(ConfigurationError, match="KEYTURN_KEY_DIR"):
        build_key_ring_source(SECRET, (), tmp_path / "absent", RELOAD)


def test_build_source_without_directory_uses_hs256():
    source = build_key_ring_source(SECRET, (), None, RELOAD)

    assert source.current().active == derive_hs256_key(SECRET)
