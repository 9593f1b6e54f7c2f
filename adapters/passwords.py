"""Password verification in every stored format Keyturn reads, and hashing of new passwords.

The formats and the libraries that check them are listed in ``adapters.password_formats``.
"""

from __future__ import annotations

import asyncio
import logging

import argon2
from werkzeug.security import check_password_hash, generate_password_hash

from adapters.password_formats import identify
from domain.errors import ConfigurationError

logger = logging.getLogger(__name__)

PASSWORD_SCHEMES = ("scrypt", "argon2id")
# Werkzeug's scrypt defaults (N=2**15, r=8, p=1); a stored scrypt hash with
# any lower parameter is weaker than what Keyturn writes and gets rehashed.
SCRYPT_MIN_PARAMETERS = (2**15, 8, 1)
_SCRYPT_PREFIX = "scrypt:"
_ARGON2ID_PREFIX = "$argon2id$"


class MultiFormatPasswordVerifier:
    """Verifies a password against a stored hash in any format of ``adapters.password_formats``.

    Rules: a missing, empty, ``!``-prefixed (Django's unusable password),
    unknown or malformed hash never matches, and costs one check against a
    dummy scrypt hash first, so that the response time does not tell such
    accounts from real ones. A password that is not valid Unicode text
    (a lone surrogate) never matches either, after the same dummy check.
    Hashing runs in a worker thread because one check takes tens of
    milliseconds and would stall every other request on the event loop.
    """

    def __init__(self) -> None:
        # Werkzeug's default scrypt, the format of most legacy accounts.
        self._dummy_hash = generate_password_hash("keyturn-dummy-password")

    async def verify(self, password: str, password_hash: str | None) -> bool:
        return await asyncio.to_thread(self.verify_now, password, password_hash)

    def verify_now(self, password: str, password_hash: str | None) -> bool:
        """Check the password in the calling thread; ``verify`` runs this in a worker thread."""
        try:
            password_bytes = password.encode("utf-8")
        except UnicodeEncodeError:
            self._dummy_check()
            return False
        known = identify(password_hash) if password_hash else None
        if known is None:
            if password_hash:
                logger.warning("stored password hash has an unknown format or marks an unusable password")
            self._dummy_check()
            return False
        name, checker = known
        result = checker(password_hash, password_bytes)
        if result is None:
            logger.warning("stored password hash is malformed", extra={"hash_format": name})
            self._dummy_check()
            return False
        return result

    def _dummy_check(self) -> None:
        check_password_hash(self._dummy_hash, "keyturn-dummy-guess")


class SchemePasswordHasher:
    """Hashes new passwords in the configured scheme and reports which stored hashes are outdated.

    ``scrypt`` (the default) writes Werkzeug's format, which the legacy app's
    ``check_password_hash`` still verifies; ``argon2id`` writes a PHC string
    with argon2-cffi's default parameters (RFC 9106), which only Keyturn and
    other argon2-aware code can verify.
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

    def needs_rehash(self, password_hash: str) -> bool:
        """Return True when ``password_hash`` is in another format than the scheme, or has weaker parameters.

        For ``argon2id``, argon2-cffi decides: any parameter that differs
        from the hasher's counts. For ``scrypt``, a Werkzeug scrypt hash whose
        N, r or p is below ``SCRYPT_MIN_PARAMETERS`` counts.
        """
        if self._scheme == "argon2id":
            if not password_hash.startswith(_ARGON2ID_PREFIX):
                return True
            try:
                return self._argon2.check_needs_rehash(password_hash)
            except (ValueError, argon2.exceptions.InvalidHashError):
                return True
        return _weak_scrypt(password_hash)


def _weak_scrypt(password_hash: str) -> bool:
    if not password_hash.startswith(_SCRYPT_PREFIX):
        return True
    method = password_hash.split("$", 1)[0]
    try:
        parameters = tuple(int(part) for part in method.split(":")[1:])
    except ValueError:
        return True
    if len(parameters) != len(SCRYPT_MIN_PARAMETERS):
        return True
    return any(value < minimum for value, minimum in zip(parameters, SCRYPT_MIN_PARAMETERS))


def hash_password(password: str) -> str:
    """Hash with Werkzeug's scrypt, which the legacy app can still verify."""
    return SchemePasswordHasher().hash_now(password)
