"""Commands for operators and support staff: audit trail, sessions, configuration check."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import enum
import json
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from adapters.redis.client import ping as redis_ping
from adapters.sql.engine import ping as sql_ping
from domain.audit import ClientInfo
from domain.errors import KeyturnError
from entrypoints.container import Container, close_stores
from entrypoints.settings import Settings

MASK = "********"
OPS_COMMANDS = ("audit", "sessions", "check-config")
_SECRET_FIELDS = {"session_secret", "previous_secrets"}
# Support commands run on a server, not on behalf of a browser: the audit trail names the tool instead.
SUPPORT_CLIENT = ClientInfo(user_agent="keyturn-cli")


def add_ops_parsers(commands: argparse._SubParsersAction) -> None:
    audit = commands.add_parser("audit", help="print a user's audit events as JSON lines")
    audit.add_argument("--user", required=True, help="user id as in the JWT sub claim")
    audit.add_argument("--since", type=_timestamp, help="only events at or after this ISO 8601 time (UTC if no offset)")

    sessions = commands.add_parser("sessions", help="list or revoke a user's sessions")
    session_commands = sessions.add_subparsers(dest="sessions_command", required=True)
    listing = session_commands.add_parser("list", help="print the user's live sessions as JSON lines")
    listing.add_argument("--user", required=True, help="user id")
    revoke = session_commands.add_parser("revoke", help="revoke one session, or every session of the user")
    revoke.add_argument("--user", required=True, help="user id")
    revoke.add_argument("--session", help="session id; without it every session of the user is revoked")

    commands.add_parser("check-config", help="print the effective settings (secrets masked) and every problem found")


def run_ops_command(arguments: argparse.Namespace, settings: Settings) -> int:
    if arguments.command == "audit":
        return asyncio.run(_print_audit(settings, arguments.user, arguments.since))
    if arguments.command == "sessions":
        if arguments.sessions_command == "list":
            return asyncio.run(_list_sessions(settings, arguments.user))
        return asyncio.run(_revoke_sessions(settings, arguments.user, arguments.session))
    return asyncio.run(check_config(settings))


async def _print_audit(settings: Settings, user_id: str, since: datetime | None) -> int:
    from adapters.sql.audit import user_events

    container = Container(settings=settings)
    try:
        for event in await user_events(container.engine(), user_id, since):
            print(json.dumps(event, default=_json_value, ensure_ascii=False))
    finally:
        await close_stores(container)
    return 0


async def _list_sessions(settings: Settings, user_id: str) -> int:
    container = Container(settings=settings)
    try:
        now = container.clock().now()
        for session in await container.refresh_store().list_sessions(user_id, now):
            print(json.dumps(dataclasses.asdict(session), default=_json_value, ensure_ascii=False))
    finally:
        await close_stores(container)
    return 0


async def _revoke_sessions(settings: Settings, user_id: str, session_id: str | None) -> int:
    container = Container(settings=settings)
    try:
        revoked = await container.revoke_sessions_for_support().execute(user_id, session_id, SUPPORT_CLIENT)
    finally:
        await close_stores(container)
    if session_id is not None and not revoked:
        print(f"keyturn: user {user_id} has no live session {session_id}")
        return 1
    print(f"revoked {len(revoked)} session(s) of user {user_id}")
    return 0


async def check_config(settings: Settings) -> int:
    """Print the effective settings and ping every configured store; return 1 on any problem."""
    print(json.dumps(masked_settings(settings), indent=2, default=_json_value))
    problems = await _store_problems(settings)
    for problem in problems:
        print(f"problem: {problem}")
    if not problems:
        print("no problems found")
    return 1 if problems else 0


def masked_settings(settings: Settings) -> dict[str, Any]:
    """Return the settings as plain data with secrets replaced and passwords removed from URLs."""
    values = {}
    for field in dataclasses.fields(settings):
        value = getattr(settings, field.name)
        if field.name in _SECRET_FIELDS:
            values[field.name] = MASK if value else value
        elif field.name == "database_url":
            values[field.name] = mask_url(value)
        elif dataclasses.is_dataclass(value):
            values[field.name] = _masked_dataclass(value)
        else:
            values[field.name] = value
    return values


def mask_url(url: str | None) -> str | None:
    if not url:
        return url
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", f":{MASK}@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def _masked_dataclass(value: Any) -> dict[str, Any]:
    masked = {}
    for field in dataclasses.fields(value):
        item = getattr(value, field.name)
        if field.name.endswith("_url"):
            masked[field.name] = mask_url(item)
        elif dataclasses.is_dataclass(item):
            masked[field.name] = _masked_dataclass(item)
        else:
            masked[field.name] = item
    return masked


async def _store_problems(settings: Settings) -> list[str]:
    container = Container(settings=settings)
    problems = []
    try:
        try:
            await sql_ping(container.engine())
        except KeyturnError as error:
            problems.append(f"database {mask_url(settings.database_url)}: {error}")
        if settings.stores.uses_redis:
            try:
                await redis_ping(container.redis())
            except Exception as error:
                problems.append(f"Redis {mask_url(settings.stores.redis_url)}: {type(error).__name__}: {error}")
    finally:
        await close_stores(container)
    return problems


def _timestamp(raw: str) -> datetime:
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {raw!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _json_value(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "total_seconds"):
        return value.total_seconds()
    return str(value)
