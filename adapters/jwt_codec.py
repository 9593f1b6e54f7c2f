"""Access-token codec on PyJWT, following RFC 8725 (JWT BCP) and RFC 9068.

PyJWT checks only the signature here (``PyJWS.decode_complete``). The codec
parses the header and the payload itself, so that it can reject duplicate
members and anything else a second JSON parser might read differently
(RFC 8725 section 2.6), and it validates every claim itself.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from datetime import datetime, timezone
from typing import Any, Protocol

import jwt

from domain.errors import TokenInvalid
from domain.keys import KeyRing, SigningKey, is_valid_kid
from domain.policy import TokenPolicy
from domain.tokens import AccessToken

# RFC 9068 section 2.1; RFC 7515 section 4.1.9 makes media types case-insensitive.
ACCESS_TOKEN_TYPES = frozenset({"at+jwt", "application/at+jwt"})
MAX_TOKEN_LENGTH = 8 * 1024
# The only header parameters Keyturn writes. Any other one is rejected: jku,
# jwk, x5u and x5c would let a token name its own key (RFC 8725 section
# 3.10), crit requires extensions this verifier does not implement (RFC 7515
# section 4.1.11), and b64 would change what the signature covers (RFC 7797).
ALLOWED_HEADERS = frozenset({"alg", "typ", "kid"})
_KEY_SOURCE_HEADERS = frozenset({"jku", "jwk", "x5u", "x5c"})
REQUIRED_CLAIMS = ("iss", "aud", "sub", "iat", "nbf", "exp", "jti", "sid")
_TIME_CLAIMS = ("iat", "nbf", "exp")
_BASE64URL = re.compile(r"[A-Za-z0-9_-]+")
# jti and sid are what new_token_id and new_session_id produce; sub is a
# users-table id, so any short printable text is allowed.
_RANDOM_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")
_MAX_SUBJECT_LENGTH = 255


class KeyRingProvider(Protocol):
    """Anything that returns the key ring to use right now, such as ``KeyRingSource``."""

    def current(self) -> KeyRing: ...


class StaticKeyRing:
    """A provider for a ring that never changes."""

    def __init__(self, ring: KeyRing) -> None:
        self._ring = ring

    def current(self) -> KeyRing:
        return self._ring


class JwtCodec:
    """Signs with the ring's active key and verifies with the key a token's ``kid`` names.

    The algorithm always comes from that key, never from the token's
    header. Time claims are only type-checked here; the domain checks them
    against the clock with leeway, so tests can move time.
    """

    def __init__(self, keys: KeyRing | KeyRingProvider, policy: TokenPolicy) -> None:
        self._keys: KeyRingProvider = StaticKeyRing(keys) if isinstance(keys, KeyRing) else keys
        self._issuer = policy.issuer
        self._audience = policy.audience
        self._jws = jwt.PyJWS()

    def encode(self, token: AccessToken) -> str:
        key = self._keys.current().active
        claims = {
            "iss": token.issuer,
            "aud": token.audience,
            "sub": token.subject,
            "iat": _timestamp(token.issued_at),
            "nbf": _timestamp(token.not_before),
            "exp": _timestamp(token.expires_at),
            "jti": token.token_id,
            "sid": token.session_id,
        }
        headers = {"typ": "at+jwt", "kid": key.kid}
        return jwt.encode(claims, key.material, algorithm=key.algorithm, headers=headers)

    def decode(self, raw: str) -> AccessToken:
        """Return the claims of a correctly signed access token or raise ``TokenInvalid``."""
        header_segment, payload_segment, signature_segment = _split_compact(raw)
        header = _parse_json_object(_decode_segment(header_segment), "header")
        _check_header(header)
        _decode_segment(signature_segment)

        key = self._keys.current().find(header["kid"])
        if header["alg"] != key.algorithm:
            raise TokenInvalid("access token algorithm does not match its key")
        self._verify_signature(raw, key)

        claims = _parse_json_object(_decode_segment(payload_segment), "payload")
        return self._access_token_from(claims)

    def _verify_signature(self, raw: str, key: SigningKey) -> None:
        try:
            self._jws.decode_complete(raw, key=key.verification_material, algorithms=[key.algorithm])
        except jwt.PyJWTError as error:
            raise TokenInvalid("access token signature is invalid") from error

    def _access_token_from(self, claims: dict[str, Any]) -> AccessToken:
        missing = [name for name in REQUIRED_CLAIMS if name not in claims]
        if missing:
            raise TokenInvalid(f"access token is missing the claims {', '.join(missing)}")
        _check_audience_and_issuer(claims, self._audience, self._issuer)
        _check_identifiers(claims)
        times = {name: _datetime_claim(claims, name) for name in _TIME_CLAIMS}
        return AccessToken(
            subject=claims["sub"],
            session_id=claims["sid"],
            token_id=claims["jti"],
            issued_at=times["iat"],
            not_before=times["nbf"],
            expires_at=times["exp"],
            issuer=claims["iss"],
            audience=claims["aud"],
        )


def _split_compact(raw: object) -> tuple[str, str, str]:
    """Split the JWS compact serialization (RFC 7515 section 7.1) after checking its size and shape."""
    if not isinstance(raw, str) or not raw.isascii():
        raise TokenInvalid("access token is malformed")
    if len(raw) > MAX_TOKEN_LENGTH:
        raise TokenInvalid(f"access token is longer than {MAX_TOKEN_LENGTH} bytes")
    segments = raw.split(".")
    if len(segments) != 3:
        raise TokenInvalid("access token is not a three-part compact JWS")
    return segments[0], segments[1], segments[2]


def _decode_segment(segment: str) -> bytes:
    """Decode non-empty unpadded base64url, accepting only the one canonical spelling of each value.

    Otherwise several strings would decode to the same token, because the
    unused low bits of the last character are free.
    """
    if not _BASE64URL.fullmatch(segment):
        raise TokenInvalid("access token has an empty or non-base64url part")
    try:
        decoded = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (binascii.Error, ValueError) as error:
        raise TokenInvalid("access token has a part that is not base64url") from error
    if base64.urlsafe_b64encode(decoded).decode("ascii").rstrip("=") != segment:
        raise TokenInvalid("access token has a part that is not canonical base64url")
    return decoded


def _parse_json_object(data: bytes, part: str) -> dict[str, Any]:
    """Parse strict UTF-8 JSON (RFC 8725 section 3.7) into an object with no duplicate member names."""
    try:
        document = json.loads(
            data.decode("utf-8"), object_pairs_hook=_object_without_duplicates, parse_constant=_reject_constant
        )
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise TokenInvalid(f"access token {part} is not valid JSON") from error
    if not isinstance(document, dict):
        raise TokenInvalid(f"access token {part} is not a JSON object")
    return document


def _object_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document = dict(pairs)
    if len(document) != len(pairs):
        # ValueError is turned into TokenInvalid by the caller.
        raise ValueError("duplicate member name")
    return document


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _check_header(header: dict[str, Any]) -> None:
    algorithm = header.get("alg")
    if not isinstance(algorithm, str):
        raise TokenInvalid("access token header has no alg")
    if algorithm.lower() == "none":
        raise TokenInvalid("unsigned access tokens (alg none) are not accepted")
    if _KEY_SOURCE_HEADERS & header.keys():
        raise TokenInvalid("access token header names its own key (jku, jwk, x5u or x5c)")
    if "crit" in header:
        raise TokenInvalid("access token header has crit, and no extension is supported")
    if header.keys() - ALLOWED_HEADERS:
        raise TokenInvalid("access token header has an unsupported parameter")
    token_type = header.get("typ")
    if not isinstance(token_type, str) or token_type.lower() not in ACCESS_TOKEN_TYPES:
        raise TokenInvalid("token is not an access token (typ must be at+jwt)")
    if not is_valid_kid(header.get("kid")):
        raise TokenInvalid("access token header has a missing or malformed kid")


def _check_audience_and_issuer(claims: dict[str, Any], audience: str, issuer: str) -> None:
    # Keyturn issues aud as one string. RFC 9068 would allow an array that
    # contains our audience, but such a token was not made by this issuer's
    # code, and accepting it would let a token meant for several services
    # pass here too (RFC 8725 section 3.9). So an array is rejected.
    if claims["aud"] != audience or not isinstance(claims["aud"], str):
        raise TokenInvalid("access token audience (aud) is not this service")
    if claims["iss"] != issuer or not isinstance(claims["iss"], str):
        raise TokenInvalid("access token issuer (iss) is not trusted")


def _check_identifiers(claims: dict[str, Any]) -> None:
    subject = claims["sub"]
    if not isinstance(subject, str) or not subject or len(subject) > _MAX_SUBJECT_LENGTH:
        raise TokenInvalid("access token subject (sub) must be a non-empty string")
    if not subject.isprintable():
        raise TokenInvalid("access token subject (sub) contains control characters")
    for name in ("jti", "sid"):
        value = claims[name]
        if not isinstance(value, str) or not _RANDOM_ID.fullmatch(value):
            raise TokenInvalid(f"access token {name} is not a token id Keyturn issues")


def _datetime_claim(claims: dict[str, Any], name: str) -> datetime:
    value = claims[name]
    # type() rather than isinstance(), because True and False are ints too.
    if type(value) is not int:
        raise TokenInvalid(f"access token {name} is not an integer NumericDate")
    try:
        return datetime.fromtimestamp(value, timezone.utc)
    except (OverflowError, OSError, ValueError) as error:
        raise TokenInvalid(f"access token {name} is out of range") from error


def _timestamp(moment: datetime) -> int:
    return int(moment.timestamp())
