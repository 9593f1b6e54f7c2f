"""Contract of ``UserRepository``, run against every adapter holding the users seeded in conftest."""

from __future__ import annotations

import pytest

from application.ports import UserRepository


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
