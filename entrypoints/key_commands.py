"""``keyturn keys generate|rotate|prune|list``: manage the asymmetric keys in ``KEYTURN_KEY_DIR``.

Rotation across several processes goes in three steps. ``generate`` adds a
pending key that every process loads as verify-only within one reload
interval. ``rotate`` then makes it the signing key and retires the old one,
which keeps verifying. ``prune`` deletes retired keys once no unexpired token
can carry their kid.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import TextIO

from adapters.key_directory import KeyDirectory
from domain.clock import Clock, SystemClock
from domain.errors import ConfigurationError
from domain.keys import ASYMMETRIC_ALGORITHMS, KeyManagementError, KeyRecord, retired_key_retention
from domain.policy import TokenPolicy


def add_keys_parser(commands: argparse._SubParsersAction) -> None:
    """Add the ``keys`` command and its subcommands to the ``keyturn`` parser."""
    keys = commands.add_parser("keys", help="manage EdDSA and ES256 signing keys in KEYTURN_KEY_DIR")
    key_commands = keys.add_subparsers(dest="keys_command", required=True)

    generate = key_commands.add_parser("generate", help="add a pending key that every process verifies but none signs with yet")
    generate.add_argument("--alg", required=True, choices=sorted(ASYMMETRIC_ALGORITHMS), help="signature algorithm of the new key")

    rotate = key_commands.add_parser("rotate", help="make the newest pending key the signing key and retire the active one")
    rotate.add_argument(
        "--force",
        action="store_true",
        help="rotate before the reload interval has passed; processes that have not reloaded reject the new tokens",
    )

    key_commands.add_parser("prune", help="delete retired keys that no unexpired access token can need")
    key_commands.add_parser("list", help="print kid, algorithm, state and times of every key (never key material)")


def run_keys_command(
    arguments: argparse.Namespace,
    key_dir: Path | None,
    policy: TokenPolicy,
    reload_interval: timedelta,
    clock: Clock | None = None,
    out: TextIO | None = None,
) -> int:
    """Run one ``keyturn keys`` subcommand; return the exit status.

    Prints the result to ``out`` and errors to standard error. Exits with 1
    when the command cannot be carried out and 2 when ``KEYTURN_KEY_DIR`` is
    not set or the directory is broken.
    """
    out = out or sys.stdout
    clock = clock or SystemClock()
    if key_dir is None:
        print("keyturn: KEYTURN_KEY_DIR must be set to manage signing keys", file=sys.stderr)
        return 2
    directory = KeyDirectory(key_dir)
    try:
        lines = _dispatch(arguments, directory, policy, reload_interval, clock)
    except KeyManagementError as error:
        print(f"keyturn: {error}", file=sys.stderr)
        return 1
    except ConfigurationError as error:
        print(f"keyturn: configuration error: {error}", file=sys.stderr)
        return 2
    for line in lines:
        print(line, file=out)
    return 0


def _dispatch(
    arguments: argparse.Namespace, directory: KeyDirectory, policy: TokenPolicy, reload_interval: timedelta, clock: Clock
) -> list[str]:
    command = arguments.keys_command
    if command == "generate":
        return generate_key(directory, arguments.alg, reload_interval, clock)
    if command == "rotate":
        return rotate_keys(directory, reload_interval, clock, force=arguments.force)
    if command == "prune":
        return prune_keys(directory, policy, reload_interval, clock)
    if command == "list":
        return list_keys(directory)
    raise AssertionError(f"unhandled keys command {command}")


def generate_key(directory: KeyDirectory, algorithm: str, reload_interval: timedelta, clock: Clock) -> list[str]:
    record = directory.generate(algorithm, clock.now())
    ready_at = record.created_at + reload_interval
    return [
        f"generated {record.algorithm} key {record.kid} (pending)",
        f"every process verifies it by {_format(ready_at)}; run `keyturn keys rotate` after that",
    ]


def rotate_keys(directory: KeyDirectory, reload_interval: timedelta, clock: Clock, *, force: bool) -> list[str]:
    before = directory.read_manifest().active
    after = directory.rotate(clock.now(), reload_interval, force=force).active
    assert after is not None, "rotate always leaves an active key"
    lines = [f"{after.kid} ({after.algorithm}) now signs new access tokens"]
    if before is not None:
        lines.append(f"{before.kid} is retired and keeps verifying until `keyturn keys prune` removes it")
    if force:
        lines.append(f"--force: processes reject tokens of {after.kid} until they reload, within {_seconds(reload_interval)} s")
    return lines


def prune_keys(directory: KeyDirectory, policy: TokenPolicy, reload_interval: timedelta, clock: Clock) -> list[str]:
    retention = retired_key_retention(policy.lifetimes.access, policy.leeway.delta, reload_interval)
    removed = directory.prune(clock.now(), retention)
    if not removed:
        return [f"no retired key is older than {_seconds(retention)} s; nothing to prune"]
    return [f"deleted retired key {record.kid} ({record.algorithm})" for record in removed]


def list_keys(directory: KeyDirectory) -> list[str]:
    records = directory.read_manifest().records
    if not records:
        return [f"no keys in {directory.path}; access tokens are signed with the HS256 key from SESSION_SECRET"]
    return _table(records)


def _table(records: Sequence[KeyRecord]) -> list[str]:
    rows = [("KID", "ALG", "STATE", "CREATED", "RETIRED")]
    for record in records:
        retired = _format(record.retired_at) if record.retired_at else "-"
        rows.append((record.kid, record.algorithm, record.state.value, _format(record.created_at), retired))
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    return ["  ".join(value.ljust(width) for value, width in zip(row, widths)).rstrip() for row in rows]


def _format(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def _seconds(delta: timedelta) -> int:
    return int(delta.total_seconds())
