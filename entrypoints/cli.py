"""The ``keyturn`` command: serve, database upgrade, users, keys, audit, sessions, configuration check."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import sys
from collections.abc import Sequence

from adapters.sql.users import UserAlreadyExists
from domain.errors import ConfigurationError, StoreUnavailable
from entrypoints.key_commands import add_keys_parser, run_keys_command
from entrypoints.ops_commands import OPS_COMMANDS, add_ops_parsers, run_ops_command
from entrypoints.settings import Settings

logger = logging.getLogger("keyturn")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="keyturn", description="Stateless JWT authentication service.")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the HTTP service")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="TCP port to listen on (default: 8000)")

    db = commands.add_parser("db", help="manage Keyturn's own database tables")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    db_commands.add_parser("upgrade", help="apply every pending migration")

    users = commands.add_parser("users", help="manage accounts in the users table")
    user_commands = users.add_subparsers(dest="users_command", required=True)
    add = user_commands.add_parser("add", help="create an account")
    add.add_argument("--email", required=True, help="email address of the new account")
    add.add_argument("--username", help="optional username of the new account")
    add.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input instead of a prompt"
    )
    add_keys_parser(commands)
    add_ops_parsers(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    try:
        settings = Settings.from_environ()
        return _run(arguments, settings)
    except ConfigurationError as error:
        if arguments.command == "check-config":
            print(f"problem: {error}")
            return 1
        print(f"keyturn: configuration error: {error}", file=sys.stderr)
        return 2
    except StoreUnavailable as error:
        print(f"keyturn: {error}; check KEYTURN_DATABASE_URL and that the server is running", file=sys.stderr)
        return 1


def _run(arguments: argparse.Namespace, settings: Settings) -> int:
    from entrypoints import commands

    if arguments.command == "keys":
        status = run_keys_command(arguments, settings.key_dir, settings.token_policy, settings.key_reload_interval)
        if status == 0 and arguments.keys_command == "rotate":
            asyncio.run(commands.record_key_rotation(settings))
        return status
    if arguments.command in OPS_COMMANDS:
        return run_ops_command(arguments, settings)
    if arguments.command == "serve":
        return commands.serve(settings, arguments.host, arguments.port)
    if arguments.command == "db":
        asyncio.run(commands.upgrade_database(settings))
        print("database is up to date")
        return 0
    if arguments.command == "users":
        password = _read_password(arguments.password_stdin)
        try:
            user_id = asyncio.run(commands.add_user(settings, arguments.email, arguments.username, password))
        except UserAlreadyExists as error:
            print(f"keyturn: {error}", file=sys.stderr)
            return 1
        print(f"created user {user_id} <{arguments.email}>")
        return 0
    raise AssertionError(f"unhandled command {arguments.command}")


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        # Only the line break is removed: leading and trailing spaces are part of the password.
        return sys.stdin.readline().rstrip("\r\n")
    password = getpass.getpass("Password: ")
    if password != getpass.getpass("Repeat password: "):
        raise SystemExit("keyturn: the passwords do not match")
    return password


if __name__ == "__main__":
    raise SystemExit(main())
