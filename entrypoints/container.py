"""The composition root: the one place that chooses adapters from settings."""

from __future__ import annotations

from collections.abc import Callable

from dependency_injector import containers, providers

from adapters.audit_fanout import FanOutAuditSink
from adapters.audit_log import LoggingAuditSink
from adapters.sql.audit import SqlAuditSink
from adapters.csrf_tokens import CsrfTokens
from adapters.jwt_codec import JwtCodec, KeyRingProvider
from adapters.revocation_feed import RevocationFeed
from adapters.key_directory import build_key_ring_source
from adapters.token_cache import CachingTokenCodec
from adapters.legacy_session import FlaskSessionReader
from adapters.passwords import MultiFormatPasswordVerifier, SchemePasswordHasher
from adapters.memory import InMemoryOneTimeClaims, InMemoryRefreshTokenStore, InMemoryRevocationStore
from adapters.memory.login_attempts import InMemoryLoginAttemptCounter
from adapters.memory.unit_of_work import NullUnitOfWork
from adapters.redis.client import create_redis_client
from adapters.redis.login_attempts import RedisLoginAttemptCounter
from adapters.sql.login_attempts import SqlLoginAttemptCounter
from adapters.redis.errors import redis_outage_log
from adapters.redis.one_time_claims import RedisOneTimeClaims
from adapters.redis.refresh_tokens import RedisRefreshTokenStore
from adapters.redis.revocation_feed import DEFAULT_WAIT_MS, RedisRevocationFeed
from adapters.redis.revocations import RedisRevocationStore
from adapters.revocation_replica import ReplicatedRevocationStore
from adapters.sql.engine import create_engine
from adapters.sql.one_time_claims import SqlOneTimeClaims
from adapters.sql.refresh_tokens import SqlRefreshTokenStore
from adapters.sql.revocation_feed import SqlRevocationFeed
from adapters.sql.revocations import SqlRevocationStore
from adapters.sql.unit_of_work import SqlUnitOfWork
from adapters.sql.users import SqlUserRepository
from application.audit import AuditTrail
from application.ports import AuditSink, RevocationStore, TokenCodec
from application.issuing import TokenIssuer
from application.legacy_exchange import ExchangeLegacySession
from application.login import Login
from application.logout import Logout
from application.password import ChangePassword
from application.refresh import Refresh
from application.throttling import LoginThrottle
from application.session_lookup import IdentifySession
from application.sessions import ListSessions, LogoutEverywhere, RevokeAllSessions, RevokeSession
from application.support import RevokeSessionsForSupport
from application.verify import GetCurrentUser, VerifyAccessToken
from domain.clock import Clock, SystemClock
from domain.legacy import LegacySessionAge
from entrypoints.observability import Metrics, MetricsAuditSink, TimedStore
from entrypoints.settings import Settings


def build_codec(settings: Settings, jwt_codec: JwtCodec, keys: KeyRingProvider) -> TokenCodec:
    """Put the verified-token cache in front of the codec unless ``KEYTURN_TOKEN_CACHE_SIZE`` is 0."""
    if settings.token_cache_size == 0:
        return jwt_codec
    return CachingTokenCodec(jwt_codec, keys, settings.token_cache_size)


def build_revocations(
    settings: Settings, store: RevocationStore, feed: Callable[[], RevocationFeed], clock: Clock
) -> RevocationStore:
    """Put a per-process replica in front of a shared revocation store unless ``KEYTURN_REVOCATION_CHECK=direct``."""
    if not settings.uses_revocation_replica:
        return store
    return ReplicatedRevocationStore(store, feed(), clock)


def feed_client_timeout(settings: Settings) -> float:
    """Return the feed client's read timeout: the usual timeout plus the time a blocked ``XREAD`` may wait."""
    return settings.stores.timeout_seconds + DEFAULT_WAIT_MS / 1000


def select_audit_sinks(settings: Settings, log: AuditSink, sql: AuditSink, metrics: AuditSink) -> list[AuditSink]:
    """Return the configured sinks; metrics always count, whatever else records the trail."""
    chosen = {"log": log, "sql": sql}
    return [chosen[name] for name in settings.audit_sinks] + [metrics]


def unit_of_work_kind(settings: Settings) -> str:
    """Return ``sql`` when audit rows go to SQL and a store that use cases change is in SQL, else ``none``.

    Without such a store, the audit row is the only SQL write of the unit,
    and a transaction around it would only add round trips.
    """
    changed_in_sql = "sql" in (settings.stores.refresh, settings.stores.revocation, settings.stores.login_attempts)
    return "sql" if "sql" in settings.audit_sinks and changed_in_sql else "none"


