"""The composition root: the one place that chooses adapters from settings."""

from __future__ import annotations

from dependency_injector import containers, providers

from adapters.audit_log import LoggingAuditSink
from adapters.jwt_codec import JwtCodec
from adapters.key_directory import build_key_ring_source
from adapters.passwords import MultiFormatPasswordVerifier, SchemePasswordHasher
from adapters.memory import InMemoryRefreshTokenStore, InMemoryRevocationStore
from adapters.redis.client import create_redis_client
from adapters.redis.errors import redis_outage_log
from adapters.redis.refresh_tokens import RedisRefreshTokenStore
from adapters.redis.revocations import RedisRevocationStore
from adapters.sql.engine import create_engine
from adapters.sql.refresh_tokens import SqlRefreshTokenStore
from adapters.sql.revocations import SqlRevocationStore
from adapters.sql.users import SqlUserRepository
from application.audit import AuditTrail
from application.issuing import TokenIssuer
from application.login import Login
from application.logout import Logout
from application.password import ChangePassword
from application.refresh import Refresh
from application.sessions import ListSessions, LogoutEverywhere, RevokeAllSessions, RevokeSession
from application.verify import GetCurrentUser, VerifyAccessToken
from domain.clock import SystemClock
from entrypoints.settings import Settings


class Container(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)
    policy = providers.Callable(lambda settings: settings.token_policy, settings)

    clock = providers.Singleton(SystemClock)
    engine = providers.Singleton(
        create_engine, settings.provided.database_url, settings.provided.stores.timeout_seconds
    )
    # Created only when a store is configured to use Redis.
    redis = providers.Singleton(
        create_redis_client, settings.provided.stores.redis_url, settings.provided.stores.timeout_seconds
    )
    # One log for every Redis adapter, so an outage is reported once, not once per store.
    redis_outage = providers.Singleton(redis_outage_log)

    users = providers.Singleton(SqlUserRepository, engine, settings.provided.users_table)
    refresh_store = providers.Selector(
        providers.Callable(lambda settings: settings.stores.refresh, settings),
        sql=providers.Singleton(SqlRefreshTokenStore, engine, clock),
        redis=providers.Singleton(
            RedisRefreshTokenStore, redis, settings.provided.stores.redis_prefix, clock, redis_outage
        ),
        memory=providers.Singleton(InMemoryRefreshTokenStore),
    )
    revocations = providers.Selector(
        providers.Callable(lambda settings: settings.stores.revocation, settings),
        sql=providers.Singleton(SqlRevocationStore, engine, clock),
        redis=providers.Singleton(
            RedisRevocationStore, redis, settings.provided.stores.redis_prefix, clock, redis_outage
        ),
        memory=providers.Singleton(InMemoryRevocationStore),
    )
    passwords = providers.Singleton(MultiFormatPasswordVerifier)
    password_hasher = providers.Singleton(SchemePasswordHasher, settings.provided.password_scheme)
    audit_sink = providers.Singleton(LoggingAuditSink)

    key_ring_source = providers.Singleton(
        build_key_ring_source,
        settings.provided.session_secret,
        settings.provided.previous_secrets,
        settings.provided.key_dir,
        settings.provided.key_reload_interval,
    )
    codec = providers.Singleton(JwtCodec, key_ring_source, policy)

    audit = providers.Singleton(AuditTrail, audit_sink, clock)
    issuer = providers.Singleton(TokenIssuer, policy, codec, refresh_store, revocations)

    login = providers.Singleton(Login, users, passwords, issuer, audit, clock)
    refresh = providers.Singleton(Refresh, refresh_store, revocations, users, issuer, audit, policy, clock)
    logout = providers.Singleton(Logout, codec, refresh_store, revocations, audit, policy, clock)
    verify_access_token = providers.Singleton(VerifyAccessToken, codec, revocations, policy, clock)
    current_user = providers.Singleton(GetCurrentUser, users)
    list_sessions = providers.Singleton(ListSessions, refresh_store, clock)
    revoke_session = providers.Singleton(RevokeSession, refresh_store, revocations, audit, policy, clock)
    revoke_all_sessions = providers.Singleton(RevokeAllSessions, refresh_store, revocations, policy, clock)
    logout_everywhere = providers.Singleton(LogoutEverywhere, revoke_all_sessions, audit)
    change_password = providers.Singleton(
        ChangePassword,
        users,
        passwords,
        password_hasher,
        settings.provided.password_policy,
        revoke_all_sessions,
        issuer,
        audit,
        clock,
    )
