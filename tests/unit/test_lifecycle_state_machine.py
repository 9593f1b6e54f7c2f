"""A state machine drives the token lifecycle and checks its invariants after every step.

Model: the tokens the clients have (every access and refresh token ever
issued) and what has happened (which sessions were ended, when each user's
tokens were last revoked wholesale). The system under test is every use case
wired to the in-memory adapters.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from application.login import LoginCommand
from application.logout import LogoutCommand
from application.password import ChangePasswordCommand
from application.refresh import RefreshCommand
from domain.audit import ClientInfo
from domain.errors import (
    InvalidCredentials,
    RefreshTokenReused,
    SessionNotFound,
    TokenError,
    TokenExpired,
    TokenRevoked,
)
from domain.revocation import RevocationStatus
from domain.session import RefreshState
from domain.tokens import AccessToken, RefreshToken, TokenPair, whole_seconds
from tests.unit.harness import Harness, make_user

USER_IDS = ("1", "2", "3")
MAX_TOKENS = 40


@dataclass
class IssuedAccess:
    raw: str
    token: AccessToken
    sequence: int


@dataclass
class IssuedRefresh:
    value: str
    session_id: str
    user_id: str
    expires_at: datetime


class TokenLifecycle(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.harness = Harness()
        self.passwords = {user_id: f"password-{user_id}" for user_id in USER_IDS}
        for user_id in USER_IDS:
            self.harness.users.add(make_user(user_id, f"user{user_id}@example.com", self.passwords[user_id]))
        self.access: list[IssuedAccess] = []
        self.refresh_tokens: list[IssuedRefresh] = []
        self.ended_sessions: dict[str, int] = {}
        self.user_revoked_at: dict[str, tuple[int, datetime]] = {}
        self.step = 0

    def run(self, coroutine):
        return self.loop.run_until_complete(coroutine)

    def teardown(self) -> None:
        self.loop.close()

    @property
    def now(self) -> datetime:
        return self.harness.clock.now()

    def remember(self, pair: TokenPair) -> None:
        self.step += 1
        assert pair.access.session_id not in self.ended_sessions, "an ended session yielded a token"
        self.access.append(IssuedAccess(pair.access_token, pair.access, self.step))
        if pair.refresh is not None:
            self.refresh_tokens.append(
                IssuedRefresh(pair.refresh.value, pair.access.session_id, pair.access.subject, pair.refresh_expires_at)
            )
        del self.access[:-MAX_TOKENS]
        del self.refresh_tokens[:-MAX_TOKENS]

    def end_session(self, session_id: str) -> None:
        self.step += 1
        self.ended_sessions.setdefault(session_id, self.step)

    def end_user_sessions(self, user_id: str) -> None:
        self.step += 1
        self.user_revoked_at[user_id] = (self.step, self.now)
        for item in self.refresh_tokens:
            if item.user_id == user_id:
                self.ended_sessions.setdefault(item.session_id, self.step)

    @initialize(user_id=st.sampled_from(USER_IDS))
    def first_login(self, user_id: str) -> None:
        self.login(user_id)

    @rule(user_id=st.sampled_from(USER_IDS))
    def login(self, user_id: str) -> None:
        command = LoginCommand(f"user{user_id}@example.com", self.passwords[user_id], ClientInfo())
        self.remember(self.run(self.harness.login.execute(command)))

    @precondition(lambda self: self.refresh_tokens)
    @rule(data=st.data())
    def refresh(self, data) -> None:
        item = data.draw(st.sampled_from(self.refresh_tokens))
        try:
            pair = self.run(self.harness.refresh.execute(RefreshCommand(item.value)))
        except RefreshTokenReused:
            self.end_session(item.session_id)
            return
        except TokenError:
            return
        self.remember(pair)

    @precondition(lambda self: self.access)
    @rule(data=st.data())
    def logout(self, data) -> None:
        item = data.draw(st.sampled_from(self.access))
        session_id = self.run(self.harness.logout.execute(LogoutCommand(access_token=item.raw)))
        assert session_id == item.token.session_id
        self.end_session(session_id)

    @precondition(lambda self: self.access)
    @rule(data=st.data())
    def logout_everywhere(self, data) -> None:
        item = data.draw(st.sampled_from(self.access))
        self.run(self.harness.logout_everywhere.execute(item.token, ClientInfo()))
        self.end_user_sessions(item.token.subject)

    @precondition(lambda self: self.access)
    @rule(data=st.data())
    def revoke_session(self, data) -> None:
        caller = data.draw(st.sampled_from(self.access)).token
        target = data.draw(st.sampled_from(self.access)).token
        try:
            self.run(self.harness.revoke_session.execute(caller, target.session_id, ClientInfo()))
        except SessionNotFound:
            return
        assert target.subject == caller.subject, "revoked another user's session"
        self.end_session(target.session_id)

    @precondition(lambda self: self.access)
    @rule(data=st.data(), new_password=st.text(min_size=8, max_size=12))
    def change_password(self, data, new_password: str) -> None:
        caller = data.draw(st.sampled_from(self.access)).token
        command = ChangePasswordCommand(caller, self.passwords[caller.subject], new_password, ClientInfo())
        try:
            pair = self.run(self.harness.change_password.execute(command))
        except (InvalidCredentials, TokenRevoked):
            return
        self.passwords[caller.subject] = new_password
        self.end_user_sessions(caller.subject)
        self.remember(pair)

    @rule(seconds=st.integers(min_value=0, max_value=20 * 60))
    def advance_clock(self, seconds: int) -> None:
        self.harness.clock.advance(timedelta(seconds=seconds))

    @invariant()
    def ended_sessions_stay_ended(self) -> None:
        for item in self.access:
            if item.token.session_id in self.ended_sessions and self.ended_sessions[item.token.session_id] >= item.sequence:
                self.expect_rejected(item, TokenRevoked, TokenExpired)

    @invariant()
    def watermark_rejects_older_tokens(self) -> None:
        """The watermark alone, without the session denials, rejects every older live token.

        The exception is a token whose ``iat`` was moved up to an earlier
        watermark raised in the same second; the session denials cover it.
        """
        leeway = self.harness.policy.leeway.delta
        for item in self.access:
            revoked = self.user_revoked_at.get(item.token.subject)
            if revoked is None or item.sequence >= revoked[0] or self.now >= item.token.expires_at + leeway:
                continue
            self.expect_rejected(item, TokenRevoked)
            if item.token.issued_at > whole_seconds(revoked[1]):
                continue
            status = RevocationStatus(watermark=self.run(self.harness.revocations.watermark(item.token.subject, self.now)))
            assert self.harness.policy.revocation.is_revoked(item.token, status)

    @invariant()
    def nothing_outlives_expiry(self) -> None:
        leeway = self.harness.policy.leeway.delta
        for item in self.access:
            if self.now >= item.token.expires_at + leeway:
                self.expect_rejected(item, TokenExpired)
        for item in self.refresh_tokens:
            if self.now >= item.expires_at:
                record = self.harness.refresh_store.records[_digest(item.value)]
                assert not record.is_usable(self.now)

    @invariant()
    def one_live_refresh_token_per_session(self) -> None:
        live: dict[str, int] = {}
        for record in self.harness.refresh_store.records.values():
            if record.state is RefreshState.ACTIVE and record.is_usable(self.now):
                live[record.session_id] = live.get(record.session_id, 0) + 1
        assert all(count == 1 for count in live.values()), live

    @invariant()
    def ended_sessions_have_no_live_refresh_token(self) -> None:
        for record in self.harness.refresh_store.records.values():
            if record.session_id in self.ended_sessions:
                assert not record.is_usable(self.now)

    def expect_rejected(self, item: IssuedAccess, *errors: type[TokenError]) -> None:
        try:
            self.run(self.harness.verify.execute(item.raw))
        except errors:
            return
        raise AssertionError(f"token of session {item.token.session_id} still verifies")


def _digest(value: str) -> str:
    return RefreshToken(value).digest


TokenLifecycle.TestCase.settings = settings(
    max_examples=60,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_token_lifecycle = TokenLifecycle.TestCase
