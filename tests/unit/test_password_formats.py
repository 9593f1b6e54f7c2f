"""Known-answer tests for every stored password format, and the rules for unusable hashes and rehashing.

Most vectors are made at test time by the library that owns the format
(Werkzeug, bcrypt, argon2-cffi), with cheap parameters. The Django vectors
are fixed strings that Django 5.2's own hashers (``Hasher.encode``, with
1000 PBKDF2 iterations, bcrypt cost 4 and argon2 t=1, m=64 KiB, p=1)
produced for the passwords below; they check Keyturn against Django's
actual output rather than against a reading of its format. A second set
of Django PBKDF2 vectors is computed here with ``hashlib`` following the
documented layout ``algorithm$iterations$salt$base64(derived key)``.
"""

from __future__ import annotations

import base64
import hashlib

import argon2
import bcrypt
import pytest
from werkzeug.security import generate_password_hash

from adapters.password_formats import identify
from adapters.passwords import MultiFormatPasswordVerifier, SchemePasswordHasher

PASSWORD = "Grüße, Keyturn!"
LONG_PASSWORD = "long " * 20
CHEAP_ARGON2 = argon2.PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)

DJANGO_VECTORS = {
    "pbkdf2_sha256": "pbkdf2_sha256$1000$8MrqnAJuaSRo9Rz5Xx5ukd$yJwWj+dHMkDzjd5TZvPrYFYcvrimvcJrCGvwExBHelU=",
    "pbkdf2_sha1": "pbkdf2_sha1$1000$gHYpyU7uvFJYlHFyO41lsN$OLzh5zhTNkQl97FR7s1Mb+C72w4=",
    "argon2": "argon2$argon2id$v=19$m=64,t=1,p=1$djFHYWdTTHR2UXlNTVFuTUV0aTBBWA$gb30iceV3C1bNIgaVUCMaghTy6i+ItJrVsUHFpPNR1I",
    "bcrypt_sha256": "bcrypt_sha256$$2b$04$/TcMlMV1aUx.36f/cVjkSu2CfEHidNqYJmBQx5t1DPnx9chze093i",
    "bcrypt": "bcrypt$$2b$04$/WTIljyiHxq217WKBQWVHe9xQHmJYpjXzbi4QNeOBu2XFY/yBWRIG",
}
# Django's bcrypt_sha256 of LONG_PASSWORD (100 bytes): every byte counts, past bcrypt's 72.
DJANGO_BCRYPT_SHA256_LONG = "bcrypt_sha256$$2b$04$7xXxH8HDTHhJ7r4HkKpJ4OTyyBJvPl/xU84.MlBfmw1SZbUBCi4hm"
# Django's pbkdf2_sha256 of "s3cret" with the salt "fixedsalt123".
DJANGO_PBKDF2_FIXED_SALT = "pbkdf2_sha256$1000$fixedsalt123$gPWzt+r2Xfw1RmL7Qr98HxRJS7dYFKTueMcZ8JY4JiQ="


@pytest.fixture(scope="module")
def verifier() -> MultiFormatPasswordVerifier:
    return MultiFormatPasswordVerifier()


def django_pbkdf2(password: str, algorithm: str, digest: str, salt: str, iterations: int) -> str:
    derived = hashlib.pbkdf2_hmac(digest, password.encode("utf-8"), salt.encode("utf-8"), iterations)
    return f"{algorithm}${iterations}${salt}${base64.b64encode(derived).decode('ascii')}"


def bare_bcrypt(password: str, prefix: bytes = b"$2b$") -> str:
    hashed = bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(rounds=4))
    # $2a$, $2b$ and $2y$ differ only in how old implementations handled
    # non-ASCII bytes; the hash of the same input is the same.
    return (prefix + hashed[4:]).decode("ascii")


