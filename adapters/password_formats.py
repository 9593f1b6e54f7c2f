"""The stored password hash formats Keyturn verifies, each checked with the library that defines it.

| prefix | written by | checked with |
| --- | --- | --- |
| ``scrypt:``, ``pbkdf2:`` | Werkzeug ``generate_password_hash`` | ``werkzeug.security.check_password_hash`` |
| ``pbkdf2_sha256$``, ``pbkdf2_sha1$`` | Django's PBKDF2 hashers | ``hashlib.pbkdf2_hmac`` and ``hmac.compare_digest`` |
| ``argon2$`` | Django's Argon2 hasher | ``argon2-cffi`` on the PHC string after the prefix |
| ``bcrypt_sha256$`` | Django's BCryptSHA256 hasher | ``bcrypt.checkpw`` on the hex SHA-256 of the password |
| ``bcrypt$`` | Django's BCrypt hasher | ``bcrypt.checkpw`` |
| ``$2a$``, ``$2b$``, ``$2y$`` | bcrypt (PHP, Ruby, Node, Python) | ``bcrypt.checkpw`` |
| ``$argon2id$``, ``$argon2i$``, ``$argon2d$`` | argon2 PHC strings | ``argon2-cffi`` |

Django stores PBKDF2 hashes as ``algorithm$iterations$salt$hash``, where
``hash`` is the standard base64 of the derived key, whose length is the
digest size, and the salt is used as its UTF-8 bytes.

Each checker returns True or False, or None when the hash is not in a form
it can check. The verifier treats None as an unusable hash.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Callable

import argon2
import bcrypt
from werkzeug.security import check_password_hash

# bcrypt reads at most 72 bytes of the password. The ``bcrypt`` package
# raises on longer input instead of cutting it, so the cut is made here, and
# hashes that other libraries made from a longer password still verify.
BCRYPT_MAX_PASSWORD_BYTES = 72
DJANGO_PBKDF2_DIGESTS = {"pbkdf2_sha256": "sha256", "pbkdf2_sha1": "sha1"}

Checker = Callable[[str, bytes], "bool | None"]

_argon2 = argon2.PasswordHasher()


def check_werkzeug(password_hash: str, password: bytes) -> bool | None:
    try:
        return check_password_hash(password_hash, password.decode("utf-8"))
    except (ValueError, TypeError):
        return None


def check_django_pbkdf2(password_hash: str, password: bytes) -> bool | None:
    parts = password_hash.split("$")
    if len(parts) != 4 or not parts[1].isdecimal() or not parts[2] or not parts[3]:
        return None
    algorithm, iterations, salt, expected = parts
    digest = DJANGO_PBKDF2_DIGESTS.get(algorithm)
    if digest is None or int(iterations) < 1:
        return None
    derived = hashlib.pbkdf2_hmac(digest, password, salt.encode("utf-8"), int(iterations))
    return hmac.compare_digest(base64.b64encode(derived), expected.encode("utf-8"))


def check_argon2(password_hash: str, password: bytes) -> bool | None:
    try:
        return _argon2.verify(password_hash, password)
    except argon2.exceptions.VerifyMismatchError:
        return False
    except (argon2.exceptions.InvalidHashError, argon2.exceptions.VerificationError):
        # The library reports a hash it cannot decode as a VerificationError
        # other than a mismatch, so both mean a malformed hash here.
        return None


def check_django_argon2(password_hash: str, password: bytes) -> bool | None:
    # Django keeps the PHC string and drops its leading "$" after the prefix:
    # "argon2" + "$argon2id$v=19$...".
    return check_argon2(password_hash.removeprefix("argon2"), password)


def check_bcrypt(password_hash: str, password: bytes) -> bool | None:
    try:
        return bcrypt.checkpw(password[:BCRYPT_MAX_PASSWORD_BYTES], password_hash.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        return None


def check_django_bcrypt(password_hash: str, password: bytes) -> bool | None:
    return check_bcrypt(password_hash.removeprefix("bcrypt$"), password)


def check_django_bcrypt_sha256(password_hash: str, password: bytes) -> bool | None:
    # Django hashes first so that passwords past bcrypt's 72 bytes still count in full.
    prehashed = binascii.hexlify(hashlib.sha256(password).digest())
    return check_bcrypt(password_hash.removeprefix("bcrypt_sha256$"), prehashed)


# Longest prefixes first where one prefix starts another ("bcrypt_sha256$" and "bcrypt$").
FORMATS: tuple[tuple[str, str, Checker], ...] = (
    ("scrypt:", "werkzeug-scrypt", check_werkzeug),
    ("pbkdf2:", "werkzeug-pbkdf2", check_werkzeug),
    ("pbkdf2_sha256$", "django-pbkdf2-sha256", check_django_pbkdf2),
    ("pbkdf2_sha1$", "django-pbkdf2-sha1", check_django_pbkdf2),
    ("argon2$", "django-argon2", check_django_argon2),
    ("bcrypt_sha256$", "django-bcrypt-sha256", check_django_bcrypt_sha256),
    ("bcrypt$", "django-bcrypt", check_django_bcrypt),
    ("$2a$", "bcrypt", check_bcrypt),
    ("$2b$", "bcrypt", check_bcrypt),
    ("$2y$", "bcrypt", check_bcrypt),
    ("$argon2", "argon2", check_argon2),
)


def identify(password_hash: str) -> tuple[str, Checker] | None:
    """Return the name and checker of the format of ``password_hash``, or None when Keyturn does not know it.

    Django marks an unusable password with a leading ``!``; no prefix above
    starts with it, so such a hash, like an empty one, is unknown.
    """
    for prefix, name, checker in FORMATS:
        if password_hash.startswith(prefix):
            return name, checker
    return None
