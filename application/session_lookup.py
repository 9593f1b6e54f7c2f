"""Name the session a request's tokens belong to, without changing anything."""

from __future__ import annotations

from application.ports import RefreshTokenStore, TokenCodec
from domain.errors import TokenError
from domain.tokens import RefreshToken


class IdentifySession:
    """Find the session a refresh or logout request would act on.

    The HTTP layer needs it to check a CSRF token before the refresh token is
    rotated or the session revoked. Nothing here decides whether the tokens
    are still usable: an expired but correctly signed access token, or a
    rotated refresh token, still names its session, and the use case that
    runs next applies its own rules.
    """

    def __init__(self, codec: TokenCodec, refresh_store: RefreshTokenStore) -> None:
        self._codec = codec
        self._refresh_store = refresh_store

    def by_access_token(self, raw: str | None) -> str | None:
        if not raw:
            return None
        try:
            return self._codec.decode(raw).session_id
        except TokenError:
            return None

    async def by_refresh_token(self, raw: str | None) -> str | None:
        if not raw:
            return None
        try:
            digest = RefreshToken.parse(raw).digest
        except TokenError:
            return None
        record = await self._refresh_store.find(digest)
        return record.session_id if record is not None else None