def library_vectors() -> dict[str, str]:
    return {
        "werkzeug scrypt": generate_password_hash(PASSWORD, method="scrypt:1024:8:1"),
        "werkzeug pbkdf2 sha256": generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000"),
        "werkzeug pbkdf2 sha1": generate_password_hash(PASSWORD, method="pbkdf2:sha1:1000"),
        "django pbkdf2_sha256 by hashlib": django_pbkdf2(PASSWORD, "pbkdf2_sha256", "sha256", "s4lt", 1000),
        "django pbkdf2_sha1 by hashlib": django_pbkdf2(PASSWORD, "pbkdf2_sha1", "sha1", "s4lt", 1000),
        "bcrypt $2a$": bare_bcrypt(PASSWORD, b"$2a$"),
        "bcrypt $2b$": bare_bcrypt(PASSWORD, b"$2b$"),
        "bcrypt $2y$": bare_bcrypt(PASSWORD, b"$2y$"),
        "argon2id PHC": CHEAP_ARGON2.hash(PASSWORD),
        "argon2i PHC": argon2.PasswordHasher(
            time_cost=1, memory_cost=64, parallelism=1, type=argon2.Type.I
        ).hash(PASSWORD),
    }


LIBRARY_VECTORS = library_vectors()


@pytest.mark.parametrize("password_hash", list(DJANGO_VECTORS.values()), ids=list(DJANGO_VECTORS))
def test_django_vectors_verify(verifier, password_hash):
    assert verifier.verify_now(PASSWORD, password_hash)
    assert not verifier.verify_now(PASSWORD + "x", password_hash)
    assert not verifier.verify_now(PASSWORD.upper(), password_hash)


@pytest.mark.parametrize("password_hash", list(LIBRARY_VECTORS.values()), ids=list(LIBRARY_VECTORS))
def test_library_vectors_verify(verifier, password_hash):
    assert verifier.verify_now(PASSWORD, password_hash)
    assert not verifier.verify_now(PASSWORD + "x", password_hash)
    assert not verifier.verify_now("", password_hash)


def test_django_pbkdf2_with_a_known_salt(verifier):
    assert verifier.verify_now("s3cret", DJANGO_PBKDF2_FIXED_SALT)
    assert django_pbkdf2("s3cret", "pbkdf2_sha256", "sha256", "fixedsalt123", 1000) == DJANGO_PBKDF2_FIXED_SALT


def test_django_bcrypt_sha256_long_password(verifier):
    assert verifier.verify_now(LONG_PASSWORD, DJANGO_BCRYPT_SHA256_LONG)
    assert not verifier.verify_now(LONG_PASSWORD[:72], DJANGO_BCRYPT_SHA256_LONG)


def test_bare_bcrypt_cuts_at_72_bytes(verifier):
    # Made from the first 72 bytes, as bcrypt implementations that cut
    # longer input silently would have stored it.
    stored = bare_bcrypt(LONG_PASSWORD[:72])

    assert verifier.verify_now(LONG_PASSWORD, stored)
    assert verifier.verify_now(LONG_PASSWORD[:72], stored)
    assert not verifier.verify_now(LONG_PASSWORD[:71], stored)


async def test_async_verify_matches_sync(verifier):
    stored = LIBRARY_VECTORS["bcrypt $2b$"]

    assert await verifier.verify(PASSWORD, stored)
    assert not await verifier.verify("wrong", stored)


UNUSABLE = {
    "missing": None,
    "empty": "",
    "django unusable": "!xuJ6Y4OOpJGvMSidiu711tnwoizv8Qf5Y3JZBvrH",
    "django unusable of a usable hash": "!" + DJANGO_VECTORS["pbkdf2_sha256"],
    "unknown scheme": "md5$abc$def",
    "plain text": PASSWORD,
    "werkzeug unknown method": "pbkdf2:md4:1000$salt$abcdef",
    "django pbkdf2 without iterations": "pbkdf2_sha256$$salt$abc=",
    "django pbkdf2 zero iterations": "pbkdf2_sha256$0$salt$abc=",
    "django pbkdf2 missing part": "pbkdf2_sha256$1000$abc=",
    "django pbkdf2 unknown digest": "pbkdf2_md5$1000$salt$abc=",
    "truncated bcrypt": LIBRARY_VECTORS["bcrypt $2b$"][:20],
    "bcrypt non-ascii": "$2b$04$" + "é" * 53,
    "malformed argon2": "$argon2id$v=19$m=64,t=1,p=1$nonsense",
    "django argon2 malformed": "argon2$argon2id$nonsense",
}


