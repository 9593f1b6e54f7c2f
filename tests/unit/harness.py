"""Use cases wired to in-memory adapters and a fixed clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

from werkzeug.security import generate_password_hash

from adapters.jwt_codec import JwtCodec
from adapters.keys import key_ring_from_secrets
from adapters.memory import (
    InMemoryAuditSink,
    InMemoryRefreshTokenStore,
    InMemoryRevocationStore,
    InMemoryUserRepository,
)
from adapters.memory.login_attempts import InMemoryLoginAttemptCounter
from adapters.memory.unit_of_work import NullUnitOfWork
from adapters.passwords import MultiFormatPasswordVerifier
from application.audit import AuditTrail
from application.issuing import TokenIssuer
from application.login import Login
from application.logout import Logout
from application.password import ChangePassword
from application.ports import PasswordHasher, PasswordVerifier, UnitOfWork
from application.refresh import Refresh
from application.sessions import ListSessions, LogoutEverywhere, RevokeAllSessions, RevokeSession
from application.support import RevokeSessionsForSupport
from application.throttling import LoginThrottle
from application.verify import GetCurrentUser, VerifyAccessToken
from domain.clock import FixedClock
from domain.password_policy import PasswordPolicy
from domain.policy import TokenPolicy
from domain.throttling import ThrottlePolicy
from domain.user import User

SECRET = "unit-test-secret-that-is-long-enough-0123456789"
START = datetime(2026, 1, 1, 12, 0, tzinfo=timezone.utc)
# A cheap hash keeps unit tests fast; the SQL tests use the fixture's real ones.
FAST_METHOD = "pbkdf2:sha256:1000"


def make_user(user_id: str, email: str, password: str | None, *, active: bool = True, username: str | None = None) -> User:
    password_hash = generate_password_hash(password, method=FAST_METHOD) if password is not None else None
    return User(id=user_id, email=email, username=username, password_hash=password_hash, is_active=active)


class FastPasswordHasher:
    """Hashes in a cheap Werkzeug format, so tests that change passwords stay fast."""

    async def hash(self, password: str) -> str:
        return generate_password_hash(password, method=FAST_METHOD)

    def needs_rehash(self, password_hash: str) -> bool:
        return not password_hash.startswith(FAST_METHOD)


@dataclass
class Harness:
    policy: TokenPolicy = field(default_factory=TokenPolicy)
    clock: FixedClock = field(default_factory=lambda: FixedClock(START))
    users: InMemoryUserRepository = field(default_factory=InMemoryUserRepository)
    refresh_store: InMemoryRefreshTokenStore = field(default_factory=InMemoryRefreshTokenStore)
    revocations: InMemoryRevocationStore = field(default_factory=InMemoryRevocationStore)
    audit_sink: InMemoryAuditSink = field(default_factory=InMemoryAuditSink)
    secret: str = SECRET
    login_attempts: InMemoryLoginAttemptCounter = field(default_factory=InMemoryLoginAttemptCounter)
    # Login throttling and rehashing are off unless a test sets these fields.
    throttle_policy: ThrottlePolicy | None = None
    rehash_with: PasswordHasher | None = None
    unit_of_work: UnitOfWork = field(default_factory=NullUnitOfWork)
    verifier: PasswordVerifier = field(default_factory=MultiFormatPasswordVerifier)
    hasher: PasswordHasher = field(default_factory=FastPasswordHasher)

    def __post_init__(self) -> None:
        self.codec = JwtCodec(key_ring_from_secrets(self.secret), self.policy)
        audit = AuditTrail(self.audit_sink, self.clock)
        issuer = TokenIssuer(self.policy, self.codec, self.refresh_store, self.revocations)
        verifier = self.verifier
        unit = self.unit_of_work
        throttle = None if self.throttle_policy is None else LoginThrottle(self.login_attempts, self.throttle_policy)
        self.login = Login(
            self.users, verifier, issuer, audit, self.clock, throttle, self.rehash_with, unit_of_work=unit
        )
        self.refresh = Refresh(
            self.refresh_store, self.revocations, self.users, issuer, audit, self.policy, self.clock, unit_of_work=unit
        )
        self.logout = Logout(
            self.codec, self.refresh_store, self.revocations, audit, self.policy, self.clock, unit_of_work=unit
        )
        self.verify = VerifyAccessToken(self.codec, self.revocations, self.policy, self.clock)
        self.current_user = GetCurrentUser(self.users)
        self.list_sessions = ListSessions(self.refresh_store, self.clock)
        self.revoke_session = RevokeSession(
            self.refresh_store, self.revocations, audit, self.policy, self.clock, unit_of_work=unit
        )
        revoke_all = RevokeAllSessions(self.refresh_store, self.revocations, self.policy, self.clock)
        self.logout_everywhere = LogoutEverywhere(revoke_all, audit, unit_of_work=unit)
        self.support_revoke = RevokeSessionsForSupport(
            self.refresh_store, self.revocations, revoke_all, audit, self.policy, self.clock, unit_of_work=unit
        )
        self.change_password = ChangePassword(
            self.users,
            verifier,
            self.hasher,
            PasswordPolicy(),
            revoke_all,
            issuer,
            audit,
            self.clock,
            unit_of_work=unit,
        )

    def event_types(self) -> list[str]:
        return [event.type.value for event in self.audit_sink.events]
