"""Token transport in cookies: HttpOnly, with every attribute explicit."""

from __future__ import annotations

from datetime import datetime

from litestar import Request
from litestar.datastructures import Cookie

from domain.tokens import TokenPair
from entrypoints.settings import CookieSettings


class CookieTransport:
    """Sets, reads and clears the access and refresh cookies.

    The refresh cookie is scoped to the auth routes' path, so browsers send
    it only where it is needed. Clearing repeats the attributes the cookie
    was set with, because a browser deletes a cookie only when name, path
    and domain match.
    """

    def __init__(self, settings: CookieSettings) -> None:
        self._settings = settings

    def read_access(self, request: Request) -> str | None:
        return request.cookies.get(self._settings.access_name)

    def read_refresh(self, request: Request) -> str | None:
        return request.cookies.get(self._settings.refresh_name)

    def issue(self, pair: TokenPair, now: datetime) -> list[Cookie]:
        cookies = [
            self._cookie(
                self._settings.access_name,
                pair.access_token,
                self._settings.access_path,
                _seconds_until(pair.access.expires_at, now),
            )
        ]
        if pair.refresh is not None and pair.refresh_expires_at is not None:
            cookies.append(
                self._cookie(
                    self._settings.refresh_name,
                    pair.refresh.value,
                    self._settings.refresh_path,
                    _seconds_until(pair.refresh_expires_at, now),
                )
            )
        return cookies

    def clear(self) -> list[Cookie]:
        return [
            self._cookie(self._settings.access_name, "", self._settings.access_path, 0),
            self._cookie(self._settings.refresh_name, "", self._settings.refresh_path, 0),
        ]

    def _cookie(self, name: str, value: str, path: str, max_age: int) -> Cookie:
        return Cookie(
            key=name,
            value=value,
            max_age=max_age,
            expires=max_age,
            path=path,
            domain=self._settings.domain,
            secure=self._settings.secure,
            httponly=True,
            samesite=self._settings.samesite,  # type: ignore[arg-type]
        )


def _seconds_until(moment: datetime, now: datetime) -> int:
    return max(0, int((moment - now).total_seconds()))
