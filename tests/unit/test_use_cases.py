from datetime import timedelta

import pytest

from application.login import LoginCommand
from application.logout import LogoutCommand
from application.refresh import RefreshCommand
from domain.errors import (
    InvalidCredentials,
    RefreshTokenReused,
    TokenExpired,
    TokenInvalid,
    TokenMissing,
    TokenRevoked,
)
from tests.unit.harness import Harness, make_user

PASSWORD = "correct horse battery staple"


@pytest.fixture
def harness() -> Harness:
    harness = Harness()
    harness.users.add(make_user("1", "Alice@Example.com", PASSWORD, username="alice"))
    harness.users.add(make_user("2", "frank@example.com", "frank-pass", active=False))
    harness.users.add(make_user("3", "grace@example.com", None))
    return harness


async def login(harness: Harness, login: str = "alice@example.com", password: str = PASSWORD):
    return await harness.login.execute(LoginCommand(login=login, password=password))


async def test_login_by_email_any_case(harness):
    pair = await login(harness, "ALICE@example.COM")

    assert pair.access.subject == "1"
    assert pair.refresh is not None
    assert harness.event_types() == ["login_succeeded", "tokens_issued"]


async def test_login_by_username(harness):
    pair = await login(harness, "alice")

    assert pair.access.subject == "1"


@pytest.mark.parametrize(
    ("login_name", "password"),
    [
        ("alice@example.com", "wrong"),
        ("alice@example.com", PASSWORD + " "),
        ("nobody@example.com", PASSWORD),
        ("frank@example.com", "frank-pass"),
        ("grace@example.com", ""),
        ("ALICE", PASSWORD),
    ],
)
async def test_login_rejects_bad_credentials(harness, login_name, password):
    with pytest.raises(InvalidCredentials):
        await login(harness, login_name, password)

    assert harness.event_types() == ["login_failed"]


async def test_login_failure_audit_has_reason(harness):
    with pytest.raises(InvalidCredentials):
        await login(harness, "frank@example.com", "frank-pass")

    event = harness.audit_sink.events[0]
    assert event.user_id == "2"
    assert event.reason == "inactive_user"


async def test_verify_accepts_fresh_token(harness):
    pair = await login(harness)

    token = await harness.verify.execute(pair.access_token)

    assert token == pair.access


async def test_verify_missing_token(harness):
    with pytest.raises(TokenMissing):
        await harness.verify.execute(None)


@pytest.mark.parametrize(("past_expiry", "accepted"), [(30, True), (59, True), (60, False), (90, False)])
async def test_verify_applies_leeway_after_exp(harness, past_expiry, accepted):
    pair = await login(harness)
    harness.clock.set(pair.access.expires_at + timedelta(seconds=past_expiry))

    if accepted:
        await harness.verify.execute(pair.access_token)
    else:
        with pytest.raises(TokenExpired):
            await harness.verify.execute(pair.access_token)


async def test_verify_rejects_token_from_future(harness):
    pair = await login(harness)
    harness.clock.advance(timedelta(seconds=-61))

    with pytest.raises(TokenInvalid):
        await harness.verify.execute(pair.access_token)


async def test_refresh_rotates_token(harness):
    pair = await login(harness)
    harness.clock.advance(timedelta(minutes=1))

    refreshed = await harness.refresh.execute(RefreshCommand(pair.refresh.value))

    assert refreshed.refresh is not None
    assert refreshed.refresh.value != pair.refresh.value
    assert refreshed.access.session_id == pair.access.session_id
    assert refreshed.access.token_id != pair.access.token_id
    assert harness.event_types()[-1] == "tokens_refreshed"


async def test_refresh_reuse_inside_grace_gets_access_only(harness):
    pair = await login(harness)
    await harness.refresh.execute(RefreshCommand(pair.refresh.value))
    harness.clock.advance(timedelta(seconds=5))

    again = await harness.refresh.execute(RefreshCommand(pair.refresh.value))

    assert again.refresh is None
    await harness.verify.execute(again.access_token)


async def test_refresh_reuse_after_grace_revokes_session(harness):
    pair = await login(harness)
    rotated = await harness.refresh.execute(RefreshCommand(pair.refresh.value))
    harness.clock.advance(timedelta(seconds=11))

    with pytest.raises(RefreshTokenReused):
        await harness.refresh.execute(RefreshCommand(pair.refresh.value))

    with pytest.raises(TokenRevoked):
        await harness.refresh.execute(RefreshCommand(rotated.refresh.value))
    with pytest.raises(TokenRevoked):
        await harness.verify.execute(rotated.access_token)
    assert "refresh_token_reused" in harness.event_types()


async def test_refresh_rejects_expired_refresh_token(harness):
    pair = await login(harness)
    harness.clock.advance(harness.policy.lifetimes.refresh + timedelta(seconds=1))

    with pytest.raises(TokenExpired):
        await harness.refresh.execute(RefreshCommand(pair.refresh.value))


@pytest.mark.parametrize("raw", [None, "", "short", "x" * 43 + "!", "é" * 43])
async def test_refresh_rejects_malformed_token(harness, raw):
    with pytest.raises((TokenMissing, TokenInvalid)):
        await harness.refresh.execute(RefreshCommand(raw))


async def test_refresh_rejects_unknown_token(harness):
    with pytest.raises(TokenInvalid):
        await harness.refresh.execute(RefreshCommand("A" * 43))


async def test_refresh_rejected_for_deactivated_user(harness):
    pair = await login(harness)
    harness.users.add(make_user("1", "Alice@Example.com", PASSWORD, active=False))

    with pytest.raises(TokenRevoked):
        await harness.refresh.execute(RefreshCommand(pair.refresh.value))


async def test_logout_revokes_access_and_refresh(harness):
    pair = await login(harness)

    session_id = await harness.logout.execute(LogoutCommand(pair.access_token, pair.refresh.value))

    assert session_id == pair.access.session_id
    with pytest.raises(TokenRevoked):
        await harness.verify.execute(pair.access_token)
    with pytest.raises(TokenRevoked):
        await harness.refresh.execute(RefreshCommand(pair.refresh.value))
    assert harness.event_types()[-1] == "logged_out"


async def test_logout_revokes_other_access_tokens_of_session(harness):
    pair = await login(harness)
    rotated = await harness.refresh.execute(RefreshCommand(pair.refresh.value))

    await harness.logout.execute(LogoutCommand(access_token=rotated.access_token))

    with pytest.raises(TokenRevoked):
        await harness.verify.execute(pair.access_token)


async def test_logout_with_refresh_token_only(harness):
    pair = await login(harness)

    await harness.logout.execute(LogoutCommand(refresh_token=pair.refresh.value))

    with pytest.raises(TokenRevoked):
        await harness.verify.execute(pair.access_token)


async def test_logout_without_tokens_is_noop(harness):
    assert await harness.logout.execute(LogoutCommand("garbage", "garbage")) is None
    assert harness.event_types() == []


async def test_logout_keeps_other_sessions(harness):
    first = await login(harness)
    second = await login(harness)

    await harness.logout.execute(LogoutCommand(first.access_token))

    await harness.verify.execute(second.access_token)


async def test_current_user_of_deactivated_account(harness):
    pair = await login(harness)
    token = await harness.verify.execute(pair.access_token)
    harness.users.add(make_user("1", "Alice@Example.com", PASSWORD, active=False))

    with pytest.raises(TokenRevoked):
        await harness.current_user.execute(token)
