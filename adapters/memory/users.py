from __future__ import annotations

from dataclasses import replace

from domain.user import User


class InMemoryUserRepository:
    def __init__(self, users: list[User] | None = None) -> None:
        self._users: dict[str, User] = {user.id: user for user in users or []}

    def add(self, user: User) -> None:
        self._users[user.id] = user

    async def find_by_login(self, login: str) -> User | None:
        folded = login.casefold()
        for user in self._users.values():
            if user.email.casefold() == folded:
                return user
        for user in self._users.values():
            if user.username == login:
                return user
        return None

    async def get(self, user_id: str) -> User | None:
        return self._users.get(user_id)

    async def update_password_hash(self, user_id: str, password_hash: str) -> None:
        user = self._users.get(user_id)
        if user is not None:
            self._users[user_id] = replace(user, password_hash=password_hash)
