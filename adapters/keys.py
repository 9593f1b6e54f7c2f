"""Signing keys derived from ``SESSION_SECRET``.

The access-token key is derived with HKDF-SHA256 (RFC 5869) rather than used
as it is. So the secret that signed the legacy Flask session cookies never
signs a JWT, and a leaked token key does not reveal the Flask key.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from domain.keys import KeyRing, SigningKey

_SALT = b"keyturn/v1"
_SIGNING_INFO = b"keyturn access-token signing key HS256"
_KID_INFO = b"keyturn access-token key id"


def _hkdf(secret: bytes, info: bytes, length: int) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=_SALT, info=info).derive(secret)


def derive_hs256_key(session_secret: str) -> SigningKey:
    """Derive the HS256 key and its ``kid`` from one secret.

    The ``kid`` comes from a separate HKDF output, so publishing it reveals
    nothing about the signing key or the secret.
    """
    secret = session_secret.encode("utf-8")
    material = _hkdf(secret, _SIGNING_INFO, 32)
    kid_bytes = _hkdf(secret, _KID_INFO, 12)
    kid = "hs-" + base64.urlsafe_b64encode(kid_bytes).decode("ascii").rstrip("=")
    return SigningKey(kid=kid, algorithm="HS256", material=material)


def key_ring_from_secrets(current: str, previous: Sequence[str] = ()) -> KeyRing:
    """Build a ring that signs with ``current`` and still verifies tokens of ``previous`` secrets."""
    return KeyRing(
        active=derive_hs256_key(current),
        verify_only=tuple(derive_hs256_key(secret) for secret in previous),
    )
