"""Support staff revoke a user's sessions; each revocation is audited with the reason ``support``."""

from __future__ import annotations

import pytest

from application.login import LoginCommand
from domain.audit import ClientInfo
from domain.errors import TokenRevoked
from tests.unit.harness import Harness, make_user

PASSWORD = "support test password"
SUPPORT = ClientInfo(user_agent="keyturn-cli")


@pytest.fixture
def harness() -> Harness:
    harness = Harness()
    harness.users.add(make_user("1", "alice@example.com", PASSWORD))
    harness.users.add(make_user("2", "bob@example.com", PASSWORD))
    return harness


async def login(harness: Harness, email: str = "alice@example.com"):
    return await harness.login.execute(LoginCommand(email, PASSWORD, ClientInfo(ip="127.0.0.1")))


def support_events(harness: Harness) -> list[tuple[str, str | None, str | None]]:
    return [
        (event.type.value, event.session_id, event.client.user_agent)
        for event in harness.audit_sink.events
        if event.reason == "support"
    ]


async def test_revoke_all_audits_each_session(harness):
    first = await login(harness)
    second = await login(harness)

    revoked = await harness.support_revoke.execute("1", None, SUPPORT)

    assert sorted(revoked) == sorted([first.access.session_id, second.access.session_id])
    assert sorted(support_events(harness)) == sorted(
        ("session_revoked", session_id, "keyturn-cli") for session_id in revoked
    )
    with pytest.raises(TokenRevoked):
        await harness.verify.execute(harness.codec.encode(first.access))


async def test_revoke_one_leaves_the_others(harness):
    other = await login(harness)
    target = await login(harness)

    revoked = await harness.support_revoke.execute("1", target.access.session_id, SUPPORT)

    assert revoked == [target.access.session_id]
    assert support_events(harness) == [("session_revoked", target.access.session_id, "keyturn-cli")]
    assert await harness.verify.execute(harness.codec.encode(other.access)) == other.access


async def test_session_of_another_user_is_not_revoked(harness):
    bobs = await login(harness, "bob@example.com")

    revoked = await harness.support_revoke.execute("1", bobs.access.session_id, SUPPORT)

    assert revoked == []
    assert support_events(harness) == []
    assert await harness.verify.execute(harness.codec.encode(bobs.access)) == bobs.access
