"""Issuing access and refresh tokens, shared by login and refresh."""

from __future__ import annotations

from datetime import datetime

from application.ports import RefreshTokenStore, RevocationStore, TokenCodec
from domain.audit import ClientInfo
from domain.policy import TokenPolicy
from domain.revocation import first_valid_issue_time
from domain.session import RefreshRecord, Session
from domain.tokens import AccessToken, RefreshToken, TokenPair, new_session_id


class TokenIssuer:
    """Builds and signs tokens; opening a session also stores its first refresh token."""

    def __init__(
        self,
        policy: TokenPolicy,
        codec: TokenCodec,
        refresh_store: RefreshTokenStore,
        revocations: RevocationStore,
    ) -> None:
        self._policy = policy
        self._codec = codec
        self._refresh_store = refresh_store
        self._revocations = revocations

    async def open_session(self, user_id: str, client: ClientInfo, now: datetime) -> TokenPair:
        refresh = RefreshToken.generate()
        refresh_expires_at = now + self._policy.lifetimes.refresh
        session = Session(
            id=new_session_id(),
            user_id=user_id,
            created_at=now,
            last_used_at=now,
            expires_at=refresh_expires_at,
            user_agent=client.user_agent,
            ip=client.ip,
        )
        record = RefreshRecord(
            token_hash=refresh.digest,
            session_id=session.id,
            user_id=user_id,
            issued_at=now,
            expires_at=refresh_expires_at,
        )
        await self._refresh_store.open_session(session, record)

        return await self.pair(user_id, session.id, now, refresh, refresh_expires_at)

    async def pair(
        self,
        user_id: str,
        session_id: str,
        now: datetime,
        refresh: RefreshToken | None,
        refresh_expires_at: datetime | None,
    ) -> TokenPair:
        """Sign a new access token for the session and pair it with ``refresh``."""
        watermark = await self._revocations.watermark(user_id, now)
        access = AccessToken.issue(
            subject=user_id,
            session_id=session_id,
            issued_at=first_valid_issue_time(now, watermark),
            lifetime=self._policy.lifetimes.access,
            issuer=self._policy.issuer,
            audience=self._policy.audience,
        )
        return TokenPair(
            access_token=self._codec.encode(access),
            access=access,
            refresh=refresh,
            refresh_expires_at=refresh_expires_at,
        )
