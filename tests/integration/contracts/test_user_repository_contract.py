"""Contract of ``UserRepository``, run against every adapter holding the users seeded in conftest."""

from __future__ import annotations

import pytest

from application.ports import UserRepository
from tests.integration.contracts.conftest import SEEDED_USERS


async def test_finds_by_email(users: UserRepository) -> None:
    user = await users.find_by_login("alice@example.com")

    assert user is not None
    assert (user.id, user.email, user.username, user.password_hash, user.is_active) == (
        "1",
        "alice@example.com",
        "alice",
        "hash-alice",
        True,
    )


async def test_email_ignores_case(users: UserRepository) -> None:
    user = await users.find_by_login("bob.smith@example.com")

    assert user is not None
    assert user.id == "2"
    assert user.email == "Bob.Smith@Example.COM"


async def test_finds_by_username_exactly(users: UserRepository) -> None:
    user = await users.find_by_login("bob")

    assert user is not None
    assert user.id == "2"
    assert await users.find_by_login("BOB") is None


async def test_email_match_wins_over_username_match(users: UserRepository) -> None:
    user = await users.find_by_login("shared@example.com")

    assert user is not None
    assert user.id == "5"


async def test_unknown_login_is_not_found(users: UserRepository) -> None:
    assert await users.find_by_login("mallory@example.com") is None
    assert await users.find_by_login("") is None


async def test_account_without_password_and_inactive_account(users: UserRepository) -> None:
    no_password = await users.find_by_login("nopassword")
    inactive = await users.find_by_login("inactive@example.com")

    assert no_password is not None
    assert no_password.password_hash is None
    assert not no_password.can_log_in
    assert inactive is not None
    assert inactive.is_active is False
    assert not inactive.can_log_in


async def test_get_id_above_32_bits(users: UserRepository) -> None:
    user = await users.get("2147483653")

    assert user is not None
    assert user.id == "2147483653"
    assert user.username == "big"
    assert (await users.get("1")) == (await users.find_by_login("alice"))


@pytest.mark.parametrize(
    "user_id",
    ["", "abc", "99999999999999999999", "9223372036854775808", "-1", "01", "+1", " 1", "1.0", "１"],
)
async def test_get_impossible_id_returns_none(users: UserRepository, user_id: str) -> None:
    assert await users.get(user_id) is None


async def snapshot(users: UserRepository, user_ids: list[str]) -> dict[str, object]:
    return {user_id: await users.get(user_id) for user_id in user_ids}


SEEDED_IDS = [str(user.id) for user in SEEDED_USERS]


async def test_update_password_hash(users: UserRepository) -> None:
    before = await snapshot(users, SEEDED_IDS)

    await users.update_password_hash("2", "new-hash-bob")

    bob = await users.get("2")
    assert bob is not None
    assert bob.password_hash == "new-hash-bob"
    assert (bob.id, bob.email, bob.username, bob.is_active) == ("2", "Bob.Smith@Example.COM", "bob", True)
    after = await snapshot(users, SEEDED_IDS)
    del before["2"], after["2"]
    assert after == before


async def test_update_password_hash_found_by_login(users: UserRepository) -> None:
    await users.update_password_hash("2147483653", "new-hash-big")

    user = await users.find_by_login("big@example.com")

    assert user is not None
    assert user.password_hash == "new-hash-big"


async def test_update_password_hash_sets_missing(users: UserRepository) -> None:
    await users.update_password_hash("3", "first-hash")

    user = await users.get("3")
    assert user is not None
    assert user.password_hash == "first-hash"


@pytest.mark.parametrize("user_id", ["abc", "", "01", "1.0", "99999999999999999999", "999"])
async def test_update_password_hash_no_such_id(users: UserRepository, user_id: str) -> None:
    before = await snapshot(users, SEEDED_IDS)

    await users.update_password_hash(user_id, "new-hash")

    assert await snapshot(users, SEEDED_IDS) == before
