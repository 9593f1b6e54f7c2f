"""The user account as Keyturn sees it in the existing users table."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class User:
    """A row of the users table; ``id`` is the JWT ``sub``, a string whatever its SQL type.

    ``email`` and ``username`` are None when the row has no value or the
    table has no such column.
    """

    id: str
    email: str | None
    username: str | None
    password_hash: str | None = field(repr=False)
    is_active: bool

    @property
    def can_log_in(self) -> bool:
        return self.is_active and self.password_hash is not None
