"""Access-token codec on PyJWT, following RFC 8725 (JWT BCP) and RFC 9068."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import jwt

from domain.errors import TokenInvalid
from domain.keys import KeyRing
from domain.policy import TokenPolicy
from domain.tokens import AccessToken

ACCESS_TOKEN_TYPES = frozenset({"at+jwt", "application/at+jwt"})
MAX_TOKEN_LENGTH = 8 * 1024
# Headers that would let a token name its own key or make the verifier
# process extensions it does not know (RFC 8725 sections 3.10 and 2.6).
_FORBIDDEN_HEADERS = frozenset({"jku", "jwk", "x5u", "x5c", "crit"})
_REQUIRED_CLAIMS = ["iss", "aud", "sub", "iat", "nbf", "exp", "jti", "sid"]


class JwtCodec:
    """Signs with the ring's active key and verifies with the key a token's ``kid`` names.

    Time claims are only type-checked here; the domain checks them against
    the clock with leeway, so tests can move time.
    """

    def __init__(self, key_ring: KeyRing, policy: TokenPolicy) -> None:
        self._ring = key_ring
        self._issuer = policy.issuer
        self._audience = policy.audience

    def encode(self, token: AccessToken) -> str:
        key = self._ring.active
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
        if len(raw) > MAX_TOKEN_LENGTH:
            raise TokenInvalid("access token is too long")
        try:
            header = jwt.get_unverified_header(raw)
        except jwt.PyJWTError as error:
            raise TokenInvalid("access token is malformed") from error

        self._check_header(header)
        key = self._ring.find(header.get("kid"))
        if header.get("alg") != key.algorithm:
            raise TokenInvalid("access token algorithm does not match its key")

        try:
            claims = jwt.decode(
                raw,
                key.material,
                algorithms=[key.algorithm],
                audience=self._audience,
                issuer=self._issuer,
                options={
                    "require": _REQUIRED_CLAIMS,
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                },
            )
        except jwt.PyJWTError as error:
            raise TokenInvalid("access token failed verification") from error
        return _access_token_from(claims)

    @staticmethod
    def _check_header(header: dict[str, Any]) -> None:
        if _FORBIDDEN_HEADERS & header.keys():
            raise TokenInvalid("access token carries a forbidden header")
        if header.get("typ") not in ACCESS_TOKEN_TYPES:
            raise TokenInvalid("token is not an access token (typ)")


def _timestamp(moment: datetime) -> int:
    return int(moment.timestamp())


def _access_token_from(claims: dict[str, Any]) -> AccessToken:
    strings = {name: claims[name] for name in ("iss", "aud", "sub", "jti", "sid")}
    numbers = {name: claims[name] for name in ("iat", "nbf", "exp")}
    if not all(isinstance(value, str) and value for value in strings.values()):
        raise TokenInvalid("access token has a claim of the wrong type")
    if not all(type(value) is int for value in numbers.values()):
        raise TokenInvalid("access token has a time claim that is not an integer")
    try:
        times = {name: datetime.fromtimestamp(value, timezone.utc) for name, value in numbers.items()}
    except (OverflowError, OSError, ValueError) as error:
        raise TokenInvalid("access token has a time claim out of range") from error

    return AccessToken(
        subject=strings["sub"],
        session_id=strings["sid"],
        token_id=strings["jti"],
        issued_at=times["iat"],
        not_before=times["nbf"],
        expires_at=times["exp"],
        issuer=strings["iss"],
        audience=strings["aud"],
    )
