"""Rehashing an outdated stored hash after a successful login, which is off unless configured."""

from __future__ import annotations

import pytest
from werkzeug.security import check_password_hash, generate_password_hash

from adapters.memory import InMemoryUserRepository
from application.login import LoginCommand
from domain.errors import InvalidCredentials, StoreUnavailable
from domain.user import User
from tests.unit.harness import FAST_METHOD, FastPasswordHasher, Harness

PASSWORD = "correct horse battery staple"
# Weaker than the harness hasher's FAST_METHOD, so it counts as outdated.
OLD_HASH = generate_password_hash(PASSWORD, method="pbkdf2:sha1:500")


class UnavailableOnWrite(InMemoryUserRepository):
    async def update_password_hash(self, user_id: str, password_hash: str, *, replaces: str | None = None) -> None:
        raise StoreUnavailable("the database did not answer")


def alice(password_hash: str = OLD_HASH) -> User:
    return User(id="1", email="alice@example.com", username="alice", password_hash=password_hash, is_active=True)


async def login(harness: Harness, password: str = PASSWORD):
    return await harness.login.execute(LoginCommand(login="alice@example.com", password=password))


async def stored_hash(harness: Harness) -> str | None:
    user = await harness.users.get("1")
    return None if user is None else user.password_hash


async def test_rehash_is_off_by_default():
    harness = Harness(users=InMemoryUserRepository([alice()]))

    await login(harness)

    assert await stored_hash(harness) == OLD_HASH


async def test_outdated_hash_is_replaced_after_login():
    harness = Harness(users=InMemoryUserRepository([alice()]), rehash_with=FastPasswordHasher())

    await login(harness)

    new_hash = await stored_hash(harness)
    assert new_hash is not None and new_hash.startswith(FAST_METHOD)
    assert check_password_hash(new_hash, PASSWORD)
    assert (await login(harness)).access.subject == "1"


async def test_current_hash_is_left_alone():
    current = generate_password_hash(PASSWORD, method=FAST_METHOD)
    harness = Harness(users=InMemoryUserRepository([alice(current)]), rehash_with=FastPasswordHasher())

    await login(harness)

    assert await stored_hash(harness) == current


async def test_failed_login_never_rehashes():
    harness = Harness(users=InMemoryUserRepository([alice()]), rehash_with=FastPasswordHasher())

    with pytest.raises(InvalidCredentials):
        await login(harness, "wrong password")

    assert await stored_hash(harness) == OLD_HASH


async def test_login_survives_failed_hash_write():
    harness = Harness(users=UnavailableOnWrite([alice()]), rehash_with=FastPasswordHasher())

    pair = await login(harness)

    assert pair.access.subject == "1"
    assert await stored_hash(harness) == OLD_HASH


async def test_conditional_update_skips_a_hash_changed_in_between():
    users = InMemoryUserRepository([alice()])
    await users.update_password_hash("1", "changed-by-a-password-change")

    await users.update_password_hash("1", "rehashed-at-login", replaces=OLD_HASH)

    assert (await users.get("1")).password_hash == "changed-by-a-password-change"
