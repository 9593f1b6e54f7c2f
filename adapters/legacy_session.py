"""Reading the legacy Flask session cookie with itsdangerous.

Flask signs its session cookie with ``URLSafeTimedSerializer`` under the salt
``cookie-session``, HMAC key derivation and SHA-1. A payload that starts with
"." was zlib-compressed before signing; itsdangerous' own loader undoes that,
so this module never parses the payload format itself.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import timezone
from typing import Any

from itsdangerous import BadData, URLSafeTimedSerializer

from domain.errors import LegacySessionInvalid
from domain.legacy import LegacySession, claim_key_for

FLASK_SESSION_SALT = "cookie-session"
# Flask-Login keeps the logged-in user's id under this key.
FLASK_LOGIN_USER_KEY = "_user_id"
# Longer than any session the legacy app wrote; a bound on work per request.
MAX_COOKIE_LENGTH = 8192


class FlaskSessionReader:
    """``LegacySessionReader`` for Flask's default session cookie.

    The current secret is tried first, then each previous one, so a cookie
    signed before a ``SESSION_SECRET`` rotation still verifies. The age is
    not checked here, because itsdangerous would compare it with the wall
    clock instead of Keyturn's clock.
    """

    def __init__(self, secret: str, previous_secrets: Sequence[str] = ()) -> None:
        self._serializers = [_serializer(key) for key in (secret, *previous_secrets) if key]

    def read(self, cookie: str) -> LegacySession:
        if len(cookie) > MAX_COOKIE_LENGTH:
            raise LegacySessionInvalid("the legacy session cookie is too long")
        payload, signed_at = self._load(cookie)
        if not isinstance(payload, dict):
            raise LegacySessionInvalid("the legacy session cookie holds no session")
        return LegacySession(
            user_id=_user_id(payload.get(FLASK_LOGIN_USER_KEY)),
            issued_at=signed_at.astimezone(timezone.utc),
            claim_key=claim_key_for(cookie),
        )

    def _load(self, cookie: str) -> tuple[Any, Any]:
        for serializer in self._serializers:
            try:
                return serializer.loads(cookie, return_timestamp=True)
            except BadData:
                continue
            except (ValueError, TypeError, UnicodeError):
                # A correctly signed payload that is not JSON; treat it like any unreadable cookie.
                break
        raise LegacySessionInvalid("the legacy session cookie is not signed by a known secret")


def _serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(
        secret,
        salt=FLASK_SESSION_SALT,
        signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha1},
    )


def _user_id(raw: object) -> str | None:
    # Flask-Login stores the id as the string the user loader received;
    # an int is accepted too, since a custom get_id() may return one.
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return str(raw)
    if isinstance(raw, str) and raw.strip():
        return raw
    return None
