from datetime import timedelta

import pytest
from werkzeug.security import check_password_hash

from application.login import LoginCommand
from application.password import ChangePasswordCommand
from application.refresh import RefreshCommand
from domain.audit import ClientInfo
from domain.errors import InvalidCredentials, PasswordRejected, SessionNotFound, TokenRevoked
from tests.unit.harness import Harness, make_user

PASSWORD = "old password 1"
NEW_PASSWORD = "new password 2"


@pytest.fixture
def harness() -> Harness:
    harness = Harness()
    harness.users.add(make_user("1", "alice@example.com", PASSWORD))
    harness.users.add(make_user("2", "bob@example.com", PASSWORD))
    return harness


async def login(harness: Harness, email: str = "alice@example.com", password: str = PASSWORD, agent: str = "tests"):
    return await harness.login.execute(LoginCommand(email, password, ClientInfo(ip="127.0.0.1", user_agent=agent)))


async def test_list_sessions_newest_first(harness):
    first = await login(harness, agent="phone")
    harness.clock.advance(timedelta(seconds=5))
    second = await login(harness, agent="laptop")

    sessions = await harness.list_sessions.execute(second.access)

    assert [session.id for session in sessions] == [second.access.session_id, first.access.session_id]
    assert sessions[0].user_agent == "laptop"
    assert sessions[1].ip == "127.0.0.1"


async def test_list_sessions_only_own(harness):
    await login(harness, "bob@example.com")
    alice = await login(harness)

    sessions = await harness.list_sessions.execute(alice.access)

    assert [session.id for session in sessions] == [alice.access.session_id]


async def test_revoke_session_kills_its_tokens(harness):
    phone = await login(harness)
    laptop = await login(harness)

    await harness.revoke_session.execute(laptop.access, phone.access.session_id, ClientInfo())

    with pytest.raises(TokenRevoked):
        await harness.verify.execute(phone.access_token)
    with pytest.raises(TokenRevoked):
        await harness.refresh.execute(RefreshCommand(phone.refresh.value))
    await harness.verify.execute(laptop.access_token)
    assert harness.event_types()[-1] == "session_revoked"


async def test_revoke_other_users_session_not_found(harness):
    bob = await login(harness, "bob@example.com")
    alice = await login(harness)

    with pytest.raises(SessionNotFound):
        await harness.revoke_session.execute(alice.access, bob.access.session_id, ClientInfo())

    await harness.verify.execute(bob.access_token)


async def test_revoke_unknown_session_not_found(harness):
    alice = await login(harness)

    with pytest.raises(SessionNotFound):
        await harness.revoke_session.execute(alice.access, "no-such-session", ClientInfo())


async def test_logout_everywhere_revokes_every_device(harness):
    phone = await login(harness)
    laptop = await login(harness)
    bob = await login(harness, "bob@example.com")

    revoked = await harness.logout_everywhere.execute(laptop.access, ClientInfo())

    assert set(revoked) == {phone.access.session_id, laptop.access.session_id}
    for pair in (phone, laptop):
        with pytest.raises(TokenRevoked):
            await harness.verify.execute(pair.access_token)
        with pytest.raises(TokenRevoked):
            await harness.refresh.execute(RefreshCommand(pair.refresh.value))
    await harness.verify.execute(bob.access_token)
    assert harness.event_types()[-1] == "logged_out_everywhere"


async def test_login_same_second_after_logout_everywhere(harness):
    laptop = await login(harness)
    await harness.logout_everywhere.execute(laptop.access, ClientInfo())

    again = await login(harness)

    await harness.verify.execute(again.access_token)


async def test_second_logout_everywhere_same_second(harness):
    laptop = await login(harness)
    await harness.logout_everywhere.execute(laptop.access, ClientInfo())
    again = await login(harness)

    await harness.logout_everywhere.execute(again.access, ClientInfo())

    with pytest.raises(TokenRevoked):
        await harness.verify.execute(again.access_token)


async def test_change_password_replaces_hash(harness):
    alice = await login(harness)

    await harness.change_password.execute(ChangePasswordCommand(alice.access, PASSWORD, NEW_PASSWORD))

    stored = (await harness.users.get("1")).password_hash
    assert check_password_hash(stored, NEW_PASSWORD)
    with pytest.raises(InvalidCredentials):
        await login(harness)
    await login(harness, password=NEW_PASSWORD)


async def test_change_password_ends_other_sessions(harness):
    phone = await login(harness)
    laptop = await login(harness)

    fresh = await harness.change_password.execute(ChangePasswordCommand(laptop.access, PASSWORD, NEW_PASSWORD))

    for pair in (phone, laptop):
        with pytest.raises(TokenRevoked):
            await harness.verify.execute(pair.access_token)
    await harness.verify.execute(fresh.access_token)
    refreshed = await harness.refresh.execute(RefreshCommand(fresh.refresh.value))
    assert refreshed.refresh is not None
    assert harness.event_types()[-1] == "tokens_refreshed"


async def test_change_password_wrong_current(harness):
    alice = await login(harness)

    with pytest.raises(InvalidCredentials):
        await harness.change_password.execute(ChangePasswordCommand(alice.access, "not it", NEW_PASSWORD))

    await harness.verify.execute(alice.access_token)
    assert harness.audit_sink.events[-1].reason == "wrong_password"


@pytest.mark.parametrize("new_password", ["", "1234567", "x" * 1025])
async def test_change_password_policy(harness, new_password):
    alice = await login(harness)

    with pytest.raises(PasswordRejected):
        await harness.change_password.execute(ChangePasswordCommand(alice.access, PASSWORD, new_password))


@pytest.mark.parametrize("new_password", ["12345678", "x" * 1024, "  spaces kept  "])
async def test_change_password_policy_boundaries(harness, new_password):
    alice = await login(harness)

    await harness.change_password.execute(ChangePasswordCommand(alice.access, PASSWORD, new_password))

    await login(harness, password=new_password)
