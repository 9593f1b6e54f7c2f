"""Token transport in cookies, with every attribute explicit (RFC 6265bis).

The access and refresh cookies are HttpOnly. The CSRF cookie is not, because
the page's script must read it and copy it into ``X-CSRF-Token``. It contains
no credential, only a value bound to the session.
"""

from __future__ import annotations

from datetime import datetime

from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie

from domain.tokens import TokenPair
from entrypoints.settings import CookieSettings, LegacySessionSettings


class CookieTransport:
    """Sets, reads and clears the access, refresh and CSRF cookies.

    The refresh cookie is scoped to the auth routes' path, so browsers send
    it only where it is needed. The CSRF cookie lives as long as the refresh
    token, because every refresh needs it. Clearing repeats the attributes
    each cookie was set with, because a browser deletes a cookie only when
    name, path and domain match.
    """

    def __init__(self, settings: CookieSettings, legacy: LegacySessionSettings | None = None) -> None:
        self._settings = settings
        self._legacy = legacy or LegacySessionSettings()

    @property
    def csrf_name(self) -> str:
        return self._settings.csrf_name

    def read_access(self, connection: ASGIConnection) -> str | None:
        return connection.cookies.get(self._settings.access_name)

    def read_refresh(self, connection: ASGIConnection) -> str | None:
        return connection.cookies.get(self._settings.refresh_name)

    def read_csrf(self, connection: ASGIConnection) -> str | None:
        return connection.cookies.get(self._settings.csrf_name)

    def read_legacy_session(self, connection: ASGIConnection) -> str | None:
        return connection.cookies.get(self._legacy.cookie_name)

    def issue(self, pair: TokenPair, now: datetime, csrf_token: str) -> list[Cookie]:
        settings = self._settings
        cookies = [
            self._cookie(settings.access_name, pair.access_token, settings.access_path, _until(pair.access.expires_at, now))
        ]
        if pair.refresh is not None and pair.refresh_expires_at is not None:
            refresh_age = _until(pair.refresh_expires_at, now)
            cookies.append(self._cookie(settings.refresh_name, pair.refresh.value, settings.refresh_path, refresh_age))
            cookies.append(self._cookie(settings.csrf_name, csrf_token, settings.csrf_path, refresh_age, httponly=False))
        # Without a refresh token (a refresh inside the reuse grace window) the
        # session is unchanged, so the browser keeps its refresh and CSRF cookies.
        return cookies

    def clear(self) -> list[Cookie]:
        settings = self._settings
        return [
            self._cookie(settings.access_name, "", settings.access_path, 0),
            self._cookie(settings.refresh_name, "", settings.refresh_path, 0),
            self._cookie(settings.csrf_name, "", settings.csrf_path, 0, httponly=False),
        ]

    def expire_legacy_session(self) -> Cookie:
        """Delete the legacy Flask cookie, which Flask sets on path ``/``."""
        return Cookie(
            key=self._legacy.cookie_name,
            value="",
            max_age=0,
            expires=0,
            path="/",
            domain=self._legacy.domain,
            secure=self._settings.secure,
            httponly=True,
            samesite=self._settings.samesite,  # type: ignore[arg-type]
        )

    def _cookie(self, name: str, value: str, path: str, max_age: int, *, httponly: bool = True) -> Cookie:
        return Cookie(
            key=name,
            value=value,
            max_age=max_age,
            expires=max_age,
            path=path,
            domain=self._settings.domain,
            secure=self._settings.secure,
            httponly=httponly,
            samesite=self._settings.samesite,  # type: ignore[arg-type]
        )


def _until(moment: datetime, now: datetime) -> int:
    return max(0, int((moment - now).total_seconds()))
