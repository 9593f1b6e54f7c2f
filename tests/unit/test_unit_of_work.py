"""Which steps of each use case run inside the unit of work, on the in-memory adapters.

``TrackingUnitOfWork`` records whether a block is open. Every audit event,
store write and password hash or check notes whether it ran inside a block,
so a test can check which steps a use case groups and which it keeps out.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from werkzeug.security import generate_password_hash

from adapters.legacy_session import FlaskSessionReader
from adapters.memory import (
    InMemoryAuditSink,
    InMemoryOneTimeClaims,
    InMemoryRefreshTokenStore,
    InMemoryRevocationStore,
    InMemoryUserRepository,
)
from adapters.memory.login_attempts import InMemoryLoginAttemptCounter
from adapters.memory.unit_of_work import NullUnitOfWork
from adapters.passwords import MultiFormatPasswordVerifier
from application.audit import AuditTrail
from application.issuing import TokenIssuer
from application.legacy_exchange import ExchangeLegacySession, LegacyExchangeCommand
from application.login import LoginCommand
from application.logout import LogoutCommand
from application.password import ChangePasswordCommand
from application.refresh import RefreshCommand
from domain.audit import AuditEvent, ClientInfo
from domain.errors import InvalidCredentials, LegacySessionReused, RefreshTokenReused
from domain.legacy import LegacySessionAge
from domain.throttling import ThrottlePolicy
from domain.user import User
from entrypoints.container import password_unit_of_work_kind, unit_of_work_kind
from entrypoints.settings import Settings
from tests.unit.harness import FastPasswordHasher, Harness, make_user
from tests.unit.test_legacy_exchange import COOKIES, SECRET, signed_at

PASSWORD = "correct horse battery staple"
CLIENT = ClientInfo(ip="192.0.2.7", user_agent="tests")
STORE_WRITES = {
    "refresh_store": {"open_session", "rotate", "revoke_session", "revoke_user_sessions"},
    "revocations": {"apply"},
    "users": {"update_password_hash"},
    "login_attempts": {"record_failure", "reset"},
    "claims": {"claim"},
    "verifier": {"verify"},
    "hasher": {"hash"},
}


class TrackingUnitOfWork:
    """``UnitOfWork`` that only counts its blocks and how each one ended."""

    def __init__(self) -> None:
        self.depth = 0
        self.commits = 0
        self.rollbacks = 0

    @property
    def active(self) -> bool:
        return self.depth > 0

    @asynccontextmanager
    async def atomic(self) -> AsyncIterator[None]:
        self.depth += 1
        try:
            yield
        except BaseException:
            self.rollbacks += 1
            raise
        else:
            self.commits += 1
        finally:
            self.depth -= 1


@dataclass
class Steps:
    """The watched calls in order, each with whether a unit was open at the time."""

    unit: TrackingUnitOfWork = field(default_factory=TrackingUnitOfWork)
    calls: list[tuple[str, bool]] = field(default_factory=list)

    def note(self, name: str) -> None:
        self.calls.append((name, self.unit.active))

    def inside(self) -> list[str]:
        return [name for name, active in self.calls if active]

    def outside(self) -> list[str]:
        return [name for name, active in self.calls if not active]

    def clear(self) -> None:
        self.calls.clear()
        self.unit.commits = self.unit.rollbacks = 0


class Watched:
    """Forwards every attribute to ``target`` and notes each call of the methods in ``methods``."""

    def __init__(self, target: object, methods: set[str], steps: Steps) -> None:
        self._target = target
        self._methods = methods
        self._steps = steps

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._target, name)
        if name not in self._methods:
            return attribute

        async def watched(*args: Any, **kwargs: Any) -> Any:
            self._steps.note(name)
            return await attribute(*args, **kwargs)

        return watched


class WatchedSink(InMemoryAuditSink):
    """Keeps the events and notes each one by its type."""

    def __init__(self, steps: Steps) -> None:
        super().__init__()
        self._steps = steps

    async def record(self, event: AuditEvent) -> None:
        self._steps.note(event.type.value)
        await super().record(event)


@pytest.fixture
def steps() -> Steps:
    return Steps()


@pytest.fixture
def harness(steps: Steps) -> Harness:
    def watch(name: str, target: object) -> Any:
        return Watched(target, STORE_WRITES[name], steps)

    harness = Harness(
        users=watch("users", InMemoryUserRepository()),
        refresh_store=watch("refresh_store", InMemoryRefreshTokenStore()),
        revocations=watch("revocations", InMemoryRevocationStore()),
        login_attempts=watch("login_attempts", InMemoryLoginAttemptCounter()),
        audit_sink=WatchedSink(steps),
        verifier=watch("verifier", MultiFormatPasswordVerifier()),
        hasher=watch("hasher", FastPasswordHasher()),
        throttle_policy=ThrottlePolicy(),
        unit_of_work=steps.unit,
    )
    harness.users.add(make_user("1", "alice@example.com", PASSWORD, username="alice"))
    return harness


async def log_in(harness: Harness, steps: Steps):
    """Log alice in, then clear the steps of the login, so a test checks only its own."""
    pair = await harness.login.execute(LoginCommand("alice@example.com", PASSWORD, CLIENT))
    steps.clear()
    return pair


async def test_login_groups_session_and_events(harness: Harness, steps: Steps) -> None:
    await harness.login.execute(LoginCommand("alice@example.com", PASSWORD, CLIENT))

    assert steps.inside() == ["reset", "open_session", "login_succeeded", "tokens_issued"]
    assert steps.outside() == ["verify"]
    assert steps.unit.commits == 1
    assert steps.unit.rollbacks == 0


async def test_failed_login_commits_count_and_event(harness: Harness, steps: Steps) -> None:
    with pytest.raises(InvalidCredentials):
        await harness.login.execute(LoginCommand("alice@example.com", "wrong password", CLIENT))

    # One count for the login name with the address, one for the address.
    assert steps.inside() == ["record_failure", "record_failure", "login_failed"]
    assert steps.outside() == ["verify"]
    assert steps.unit.commits == 1
    assert steps.unit.rollbacks == 0


async def test_rehash_stays_outside_unit(steps: Steps) -> None:
    hasher = Watched(FastPasswordHasher(), STORE_WRITES["hasher"], steps)
    users = Watched(InMemoryUserRepository(), STORE_WRITES["users"], steps)
    harness = Harness(users=users, rehash_with=hasher, unit_of_work=steps.unit)
    # Another iteration count than the hasher's, so the login upgrades the hash.
    old_hash = generate_password_hash(PASSWORD, method="pbkdf2:sha256:2000")
    users.add(User("1", "alice@example.com", None, old_hash, True))

    await harness.login.execute(LoginCommand("alice@example.com", PASSWORD))

    assert steps.outside() == ["hash", "update_password_hash"]
    assert steps.unit.commits == 1


async def test_refresh_groups_rotation_and_event(harness: Harness, steps: Steps) -> None:
    pair = await log_in(harness, steps)

    await harness.refresh.execute(RefreshCommand(pair.refresh.value, CLIENT))

    assert steps.inside() == ["rotate", "tokens_refreshed"]
    assert steps.outside() == []
    assert steps.unit.commits == 1


async def test_reused_refresh_token_commits_revocation(harness: Harness, steps: Steps) -> None:
    pair = await log_in(harness, steps)
    await harness.refresh.execute(RefreshCommand(pair.refresh.value, CLIENT))
    harness.clock.advance(harness.policy.refresh_reuse_grace + timedelta(seconds=1))
    steps.clear()

    with pytest.raises(RefreshTokenReused):
        await harness.refresh.execute(RefreshCommand(pair.refresh.value, CLIENT))

    assert steps.inside() == ["rotate", "apply", "revoke_session", "refresh_token_reused"]
    # The rejection is raised after the unit committed the revocation.
    assert steps.unit.commits == 1
    assert steps.unit.rollbacks == 0


async def test_logout_groups_revocation_and_event(harness: Harness, steps: Steps) -> None:
    pair = await log_in(harness, steps)

    await harness.logout.execute(LogoutCommand(pair.access_token, pair.refresh.value, CLIENT))

    assert steps.inside() == ["apply", "revoke_session", "logged_out"]
    assert steps.outside() == []
    assert steps.unit.commits == 1


async def test_revoke_session_groups_revocation_and_event(harness: Harness, steps: Steps) -> None:
    other = await log_in(harness, steps)
    current = await log_in(harness, steps)

    await harness.revoke_session.execute(current.access, other.access.session_id, CLIENT)

    assert steps.inside() == ["apply", "revoke_session", "session_revoked"]
    assert steps.unit.commits == 1


async def test_logout_everywhere_groups_writes(harness: Harness, steps: Steps) -> None:
    pair = await log_in(harness, steps)

    await harness.logout_everywhere.execute(pair.access, CLIENT)

    assert steps.inside() == ["revoke_user_sessions", "apply", "logged_out_everywhere"]
    assert steps.unit.commits == 1


async def test_password_change_hashes_outside_unit(harness: Harness, steps: Steps) -> None:
    pair = await log_in(harness, steps)

    await harness.change_password.execute(ChangePasswordCommand(pair.access, PASSWORD, "a new password", CLIENT))

    assert steps.outside() == ["verify", "hash"]
    assert steps.inside() == [
        "revoke_user_sessions",
        "apply",
        "update_password_hash",
        "open_session",
        "password_changed",
    ]
    assert steps.unit.commits == 1


async def test_wrong_current_password_opens_no_unit(harness: Harness, steps: Steps) -> None:
    pair = await log_in(harness, steps)

    with pytest.raises(InvalidCredentials):
        await harness.change_password.execute(ChangePasswordCommand(pair.access, "wrong", "a new password", CLIENT))

    assert steps.outside() == ["verify", "password_changed"]
    assert steps.unit.commits == 0
    assert steps.unit.rollbacks == 0


def legacy_exchange(harness: Harness, steps: Steps) -> ExchangeLegacySession:
    return ExchangeLegacySession(
        FlaskSessionReader(SECRET, ()),
        Watched(InMemoryOneTimeClaims(), STORE_WRITES["claims"], steps),
        harness.users,
        TokenIssuer(harness.policy, harness.codec, harness.refresh_store, harness.revocations),
        AuditTrail(harness.audit_sink, harness.clock),
        LegacySessionAge(),
        harness.clock,
        unit_of_work=harness.unit_of_work,
    )


async def test_legacy_exchange_groups_claim_and_session(harness: Harness, steps: Steps) -> None:
    harness.clock.set(signed_at(COOKIES["valid_alice"]) + timedelta(minutes=1))
    exchange = legacy_exchange(harness, steps)

    await exchange.execute(LegacyExchangeCommand(COOKIES["valid_alice"], CLIENT))

    assert steps.inside() == ["claim", "open_session", "legacy_session_exchanged"]
    assert steps.unit.commits == 1


async def test_reused_cookie_failure_outside_unit(harness: Harness, steps: Steps) -> None:
    harness.clock.set(signed_at(COOKIES["valid_alice"]) + timedelta(minutes=1))
    exchange = legacy_exchange(harness, steps)
    await exchange.execute(LegacyExchangeCommand(COOKIES["valid_alice"], CLIENT))
    steps.clear()

    with pytest.raises(LegacySessionReused):
        await exchange.execute(LegacyExchangeCommand(COOKIES["valid_alice"], CLIENT))

    assert steps.inside() == ["claim"]
    assert steps.outside() == ["legacy_session_exchanged"]
    assert steps.unit.rollbacks == 1


async def test_null_unit_propagates_errors() -> None:
    ran = []

    with pytest.raises(LookupError):
        async with NullUnitOfWork().atomic():
            ran.append(True)
            raise LookupError("raised inside the block")

    assert ran == [True]


@pytest.mark.parametrize(
    ("sinks", "stores", "kind"),
    [
        ("log,sql", "sql", "sql"),
        ("sql", "sql", "sql"),
        ("log", "sql", "none"),
        ("log,sql", "redis", "none"),
    ],
)
def test_unit_of_work_kind_follows_sink_and_stores(sinks: str, stores: str, kind: str) -> None:
    environ = {"SESSION_SECRET": "s" * 32, "KEYTURN_AUDIT_SINKS": sinks}
    if stores == "redis":
        environ["KEYTURN_REDIS_URL"] = "redis://127.0.0.1:6379/0"
    settings = Settings.from_environ(environ)

    assert unit_of_work_kind(settings) == kind


@pytest.mark.parametrize(("sinks", "kind"), [("log,sql", "sql"), ("log", "none")])
def test_password_change_unit_follows_sql_sink(sinks: str, kind: str) -> None:
    environ = {"SESSION_SECRET": "s" * 32, "KEYTURN_AUDIT_SINKS": sinks, "KEYTURN_REDIS_URL": "redis://127.0.0.1:6379/0"}
    settings = Settings.from_environ(environ)

    assert password_unit_of_work_kind(settings) == kind
