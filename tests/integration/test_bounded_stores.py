"""Keyturn's tables stay bounded over many login and logout cycles, and empty once every entry has expired."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine
from werkzeug.security import generate_password_hash

from adapters.jwt_codec import JwtCodec
from adapters.keys import key_ring_from_secrets
from adapters.memory import InMemoryAuditSink
from adapters.passwords import MultiFormatPasswordVerifier
from adapters.sql.login_attempts import SqlLoginAttemptCounter
from adapters.sql.one_time_claims import SqlOneTimeClaims
from adapters.sql.purging import PURGE_INTERVAL_SECONDS
from adapters.sql.refresh_tokens import SqlRefreshTokenStore
from adapters.sql.revocations import SqlRevocationStore
from adapters.sql.tables import VERSION_TABLE, metadata
from adapters.sql.unit_of_work import SqlUnitOfWork
from adapters.sql.users import SqlUserRepository, add_user
from adapters.sql.users_table import UsersTableSpec
from application.audit import AuditTrail
from application.issuing import TokenIssuer
from application.login import Login, LoginCommand
from application.logout import Logout, LogoutCommand
from application.refresh import Refresh, RefreshCommand
from application.sessions import LogoutEverywhere, RevokeAllSessions
from application.throttling import LoginThrottle
from application.verify import VerifyAccessToken
from domain.audit import ClientInfo
from domain.clock import FixedClock
from domain.errors import InvalidCredentials
from domain.policy import TokenPolicy
from domain.throttling import ThrottlePolicy
from domain.tokens import TokenLifetimes

SECRET = "bounded-stores-test-secret-0123456789abcdef"
START = datetime(2026, 1, 1, 12, 0, tzinfo=timezone.utc)
PASSWORD = "load test password"
# A cheap hash keeps 300 logins fast, and the verifier accepts any Werkzeug method.
FAST_METHOD = "pbkdf2:sha256:1000"

ACCESS_TTL = timedelta(minutes=5)
REFRESH_TTL = timedelta(minutes=30)
POLICY = TokenPolicy(lifetimes=TokenLifetimes(access=ACCESS_TTL, refresh=REFRESH_TTL))
# The clock moves by REFRESH_PAUSE within a cycle and by CYCLE_STEP after it.
# CYCLE_STEP alone exceeds the purge interval, so every login runs the
# refresh store's lazy purge and every logout runs the revocation store's.
REFRESH_PAUSE = timedelta(seconds=30)
CYCLE_STEP = timedelta(minutes=3)
LOGOUT_EVERYWHERE_EVERY = 10

# Bound on the rows of any one table, independent of the number of cycles.
# A refresh token expires REFRESH_TTL after it is issued and a session
# expires with its last refresh token. Denials and watermarks expire after
# ACCESS_TTL plus the leeway, which is shorter. The lazy purges at each
# login and logout delete every row expired by then, so only rows written in
# the last REFRESH_TTL survive. A cycle lasts at least CYCLE_STEP, so those rows come
# from at most REFRESH_TTL // CYCLE_STEP whole cycles, one partly overlapping
# cycle and the current one. No table gets more than two rows per cycle,
# because refresh tokens get one at login and one at refresh.
MAX_ROWS_PER_CYCLE = 2
CYCLES_WITH_LIVE_ROWS = REFRESH_TTL // CYCLE_STEP + 2
MAX_ROWS_PER_TABLE = MAX_ROWS_PER_CYCLE * CYCLES_WITH_LIVE_ROWS
MEASURED_CYCLES = (100, 300)


@dataclass
class Service:
    clock: FixedClock
    refresh_store: SqlRefreshTokenStore
    revocations: SqlRevocationStore
    legacy_claims: SqlOneTimeClaims
    login_attempts: SqlLoginAttemptCounter
    login: Login
    refresh: Refresh
    logout: Logout
    logout_everywhere: LogoutEverywhere
    verify: VerifyAccessToken


def build_service(engine: AsyncEngine, clock: FixedClock) -> Service:
    users = SqlUserRepository(engine, UsersTableSpec())
    refresh_store = SqlRefreshTokenStore(engine, clock=clock)
    revocations = SqlRevocationStore(engine, clock=clock)
    codec = JwtCodec(key_ring_from_secrets(SECRET), POLICY)
    audit = AuditTrail(InMemoryAuditSink(), clock)
    issuer = TokenIssuer(POLICY, codec, refresh_store, revocations)
    revoke_all = RevokeAllSessions(refresh_store, revocations, POLICY, clock)
    login_attempts = SqlLoginAttemptCounter(engine, clock=clock)
    throttle = LoginThrottle(login_attempts, ThrottlePolicy())
    # The lazy purges then run inside the unit, as they do in the service.
    unit = SqlUnitOfWork(engine)
    return Service(
        clock=clock,
        refresh_store=refresh_store,
        revocations=revocations,
        legacy_claims=SqlOneTimeClaims(engine, clock=clock),
        login_attempts=login_attempts,
        login=Login(users, MultiFormatPasswordVerifier(), issuer, audit, clock, throttle, unit_of_work=unit),
        refresh=Refresh(refresh_store, revocations, users, issuer, audit, POLICY, clock, unit_of_work=unit),
        logout=Logout(codec, refresh_store, revocations, audit, POLICY, clock, unit_of_work=unit),
        logout_everywhere=LogoutEverywhere(revoke_all, audit, unit_of_work=unit),
        verify=VerifyAccessToken(codec, revocations, POLICY, clock),
    )


# The audit trail is append-only by design: how long to keep it is the
# operator's retention policy, not something the stores decide.
UNBOUNDED_TABLES = {VERSION_TABLE, "keyturn_audit_events"}


async def keyturn_tables(engine: AsyncEngine) -> list[str]:
    query = sa.text("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'keyturn%' ORDER BY name")
    async with engine.connect() as connection:
        names = (await connection.execute(query)).scalars().all()
    return [name for name in names if name not in UNBOUNDED_TABLES]


async def row_counts(engine: AsyncEngine, tables: list[str]) -> dict[str, int]:
    async with engine.connect() as connection:
        return {
            table: (await connection.execute(sa.select(sa.func.count()).select_from(sa.table(table)))).scalar_one()
            for table in tables
        }


async def run_cycle(service: Service, number: int) -> None:
    """Exchange a legacy cookie, log in, use and refresh the tokens, then log out or log out everywhere."""
    # A legacy cookie's claim lasts as long as the cookie; REFRESH_TTL stands in for that here.
    now = service.clock.now()
    assert await service.legacy_claims.claim(f"{number:064x}", now + REFRESH_TTL, now)
    pair = await service.login.execute(LoginCommand(login="load", password=PASSWORD))
    await service.verify.execute(pair.access_token)
    # One failed login from a new address each cycle writes two counter rows
    # (login-and-address, address) that only the lazy purge removes.
    with pytest.raises(InvalidCredentials):
        await service.login.execute(
            LoginCommand(login="load", password="wrong", client=ClientInfo(ip=f"198.51.100.{number % 250}"))
        )

    service.clock.advance(REFRESH_PAUSE)
    refreshed = await service.refresh.execute(RefreshCommand(refresh_token=pair.refresh.value))
    access = await service.verify.execute(refreshed.access_token)

    if number % LOGOUT_EVERYWHERE_EVERY == 0:
        await service.logout_everywhere.execute(access, ClientInfo())
    else:
        await service.logout.execute(
            LogoutCommand(access_token=refreshed.access_token, refresh_token=refreshed.refresh.value)
        )
    service.clock.advance(CYCLE_STEP)


@pytest.fixture
async def service(sqlite_engine: AsyncEngine) -> Service:
    await add_user(
        sqlite_engine,
        UsersTableSpec(),
        email="load@example.com",
        username="load",
        password_hash=generate_password_hash(PASSWORD, method=FAST_METHOD),
        now=START,
    )
    return build_service(sqlite_engine, FixedClock(START))


async def test_tables_bounded_over_cycles(service: Service, sqlite_engine: AsyncEngine) -> None:
    # The bound assumes that every cycle purges, see CYCLE_STEP.
    assert CYCLE_STEP.total_seconds() > PURGE_INTERVAL_SECONDS
    tables = await keyturn_tables(sqlite_engine)
    assert set(tables) == {name for name in metadata.tables if name not in UNBOUNDED_TABLES}
    peaks = dict.fromkeys(tables, 0)
    measured: dict[int, dict[str, int]] = {}

    for number in range(1, MEASURED_CYCLES[-1] + 1):
        await run_cycle(service, number)
        counts = await row_counts(sqlite_engine, tables)
        peaks = {table: max(peaks[table], counts[table]) for table in tables}
        if number in MEASURED_CYCLES:
            measured[number] = counts

    for number, counts in measured.items():
        for table, count in counts.items():
            assert count <= MAX_ROWS_PER_TABLE, f"{table} has {count} rows after cycle {number}"
    for table, peak in peaks.items():
        assert peak <= MAX_ROWS_PER_TABLE, f"{table} peaked at {peak} rows"
        assert peak > 0, f"{table} was never written, so the bound says nothing about it"


async def test_purge_after_ttls_empties_tables(service: Service, sqlite_engine: AsyncEngine) -> None:
    tables = await keyturn_tables(sqlite_engine)
    for number in range(1, 31):
        await run_cycle(service, number)
    assert sum((await row_counts(sqlite_engine, tables)).values()) > 0

    service.clock.advance(REFRESH_TTL + ACCESS_TTL + POLICY.leeway.delta + timedelta(seconds=1))
    now = service.clock.now()
    while (
        await service.refresh_store.purge_expired(now)
        + await service.revocations.purge_expired(now)
        + await service.legacy_claims.purge_expired(now)
        + await service.login_attempts.purge_expired(now)
    ):
        pass

    counts = await row_counts(sqlite_engine, tables)
    for table, count in counts.items():
        assert count == 0, f"{table} still has {count} rows"
