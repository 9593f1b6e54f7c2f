"""Login throttling: the limits per login-and-address pair and per address, their keys and their errors."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest

from adapters.passwords import MultiFormatPasswordVerifier
from application.login import LoginCommand
from domain.audit import ClientInfo, Outcome
from domain.errors import ConfigurationError, InvalidCredentials
from domain.throttling import (
    ADDRESS_LIMIT,
    PAIR_LIMIT,
    LoginThrottled,
    ThrottlePolicy,
    address_key,
    retry_after_seconds,
    throttle_keys,
)
from tests.unit.harness import START, Harness, make_user

PASSWORD = "correct horse battery staple"
ALICE_ADDRESS = ClientInfo(ip="192.0.2.10")
OTHER_ADDRESS = ClientInfo(ip="198.51.100.20")
POLICY = ThrottlePolicy(max_failures=5, max_failures_per_address=12, window=timedelta(minutes=15))


@pytest.fixture
def harness() -> Harness:
    harness = Harness(throttle_policy=POLICY)
    harness.users.add(make_user("1", "Alice@Example.com", PASSWORD, username="alice"))
    harness.users.add(make_user("2", "bob@example.com", "bob-password"))
    return harness


@pytest.fixture
def password_checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record each password verification, to show which logins reach the hashing step."""
    checks: list[str] = []
    original = MultiFormatPasswordVerifier.verify_now

    def counting(self, password, password_hash):
        checks.append(password)
        return original(self, password, password_hash)

    monkeypatch.setattr(MultiFormatPasswordVerifier, "verify_now", counting)
    return checks


async def attempt(harness: Harness, login: str, password: str, client: ClientInfo = ALICE_ADDRESS):
    return await harness.login.execute(LoginCommand(login=login, password=password, client=client))


async def fail(harness: Harness, login: str, times: int, client: ClientInfo = ALICE_ADDRESS) -> None:
    for _ in range(times):
        with pytest.raises(InvalidCredentials):
            await attempt(harness, login, "wrong password", client)


async def test_pair_throttled_despite_right_password(harness, password_checks):
    await fail(harness, "alice@example.com", 5)
    harness.clock.advance(timedelta(minutes=4, seconds=30))
    checks_before = len(password_checks)

    with pytest.raises(LoginThrottled) as raised:
        await attempt(harness, "alice@example.com", PASSWORD)

    assert raised.value.code == "rate_limited"
    assert raised.value.retry_after == 10 * 60 + 30
    assert len(password_checks) == checks_before
    assert harness.event_types()[-1] == "login_throttled"


async def test_fewer_failures_than_the_limit_still_allow_login(harness):
    await fail(harness, "alice@example.com", 4)

    pair = await attempt(harness, "alice@example.com", PASSWORD)

    assert pair.access.subject == "1"


async def test_throttled_attempts_do_not_extend_the_window(harness):
    await fail(harness, "alice@example.com", 5)
    for _ in range(3):
        with pytest.raises(LoginThrottled):
            await attempt(harness, "alice@example.com", "wrong password")

    harness.clock.advance(POLICY.window)

    assert (await attempt(harness, "alice@example.com", PASSWORD)).access.subject == "1"


async def test_spellings_of_one_email_share_a_counter(harness):
    for login in ("alice@example.com", "ALICE@example.com", "Alice@Example.COM", "alice@EXAMPLE.com", "ALICE@EXAMPLE.COM"):
        await fail(harness, login, 1)

    with pytest.raises(LoginThrottled):
        await attempt(harness, "alice@example.com", PASSWORD)


async def test_same_login_from_another_address_is_not_throttled(harness):
    await fail(harness, "alice@example.com", 5)

    pair = await attempt(harness, "alice@example.com", PASSWORD, OTHER_ADDRESS)

    assert pair.access.subject == "1"


async def test_success_resets_the_pair_counter(harness):
    await fail(harness, "alice@example.com", 4)
    await attempt(harness, "alice@example.com", PASSWORD)
    await fail(harness, "alice@example.com", 4)

    assert (await attempt(harness, "alice@example.com", PASSWORD)).access.subject == "1"


async def test_unknown_login_is_throttled_with_the_same_error(harness):
    await fail(harness, "alice@example.com", 5)
    await fail(harness, "nobody@example.com", 5, OTHER_ADDRESS)
    harness.clock.advance(timedelta(seconds=1))

    with pytest.raises(LoginThrottled) as known:
        await attempt(harness, "alice@example.com", PASSWORD)
    with pytest.raises(LoginThrottled) as unknown:
        await attempt(harness, "nobody@example.com", PASSWORD, OTHER_ADDRESS)

    assert (str(unknown.value), unknown.value.code, unknown.value.retry_after) == (
        str(known.value),
        known.value.code,
        known.value.retry_after,
    )