@pytest.mark.parametrize("password_hash", list(UNUSABLE.values()), ids=list(UNUSABLE))
def test_unusable_hashes_fail_after_dummy_work(verifier, monkeypatch, password_hash):
    dummy_checks = []
    monkeypatch.setattr(verifier, "_dummy_check", lambda: dummy_checks.append(1))

    assert not verifier.verify_now(PASSWORD, password_hash)
    assert dummy_checks == [1]


def test_usable_hash_costs_no_dummy_work(verifier, monkeypatch):
    dummy_checks = []
    monkeypatch.setattr(verifier, "_dummy_check", lambda: dummy_checks.append(1))

    assert not verifier.verify_now("wrong", LIBRARY_VECTORS["werkzeug pbkdf2 sha256"])
    assert dummy_checks == []


def test_password_with_a_lone_surrogate_never_matches(verifier, monkeypatch):
    dummy_checks = []
    monkeypatch.setattr(verifier, "_dummy_check", lambda: dummy_checks.append(1))

    assert not verifier.verify_now("\ud800", LIBRARY_VECTORS["werkzeug pbkdf2 sha256"])
    assert dummy_checks == [1]


def test_verifier_logs_no_hash_material(verifier, caplog):
    secret_looking = "!unusable-" + "9f" * 20

    verifier.verify_now(PASSWORD, secret_looking)

    assert secret_looking not in caplog.text
    assert "9f9f" not in caplog.text


@pytest.mark.parametrize(
    ("password_hash", "expected"),
    [
        ("scrypt:32768:8:1$salt$hash", "werkzeug-scrypt"),
        ("pbkdf2:sha256:600000$salt$hash", "werkzeug-pbkdf2"),
        ("bcrypt_sha256$$2b$12$x", "django-bcrypt-sha256"),
        ("bcrypt$$2b$12$x", "django-bcrypt"),
        ("argon2$argon2id$v=19$x", "django-argon2"),
        ("$2y$10$x", "bcrypt"),
        ("$argon2id$v=19$x", "argon2"),
    ],
)
def test_identify_by_prefix(password_hash, expected):
    found = identify(password_hash)
    assert found is not None and found[0] == expected


@pytest.mark.parametrize(
    ("password_hash", "outdated"),
    [
        ("scrypt:32768:8:1$salt$hash", False),
        ("scrypt:65536:8:2$salt$hash", False),
        ("scrypt:16384:8:1$salt$hash", True),
        ("scrypt:32768:4:1$salt$hash", True),
        ("scrypt:nonsense$salt$hash", True),
        ("pbkdf2:sha256:1000000$salt$hash", True),
        (DJANGO_VECTORS["pbkdf2_sha256"], True),
        (DJANGO_VECTORS["bcrypt"], True),
        (LIBRARY_VECTORS["argon2id PHC"], True),
    ],
)
def test_scrypt_scheme_rehashes_other_formats_and_weaker_scrypt(password_hash, outdated):
    assert SchemePasswordHasher("scrypt").needs_rehash(password_hash) is outdated


def test_argon2id_scheme_rehash_rules():
    hasher = SchemePasswordHasher("argon2id")

    assert not hasher.needs_rehash(hasher.hash_now(PASSWORD))
    assert hasher.needs_rehash(LIBRARY_VECTORS["argon2id PHC"])
    assert hasher.needs_rehash(LIBRARY_VECTORS["argon2i PHC"])
    assert hasher.needs_rehash(LIBRARY_VECTORS["werkzeug scrypt"])
    assert hasher.needs_rehash("$argon2id$nonsense")


def test_new_hashes_verify(verifier):
    for scheme in ("scrypt", "argon2id"):
        stored = SchemePasswordHasher(scheme).hash_now(PASSWORD)
        assert verifier.verify_now(PASSWORD, stored)
        assert not SchemePasswordHasher(scheme).needs_rehash(stored)