def password_unit_of_work_kind(settings: Settings) -> str:
    """Return ``sql`` when audit rows go to SQL: a password change always writes the users table."""
    return "sql" if "sql" in settings.audit_sinks else "none"


class Container(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)
    policy = providers.Callable(lambda settings: settings.token_policy, settings)

    clock = providers.Singleton(SystemClock)
    metrics = providers.Singleton(Metrics)
    engine = providers.Singleton(
        create_engine, settings.provided.database_url, settings.provided.stores.timeout_seconds
    )
    # Created only when a store is configured to use Redis.
    redis = providers.Singleton(
        create_redis_client, settings.provided.stores.redis_url, settings.provided.stores.timeout_seconds
    )
    # One log for every Redis adapter, so an outage is reported once, not once per store.
    redis_outage = providers.Singleton(redis_outage_log)

    users_backend = providers.Singleton(SqlUserRepository, engine, settings.provided.users_table)
    refresh_store_backend = providers.Selector(
        providers.Callable(lambda settings: settings.stores.refresh, settings),
        sql=providers.Singleton(SqlRefreshTokenStore, engine, clock),
        redis=providers.Singleton(
            RedisRefreshTokenStore, redis, settings.provided.stores.redis_prefix, clock, redis_outage
        ),
        memory=providers.Singleton(InMemoryRefreshTokenStore),
    )
    revocations_backend = providers.Selector(
        providers.Callable(lambda settings: settings.stores.revocation, settings),
        sql=providers.Singleton(SqlRevocationStore, engine, clock),
        redis=providers.Singleton(
            RedisRevocationStore, redis, settings.provided.stores.redis_prefix, clock, redis_outage
        ),
        memory=providers.Singleton(InMemoryRevocationStore),
    )
    # Every store call is timed for the keyturn_store_call_seconds histogram.
    users = providers.Singleton(TimedStore, users_backend, "users", metrics)
    refresh_store = providers.Singleton(TimedStore, refresh_store_backend, "refresh_tokens", metrics)
    timed_revocations = providers.Singleton(TimedStore, revocations_backend, "revocations", metrics)
    # The feed's blocked reads hold a connection, so it gets a client of its own.
    feed_redis = providers.Singleton(
        create_redis_client, settings.provided.stores.redis_url, providers.Callable(feed_client_timeout, settings)
    )
    revocation_feed = providers.Selector(
        providers.Callable(lambda settings: settings.stores.revocation, settings),
        sql=providers.Singleton(SqlRevocationFeed, engine, settings.provided.revocation_poll_interval),
        redis=providers.Singleton(RedisRevocationFeed, feed_redis, settings.provided.stores.redis_prefix, redis_outage),
    )
    # Local reads are not timed: they cost a dictionary lookup, and reads that
    # fall back to the store are timed by the wrapper underneath.
    revocations = providers.Singleton(
        build_revocations, settings, timed_revocations, revocation_feed.provider, clock
    )
    # Exchanged legacy cookies live next to the refresh tokens, in the same kind of store.
    legacy_claims = providers.Selector(
        providers.Callable(lambda settings: settings.stores.refresh, settings),
        sql=providers.Singleton(SqlOneTimeClaims, engine, clock),
        redis=providers.Singleton(RedisOneTimeClaims, redis, settings.provided.stores.redis_prefix, redis_outage),
        memory=providers.Singleton(InMemoryOneTimeClaims),
    )
    passwords = providers.Singleton(MultiFormatPasswordVerifier)
    password_hasher = providers.Singleton(SchemePasswordHasher, settings.provided.password_scheme)
    audit_sink = providers.Singleton(
        FanOutAuditSink,
        providers.Callable(
            select_audit_sinks,
            settings,
            providers.Singleton(LoggingAuditSink),
            providers.Singleton(SqlAuditSink, engine),
            providers.Singleton(MetricsAuditSink, metrics),
        ),
    )

    key_ring_source = providers.Singleton(
        build_key_ring_source,
        settings.provided.session_secret,
        settings.provided.previous_secrets,
        settings.provided.key_dir,
        settings.provided.key_reload_interval,
    )
    jwt_codec = providers.Singleton(JwtCodec, key_ring_source, policy)
    codec = providers.Singleton(build_codec, settings, jwt_codec, key_ring_source)
    csrf_tokens = providers.Singleton(CsrfTokens, settings.provided.session_secret, settings.provided.previous_secrets)
    legacy_reader = providers.Singleton(
        FlaskSessionReader, settings.provided.session_secret, settings.provided.previous_secrets
    )
    legacy_age = providers.Singleton(
        LegacySessionAge, settings.provided.legacy.max_age, policy.provided.leeway
    )

    audit = providers.Singleton(AuditTrail, audit_sink, clock)
    # The SQL stores and the SQL audit sink join this unit's transaction, so
    # a change and the audit row that records it commit together.
    sql_unit_of_work = providers.Singleton(SqlUnitOfWork, engine)
    null_unit_of_work = providers.Singleton(NullUnitOfWork)
    unit_of_work = providers.Selector(
        providers.Callable(unit_of_work_kind, settings), sql=sql_unit_of_work, none=null_unit_of_work
    )
    password_unit_of_work = providers.Selector(
        providers.Callable(password_unit_of_work_kind, settings), sql=sql_unit_of_work, none=null_unit_of_work
    )
    issuer = providers.Singleton(TokenIssuer, policy, codec, refresh_store, revocations)

    login_attempts_backend = providers.Selector(
        providers.Callable(lambda settings: settings.stores.login_attempts, settings),
        sql=providers.Singleton(SqlLoginAttemptCounter, engine, clock),
        redis=providers.Singleton(
            RedisLoginAttemptCounter, redis, settings.provided.stores.redis_prefix, redis_outage
        ),
        memory=providers.Singleton(InMemoryLoginAttemptCounter),
    )
    login_attempts = providers.Singleton(TimedStore, login_attempts_backend, "login_attempts", metrics)
    login_throttle = providers.Singleton(LoginThrottle, login_attempts, settings.provided.login_throttle)
    # Rehashing at login is opt-in: the legacy app may still verify the password column.
    login_rehash_with = providers.Callable(
        lambda settings, hasher: hasher if settings.rehash_on_login else None, settings, password_hasher
    )
    login = providers.Singleton(
        Login, users, passwords, issuer, audit, clock, login_throttle, login_rehash_with, unit_of_work=unit_of_work
    )
    refresh = providers.Singleton(
        Refresh, refresh_store, revocations, users, issuer, audit, policy, clock, unit_of_work=unit_of_work
    )
    logout = providers.Singleton(
        Logout, codec, refresh_store, revocations, audit, policy, clock, unit_of_work=unit_of_work
    )
    verify_access_token = providers.Singleton(VerifyAccessToken, codec, revocations, policy, clock)
    current_user = providers.Singleton(GetCurrentUser, users)
    list_sessions = providers.Singleton(ListSessions, refresh_store, clock)
    revoke_session = providers.Singleton(
        RevokeSession, refresh_store, revocations, audit, policy, clock, unit_of_work=unit_of_work
    )
    revoke_all_sessions = providers.Singleton(RevokeAllSessions, refresh_store, revocations, policy, clock)
    logout_everywhere = providers.Singleton(LogoutEverywhere, revoke_all_sessions, audit, unit_of_work=unit_of_work)
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
        unit_of_work=password_unit_of_work,
    )
    revoke_sessions_for_support = providers.Singleton(
        RevokeSessionsForSupport,
        refresh_store,
        revocations,
        revoke_all_sessions,
        audit,
        policy,
        clock,
        unit_of_work=unit_of_work,
    )
    identify_session = providers.Singleton(IdentifySession, codec, refresh_store)
    exchange_legacy_session = providers.Singleton(
        ExchangeLegacySession,
        legacy_reader,
        legacy_claims,
        users,
        issuer,
        audit,
        legacy_age,
        clock,
        unit_of_work=unit_of_work,
    )


def start_background_work(container: Container) -> None:
    """Start following the revocation feed, when a replica is configured; call it in the running event loop."""
    revocations = container.revocations()
    if isinstance(revocations, ReplicatedRevocationStore):
        revocations.start()
        container.metrics().revocation_replica_current.set_function(lambda: float(revocations.is_current))


async def close_stores(container: Container) -> None:
    """Stop the revocation replica, then close the database pool and, when a store uses it, the Redis client."""
    revocations = container.revocations()
    if isinstance(revocations, ReplicatedRevocationStore):
        await revocations.stop()
    await container.engine().dispose()
    if container.settings().stores.uses_redis:
        await container.redis().aclose()
