"""Rules a new password must meet."""

from __future__ import annotations

from dataclasses import dataclass

from domain.errors import ConfigurationError, PasswordRejected

# Long enough for any passphrase, short enough that hashing it stays cheap.
MAX_PASSWORD_LENGTH = 1024


@dataclass(frozen=True, slots=True)
class PasswordPolicy:
    """Length limits counted in characters, as NIST SP 800-63B section 3.1.1.2 counts them.

    Passwords are never stripped or normalised, because the legacy app
    hashed them exactly as typed.
    """

    min_length: int = 8
    max_length: int = MAX_PASSWORD_LENGTH

    def __post_init__(self) -> None:
        if not 1 <= self.min_length <= self.max_length:
            raise ConfigurationError(
                f"KEYTURN_PASSWORD_MIN_LENGTH must be between 1 and {self.max_length}, got {self.min_length}"
            )

    def check(self, password: str) -> None:
        if len(password) < self.min_length:
            raise PasswordRejected(f"the new password must be at least {self.min_length} characters long")
        if len(password) > self.max_length:
            raise PasswordRejected(f"the new password must be at most {self.max_length} characters long")
