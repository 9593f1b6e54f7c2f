"""Actions behind the CLI commands, kept apart from argument parsing."""

from __future__ import annotations

import logging
import secrets
from datetime import datetime, timezone

import uvicorn
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.passwords import hash_password
from adapters.sql import migrate
from adapters.sql.engine import create_engine
from adapters.sql.users import add_user as insert_user
from adapters.sql.users import count_users
from domain.audit import AuditEventType, ClientInfo
from domain.errors import PasswordRejected
from entrypoints.container import Container, close_stores
from entrypoints.http.app import create_app
from entrypoints.settings import Settings

logger = logging.getLogger(__name__)

# One-off commands can afford to wait longer than a request.
CLI_STORE_TIMEOUT_SECONDS = 10.0
DEMO_EMAIL = "demo@example.com"
DEMO_USERNAME = "demo"


def serve(settings: Settings, host: str, port: int) -> int:
    if settings.is_development:
        import asyncio

        asyncio.run(ensure_demo_account(settings))
    container = Container(settings=settings)
    app = create_app(container)
    logger.info("serving on http://%s:%d (%s)", host, port, settings.environment.value)
    uvicorn.run(app, host=host, port=port, log_level="info")
    return 0


async def upgrade_database(settings: Settings) -> None:
    await migrate.upgrade(settings.database_url, settings.users_table)


async def add_user(settings: Settings, email: str, username: str | None, password: str) -> str:
    if not password:
        raise SystemExit("keyturn: the password must not be empty")
    try:
        settings.password_policy.check(password)
    except PasswordRejected as error:
        raise SystemExit(f"keyturn: {error} (KEYTURN_PASSWORD_MIN_LENGTH)") from None
    engine = create_engine(settings.database_url, CLI_STORE_TIMEOUT_SECONDS)
    try:
        return await _insert_account(engine, settings, email, username, password)
    finally:
        await engine.dispose()


async def _insert_account(engine: AsyncEngine, settings: Settings, email: str, username: str | None, password: str) -> str:
    return await insert_user(
        engine,
        settings.users_table,
        email=email,
        username=username,
        password_hash=hash_password(password),
        now=datetime.now(timezone.utc),
    )


async def record_key_rotation(settings: Settings) -> None:
    """Write a ``signing_key_rotated`` audit event for a rotation made on the command line."""
    container = Container(settings=settings)
    try:
        client = ClientInfo(user_agent="keyturn keys rotate")
        await container.audit().record(AuditEventType.SIGNING_KEY_ROTATED, client, reason="operator")
    finally:
        await close_stores(container)


async def ensure_demo_account(settings: Settings) -> None:
    """Create one demo account in an empty users table and print its login (development only)."""
    if not settings.is_development:
        return
    engine = create_engine(settings.database_url, CLI_STORE_TIMEOUT_SECONDS)
    try:
        if await count_users(engine, settings.users_table) > 0:
            return
        password = secrets.token_urlsafe(12)
        await _insert_account(engine, settings, DEMO_EMAIL, DEMO_USERNAME, password)
    finally:
        await engine.dispose()
    print(f"Demo account created: login {DEMO_EMAIL} (or {DEMO_USERNAME}) with password {password}", flush=True)
