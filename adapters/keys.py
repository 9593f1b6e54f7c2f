"""Key material: the HS256 key derived from ``SESSION_SECRET``, asymmetric keys, and their public JWKs.

The access-token key is derived with HKDF-SHA256 (RFC 5869) rather than used
as it is. So the secret that signed the legacy Flask session cookies never
signs a JWT, and a leaked token key does not reveal the Flask key.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Sequence
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from domain.errors import ConfigurationError
from domain.keys import EDDSA, ES256, KeyRing, SigningKey

_SALT = b"keyturn/v1"
_SIGNING_INFO = b"keyturn access-token signing key HS256"
_KID_INFO = b"keyturn access-token key id"
_KID_PREFIXES = {EDDSA: "ed-", ES256: "es-"}
# RFC 7518 section 6.2.1.2: each P-256 coordinate is exactly 32 octets.
_P256_COORDINATE_BYTES = 32

PrivateKey = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey


def _hkdf(secret: bytes, info: bytes, length: int) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=_SALT, info=info).derive(secret)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def derive_hs256_key(session_secret: str) -> SigningKey:
    """Derive the HS256 key and its ``kid`` from one secret.

    The ``kid`` comes from a separate HKDF output, so publishing it reveals
    nothing about the signing key or the secret.
    """
    secret = session_secret.encode("utf-8")
    material = _hkdf(secret, _SIGNING_INFO, 32)
    kid = "hs-" + _b64url(_hkdf(secret, _KID_INFO, 12))
    return SigningKey(kid=kid, algorithm="HS256", material=material)


def key_ring_from_secrets(current: str, previous: Sequence[str] = ()) -> KeyRing:
    """Build a ring that signs with ``current`` and still verifies tokens of ``previous`` secrets."""
    return KeyRing(
        active=derive_hs256_key(current),
        verify_only=tuple(derive_hs256_key(secret) for secret in previous),
    )


def new_kid(algorithm: str) -> str:
    """Return a random key id; it carries 96 random bits and nothing derived from the key."""
    return _KID_PREFIXES[algorithm] + secrets.token_urlsafe(12)


def generate_private_key(algorithm: str) -> PrivateKey:
    """Generate an Ed25519 key for EdDSA or a P-256 key for ES256."""
    if algorithm == EDDSA:
        return ed25519.Ed25519PrivateKey.generate()
    if algorithm == ES256:
        return ec.generate_private_key(ec.SECP256R1())
    raise ConfigurationError(f"cannot generate a key for algorithm {algorithm!r}; use EdDSA or ES256")


def private_key_to_pem(private_key: PrivateKey) -> bytes:
    """Serialize unencrypted PKCS#8 PEM; the file's 0600 mode is what protects it."""
    return private_key.private_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PrivateFormat.PKCS8,
        encryption_algorithm=serialization.NoEncryption(),
    )


def asymmetric_key_from_pem(kid: str, algorithm: str, pem: bytes) -> SigningKey:
    """Load a PEM private key and bind it to ``kid`` and ``algorithm``.

    Raises ``ConfigurationError`` when the PEM does not parse or contains a key
    of another type than the algorithm needs, so a file swapped for the
    wrong kind of key is never used.
    """
    try:
        private_key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as error:
        raise ConfigurationError(f"the private key file of {kid} is not an unencrypted PEM private key") from error
    if not _matches_algorithm(private_key, algorithm):
        raise ConfigurationError(f"the private key file of {kid} does not hold a key for {algorithm}")
    return SigningKey(kid=kid, algorithm=algorithm, material=private_key, public_material=private_key.public_key())


def _matches_algorithm(private_key: object, algorithm: str) -> bool:
    if algorithm == EDDSA:
        return isinstance(private_key, ed25519.Ed25519PrivateKey)
    if algorithm == ES256:
        return isinstance(private_key, ec.EllipticCurvePrivateKey) and isinstance(private_key.curve, ec.SECP256R1)
    return False


def public_jwk(key: SigningKey) -> dict[str, str] | None:
    """Return the public JWK of an asymmetric key, or None for an HS256 key.

    Only public members are written (RFC 8037 section 2 for OKP, RFC 7518
    section 6.2.1 for EC), so neither ``d`` nor a symmetric ``k`` can leak.
    """
    public = key.public_material
    if isinstance(public, ed25519.Ed25519PublicKey):
        raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        members = {"kty": "OKP", "crv": "Ed25519", "x": _b64url(raw)}
    elif isinstance(public, ec.EllipticCurvePublicKey):
        numbers = public.public_numbers()
        members = {
            "kty": "EC",
            "crv": "P-256",
            "x": _b64url(numbers.x.to_bytes(_P256_COORDINATE_BYTES, "big")),
            "y": _b64url(numbers.y.to_bytes(_P256_COORDINATE_BYTES, "big")),
        }
    else:
        return None
    return members | {"kid": key.kid, "alg": key.algorithm, "use": "sig"}


def public_jwks(ring: KeyRing) -> dict[str, Any]:
    """Return the JWK Set (RFC 7517 section 5) of every asymmetric key in the ring."""
    keys = [jwk for jwk in (public_jwk(key) for key in ring) if jwk is not None]
    return {"keys": keys}
