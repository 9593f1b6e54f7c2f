"""Password hashing and verification for the legacy Werkzeug hash formats."""

from __future__ import annotations

import asyncio
import logging

from werkzeug.security import check_password_hash, generate_password_hash

logger = logging.getLogger(__name__)


class WerkzeugPasswordVerifier:
    """Verifies ``scrypt:``, ``pbkdf2:sha256:`` and ``pbkdf2:sha1:`` hashes as Werkzeug wrote them.

    Hashing runs in a worker thread because one scrypt check takes tens of
    milliseconds and would stall every other request on the event loop.
    """

    def __init__(self) -> None:
        # Checked against when an account has no hash, so that a missing
        # account costs the same time as a wrong password.
        self._dummy_hash = generate_password_hash("keyturn-dummy-password")

    async def verify(self, password: str, password_hash: str | None) -> bool:
        if password_hash is None:
            await asyncio.to_thread(check_password_hash, self._dummy_hash, password)
            return False
        return await asyncio.to_thread(self._check, password_hash, password)

    @staticmethod
    def _check(password_hash: str, password: str) -> bool:
        try:
            return check_password_hash(password_hash, password)
        except (ValueError, TypeError):
            logger.warning("stored password hash has an unsupported format")
            return False


def hash_password(password: str) -> str:
    """Hash with Werkzeug's default (scrypt), which the legacy app can still verify."""
    return generate_password_hash(password)
