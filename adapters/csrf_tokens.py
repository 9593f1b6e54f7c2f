"""CSRF tokens bound to a session: an HMAC of the session id.

The HMAC key is derived from ``SESSION_SECRET`` with HKDF-SHA256 (RFC 5869)
under its own ``info``, so it is independent of the access-token key. This is
the "signed double-submit cookie" of the OWASP Cross-Site Request Forgery
Prevention Cheat Sheet: an attacker who can plant a cookie still cannot make
a token that matches the victim's session without the key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_SALT = b"keyturn/v1"
_CSRF_INFO = b"keyturn csrf token key HMAC-SHA256"
_KEY_BYTES = 32


def derive_csrf_key(session_secret: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=_KEY_BYTES, salt=_SALT, info=_CSRF_INFO).derive(
        session_secret.encode("utf-8")
    )


class CsrfTokens:
    """Makes and checks the CSRF token of a session.

    Tokens are made with the current secret's key. Tokens of previous
    secrets still match, so rotating ``SESSION_SECRET`` does not lock
    browsers out of refreshing before they get a new token.
    """

    def __init__(self, secret: str, previous_secrets: Sequence[str] = ()) -> None:
        self._keys = [derive_csrf_key(key) for key in (secret, *previous_secrets) if key]

    def token_for(self, session_id: str) -> str:
        return _token(self._keys[0], session_id)

    def matches(self, session_id: str, presented: str) -> bool:
        """Compare in constant time against every key, without stopping at the first match."""
        presented_bytes = presented.encode("utf-8", "replace")
        results = [hmac.compare_digest(_token(key, session_id).encode("ascii"), presented_bytes) for key in self._keys]
        return any(results)


def _token(key: bytes, session_id: str) -> str:
    digest = hmac.new(key, session_id.encode("utf-8"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")
