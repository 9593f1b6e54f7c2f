"""CSRF protection for cookie-authenticated requests: a session-bound double-submit cookie.

Rules (OWASP Cross-Site Request Forgery Prevention Cheat Sheet, "signed
double-submit cookie"): an unsafe request (POST, PUT, PATCH, DELETE) that
authenticates with a cookie must carry header ``X-CSRF-Token`` equal to the
``csrf_token`` cookie and to the HMAC of the session it authenticates as.
A cross-site page can make the browser send the cookies but can neither read
the CSRF cookie nor compute the HMAC, so it cannot fill in the header.
Requests authenticated by ``Authorization: Bearer`` are exempt: browsers
never attach that header on their own. Login and the legacy session exchange
are exempt because no Keyturn session exists before them.
"""

from __future__ import annotations

import hmac
import logging
from dataclasses import dataclass

from litestar import Request, Response
from litestar.connection import ASGIConnection

from adapters.csrf_tokens import CsrfTokens
from domain.errors import KeyturnError
from entrypoints.http.cookies import CookieTransport
from entrypoints.http.problems import problem

logger = logging.getLogger(__name__)

CSRF_HEADER = "x-csrf-token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class CsrfFailed(KeyturnError):
    """The CSRF header is missing or does not match the cookie and the session."""

    code = "csrf_failed"


@dataclass(frozen=True, slots=True)
class CsrfProtection:
    tokens: CsrfTokens
    cookies: CookieTransport

    def token_for(self, session_id: str) -> str:
        return self.tokens.token_for(session_id)

    def require(self, connection: ASGIConnection, session_id: str) -> None:
        """Raise ``CsrfFailed`` unless a safe method, or header, cookie and session agree."""
        if connection.scope.get("method") not in UNSAFE_METHODS:
            return
        header = connection.headers.get(CSRF_HEADER) or ""
        cookie = self.cookies.read_csrf(connection) or ""
        if not header or not cookie:
            raise CsrfFailed("the X-CSRF-Token header and the CSRF cookie are required")
        # Both checks always run, so the time taken does not tell which one failed.
        same_as_cookie = hmac.compare_digest(header.encode("utf-8"), cookie.encode("utf-8"))
        bound_to_session = self.tokens.matches(session_id, header)
        if not (same_as_cookie and bound_to_session):
            raise CsrfFailed("the CSRF token does not match this session")


def handle_csrf_failed(request: Request, error: CsrfFailed) -> Response:
    # Only the code and path are logged, never the header or cookie value.
    logger.info("request rejected: %s", error.code, extra={"code": error.code, "path": request.url.path})
    return problem(403, error.code, str(error), request)


CSRF_EXCEPTION_HANDLERS = {CsrfFailed: handle_csrf_failed}