async def test_one_address_failing_against_many_logins_is_throttled(harness):
    for number in range(POLICY.max_failures_per_address):
        await fail(harness, f"guess{number}@example.com", 1)

    with pytest.raises(LoginThrottled) as raised:
        await attempt(harness, "bob@example.com", "bob-password")

    assert raised.value.limit == ADDRESS_LIMIT
    assert (await attempt(harness, "bob@example.com", "bob-password", OTHER_ADDRESS)).access.subject == "2"


async def test_success_does_not_reset_the_address_counter(harness):
    for number in range(POLICY.max_failures_per_address - 1):
        await fail(harness, f"guess{number}@example.com", 1)
    await attempt(harness, "alice@example.com", PASSWORD)
    await fail(harness, "guess-last@example.com", 1)

    with pytest.raises(LoginThrottled):
        await attempt(harness, "alice@example.com", PASSWORD)


async def test_ipv6_slash64_shares_address_counter(harness):
    for number in range(POLICY.max_failures_per_address):
        await fail(harness, f"guess{number}@example.com", 1, ClientInfo(ip=f"2001:db8:1:2::{number + 1:x}"))

    with pytest.raises(LoginThrottled):
        await attempt(harness, "alice@example.com", PASSWORD, ClientInfo(ip="2001:db8:1:2:ffff::1"))
    assert (await attempt(harness, "alice@example.com", PASSWORD, ClientInfo(ip="2001:db8:1:3::1"))).access


async def test_unknown_address_counts_only_the_pair(harness):
    no_address = ClientInfo()
    for number in range(POLICY.max_failures_per_address):
        await fail(harness, f"guess{number}@example.com", 1, no_address)

    assert (await attempt(harness, "alice@example.com", PASSWORD, no_address)).access.subject == "1"
    await fail(harness, "bob@example.com", 5, no_address)
    with pytest.raises(LoginThrottled):
        await attempt(harness, "bob@example.com", "bob-password", no_address)


async def test_throttled_audit_names_limit_only(harness):
    await fail(harness, "alice@example.com", 5)

    with pytest.raises(LoginThrottled):
        await attempt(harness, "alice@example.com", PASSWORD)

    event = harness.audit_sink.events[-1]
    assert (event.outcome, event.user_id, event.reason, event.client.ip) == (
        Outcome.FAILURE,
        None,
        PAIR_LIMIT,
        "192.0.2.10",
    )


async def test_counter_keys_hold_no_login_name(harness):
    await fail(harness, "Alice@Example.com", 1)

    digest = hashlib.sha256(b"alice@example.com").hexdigest()
    assert set(harness.login_attempts.windows) == {f"login:{digest}:192.0.2.10", "address:192.0.2.10"}


async def test_login_without_throttle_never_throttles():
    harness = Harness()
    harness.users.add(make_user("1", "alice@example.com", PASSWORD))

    await fail(harness, "alice@example.com", 20)

    assert (await attempt(harness, "alice@example.com", PASSWORD)).access.subject == "1"
    assert harness.login_attempts.windows == {}


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("192.0.2.7", "192.0.2.7"),
        ("2001:db8:aa:bb:1:2:3:4", "2001:db8:aa:bb::/64"),
        ("::ffff:192.0.2.7", "192.0.2.7"),
        ("testclient", "testclient"),
        ("x" * 100, "x" * 64),
        (None, None),
        ("", None),
    ],
)
def test_address_key(address, expected):
    assert address_key(address) == expected


def test_throttle_keys_without_address():
    keys = throttle_keys("alice", None)

    assert keys.pair == f"login:{hashlib.sha256(b'alice').hexdigest()}:-"
    assert keys.address is None


def test_retry_after_rounds_up():
    assert retry_after_seconds(START + timedelta(seconds=9, milliseconds=1), START) == 10
    assert retry_after_seconds(START, START) == 1


@pytest.mark.parametrize(
    ("arguments", "variable"),
    [
        ({"max_failures": 0}, "KEYTURN_LOGIN_MAX_FAILURES"),
        ({"max_failures": 10, "max_failures_per_address": 5}, "KEYTURN_LOGIN_MAX_FAILURES_PER_ADDRESS"),
        ({"window": timedelta(0)}, "KEYTURN_LOGIN_WINDOW"),
    ],
)
def test_policy_rejects_bad_limits_naming_the_setting(arguments, variable):
    with pytest.raises(ConfigurationError, match=variable):
        ThrottlePolicy(**arguments)
