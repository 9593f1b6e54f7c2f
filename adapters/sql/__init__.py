"""SQL adapters on SQLAlchemy's asyncio extension: SQLite through aiosqlite, PostgreSQL through asyncpg."""

from adapters.sql.engine import create_engine, normalize_url
from adapters.sql.refresh_tokens import SqlRefreshTokenStore
from adapters.sql.revocations import SqlRevocationStore
from adapters.sql.users import SqlUserRepository, UserAlreadyExists, add_user, count_users
from adapters.sql.users_table import UsersTableSpec

__all__ = [
    "SqlRefreshTokenStore",
    "SqlRevocationStore",
    "SqlUserRepository",
    "UserAlreadyExists",
    "UsersTableSpec",
    "add_user",
    "count_users",
    "create_engine",
    "normalize_url",
]
