#!/usr/bin/env python3
"""Verify a Keyturn EdDSA access token the way another service would: PyJWT and the published JWKS only.

Usage::

    python scripts/verify_with_jwks.py --port 8000 < token.txt
    python scripts/verify_with_jwks.py --port 8000 --issuer keyturn --audience keyturn TOKEN

The key set is fetched from ``http://127.0.0.1:PORT/.well-known/jwks.json``.
The token is read from standard input when no argument is given, which keeps
it out of the process list and the shell history. Exits with 0 and prints
the subject and kid when the token is valid; exits with 1 and prints the
reason otherwise. Nothing here imports Keyturn.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import jwt

# The verifier, not the token, decides which algorithms are acceptable
# (RFC 8725 section 3.1). Keyturn's directory keys are EdDSA or ES256.
ALGORITHMS = ["EdDSA"]
ACCESS_TOKEN_TYPES = {"at+jwt", "application/at+jwt"}
REQUIRED_CLAIMS = ["iss", "aud", "sub", "iat", "nbf", "exp", "jti"]


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Verify a Keyturn EdDSA access token against its JWKS endpoint.")
    parser.add_argument("--port", type=int, required=True, help="TCP port of Keyturn on 127.0.0.1")
    parser.add_argument("--issuer", default="keyturn", help="expected iss claim (default: keyturn)")
    parser.add_argument("--audience", default="keyturn", help="expected aud claim (default: keyturn)")
    parser.add_argument("--leeway", type=int, default=60, help="allowed clock skew in seconds (default: 60)")
    parser.add_argument("token", nargs="?", help="the access token; read from standard input when omitted")
    return parser.parse_args(argv)


def verify(token: str, port: int, issuer: str, audience: str, leeway: int) -> dict:
    """Return the token's claims, or raise ``jwt.PyJWTError`` naming the check that failed."""
    # RFC 9068 section 4: a resource server rejects any typ other than at+jwt.
    token_type = jwt.get_unverified_header(token).get("typ")
    if not isinstance(token_type, str) or token_type.lower() not in ACCESS_TOKEN_TYPES:
        raise jwt.InvalidTokenError("typ is not at+jwt, so this is not an access token")

    # PyJWKClient picks the key by the token's kid and refetches the set
    # once when that kid is unknown, which is how a rotated key is found.
    jwks = jwt.PyJWKClient(f"http://127.0.0.1:{port}/.well-known/jwks.json", timeout=5)
    signing_key = jwks.get_signing_key_from_jwt(token)
    return jwt.decode(
        token,
        signing_key,
        algorithms=ALGORITHMS,
        issuer=issuer,
        audience=audience,
        leeway=leeway,
        options={"require": REQUIRED_CLAIMS},
    )


def main(argv: Sequence[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    token = arguments.token if arguments.token is not None else sys.stdin.read().strip()
    try:
        claims = verify(token, arguments.port, arguments.issuer, arguments.audience, arguments.leeway)
    except jwt.PyJWTError as error:
        print(f"invalid token: {error}", file=sys.stderr)
        return 1
    kid = jwt.get_unverified_header(token)["kid"]
    print(f"valid token: sub={claims['sub']} kid={kid}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
