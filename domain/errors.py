"""Domain errors.

Bad input and failed authentication raise ``AuthError`` subclasses, each with
a stable ``code`` that the HTTP layer turns into a problem detail.
Misconfiguration raises ``ConfigurationError``, which is kept apart so that it
is never mistaken for a bad token.
"""


class KeyturnError(Exception):
    """Base of every error Keyturn raises on purpose."""


class ConfigurationError(KeyturnError):
    """A setting is missing or invalid; the message names the setting to fix."""


class AuthError(KeyturnError):
    """A request failed authentication or carried invalid credentials."""

    code = "unauthorized"


class InvalidCredentials(AuthError):
    """The login or the password is wrong, or the account cannot log in."""

    code = "invalid_credentials"


class TokenError(AuthError):
    """An access or refresh token was rejected."""

    code = "token_invalid"


class TokenMissing(TokenError):
    """The request carried no token where one is required."""

    code = "token_missing"


class TokenInvalid(TokenError):
    """The token is malformed, has a bad signature or breaks a claim rule."""

    code = "token_invalid"


class TokenExpired(TokenError):
    """The token's ``exp`` plus the leeway lies in the past."""

    code = "token_expired"


class TokenRevoked(TokenError):
    """The token was valid once but has been revoked."""

    code = "token_revoked"


class RefreshTokenReused(TokenError):
    """A refresh token that was already rotated was presented again."""

    code = "refresh_reused"


class RequestError(KeyturnError):
    """A well-formed request that cannot be carried out as asked."""

    code = "invalid_request"


class PasswordRejected(RequestError):
    """A new password breaks the password policy; the message names the rule."""

    code = "password_rejected"


class SessionNotFound(RequestError):
    """No session with this id belongs to the caller."""

    code = "session_not_found"


class StoreUnavailable(KeyturnError):
    """A backing store (database or Redis) could not be reached or timed out.

    Keyturn fails closed on it: no token is accepted that could not be
    checked, and the client gets a response asking it to retry.
    """

    code = "store_unavailable"


class LegacySessionError(AuthError):
    """A legacy Flask session cookie could not be exchanged for a Keyturn session."""

    code = "legacy_session_invalid"


class LegacySessionMissing(LegacySessionError):
    """The request carried no legacy session cookie."""

    code = "legacy_session_missing"


class LegacySessionInvalid(LegacySessionError):
    """The cookie is malformed, tampered with or signed by an unknown secret."""

    code = "legacy_session_invalid"


class LegacySessionExpired(LegacySessionError):
    """The cookie was signed longer ago than the legacy session lifetime allows."""

    code = "legacy_session_expired"


class LegacySessionAnonymous(LegacySessionError):
    """The cookie is genuine but names no logged-in user."""

    code = "legacy_session_anonymous"


class LegacySessionAccountUnavailable(LegacySessionError):
    """The cookie names a user who is unknown or inactive; the two get the same error."""

    code = "legacy_session_account_unavailable"


class LegacySessionReused(LegacySessionError):
    """The cookie was already exchanged once."""

    code = "legacy_session_reused"
