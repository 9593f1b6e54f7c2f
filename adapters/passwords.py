"""Password hashing and verification: legacy Werkzeug formats and argon2id."""

from __future__ import annotations

import asyncio
import logging

import argon2
from werkzeug.security import check_password_hash, generate_password_hash

from domain.errors import ConfigurationError

logger = logging.getLogger(__name__)

PASSWORD_SCHEMES = ("scrypt", "argon2id")
_ARGON2_PREFIX = "$argon2"


class MultiFormatPasswordVerifier:
    """Verifies Werkzeug hashes (``scrypt:``, ``pbkdf2:sha256:``, ``pbkdf2:sha1:``) and argon2 PHC strings.

    Hashing runs in a worker thread because one scrypt check takes tens of
    milliseconds and would stall every other request on the event loop.
    """

    def __init__(self) -> None:
        self._argon2 = argon2.PasswordHasher()
        # Checked against when an account has no hash, so that a missing
        # account costs the same time as a wrong password.
        self._dummy_hash = generate_password_hash("keyturn-dummy-password")

    async def verify(self, password: str, password_hash: str | None) -> bool:
        if password_hash is None:
            await asyncio.to_thread(check_password_hash, self._dummy_hash, password)
            return False
        return await asyncio.to_thread(self._check, password_hash, password)

    def _check(self, password_hash: str, password: str) -> bool:
        if password_hash.startswith(_ARGON2_PREFIX):
            return self._check_argon2(password_hash, password)
        try:
            return check_password_hash(password_hash, password)
        except (ValueError, TypeError):
            logger.warning("stored password hash has an unsupported format")
            return False

    def _check_argon2(self, password_hash: str, password: str) -> bool:
        try:
            return self._argon2.verify(password_hash, password)
        except argon2.exceptions.VerifyMismatchError:
            return False
        except argon2.exceptions.InvalidHashError:
            logger.warning("stored argon2 password hash is malformed")
            return False


class SchemePasswordHasher:
    """Hashes new passwords in the configured scheme.

    ``scrypt`` (the default) writes Werkzeug's format, which the legacy app's
    ``check_password_hash`` still verifies; ``argon2id`` writes a PHC string
    that only Keyturn and other argon2-aware code can verify.
    """

    def __init__(self, scheme: str = "scrypt") -> None:
        if scheme not in PASSWORD_SCHEMES:
            raise ConfigurationError(f"KEYTURN_PASSWORD_SCHEME must be one of {', '.join(PASSWORD_SCHEMES)}, got {scheme!r}")
        self._scheme = scheme
        self._argon2 = argon2.PasswordHasher()

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self.hash_now, password)

    def hash_now(self, password: str) -> str:
        if self._scheme == "argon2id":
            return self._argon2.hash(password)
        return generate_password_hash(password, method="scrypt")


def hash_password(password: str) -> str:
    """Hash with Werkzeug's scrypt, which the legacy app can still verify."""
    return SchemePasswordHasher().hash_now(password)
