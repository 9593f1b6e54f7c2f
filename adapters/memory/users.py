"""Users held in a dict, matched by login the way the default SQL mapping matches them."""

from __future__ import annotations

from dataclasses import replace

from domain.user import User


class InMemoryUserRepository:
    """``UserRepository`` over a dict; emails compare ignoring case, usernames exactly unless configured otherwise."""

    def __init__(
        self,
        users: list[User] | None = None,
        *,
        email_case_insensitive: bool = True,
        username_case_insensitive: bool = False,
    ) -> None:
        self._users: dict[str, User] = {user.id: user for user in users or []}
        self._email_case_insensitive = email_case_insensitive
        self._username_case_insensitive = username_case_insensitive

    def add(self, user: User) -> None:
        self._users[user.id] = user

    async def find_by_login(self, login: str) -> User | None:
        """Prefer an email match over a username match, as the SQL repository does; '' matches no user."""
        if not login:
            return None
        for user in self._users.values():
            if _matches(user.email, login, self._email_case_insensitive):
                return user
        for user in self._users.values():
            if _matches(user.username, login, self._username_case_insensitive):
                return user
        return None

    async def get(self, user_id: str) -> User | None:
        return self._users.get(user_id)

    async def update_password_hash(self, user_id: str, password_hash: str, *, replaces: str | None = None) -> None:
        user = self._users.get(user_id)
        if user is None or (replaces is not None and user.password_hash != replaces):
            return
        self._users[user_id] = replace(user, password_hash=password_hash)


def _matches(value: str | None, login: str, case_insensitive: bool) -> bool:
    if value is None:
        return False
    if case_insensitive:
        return value.casefold() == login.casefold()
    return value == login
