"""The user account as Keyturn sees it in the existing users table."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class User:
    """A row of the users table; ``id`` is the JWT ``sub``, a string whatever its SQL type."""

    id: str
    email: str
    username: str | None
    password_hash: str | None = field(repr=False)
    is_active: bool

    @property
    def can_log_in(self) -> bool:
        return self.is_active and self.password_hash is not None
