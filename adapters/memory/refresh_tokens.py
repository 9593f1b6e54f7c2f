from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from domain.session import RefreshRecord, RefreshState, RotationOutcome, RotationResult, Session


class InMemoryRefreshTokenStore:
    """Dict-backed store; each method runs without an ``await`` inside, so it is atomic under asyncio."""

    def __init__(self) -> None:
        self.sessions: dict[str, Session] = {}
        self.records: dict[str, RefreshRecord] = {}

    async def open_session(self, session: Session, record: RefreshRecord) -> None:
        self.sessions[session.id] = session
        self.records[record.token_hash] = record

    async def rotate(self, token_hash: str, new_hash: str, now: datetime, expires_at: datetime) -> RotationResult:
        record = self.records.get(token_hash)
        if record is None:
            return RotationResult(RotationOutcome.NOT_USABLE, None)
        if record.state is RefreshState.ROTATED:
            return RotationResult(RotationOutcome.ALREADY_ROTATED, record)
        session = self.sessions.get(record.session_id)
        if not record.is_usable(now) or session is None or not session.is_live(now):
            return RotationResult(RotationOutcome.NOT_USABLE, record)

        self.records[token_hash] = replace(record, state=RefreshState.ROTATED, rotated_at=now)
        self.records[new_hash] = RefreshRecord(
            token_hash=new_hash,
            session_id=record.session_id,
            user_id=record.user_id,
            issued_at=now,
            expires_at=expires_at,
        )
        self.sessions[session.id] = session.touched(now, expires_at)
        return RotationResult(RotationOutcome.ROTATED, record)

    async def find(self, token_hash: str) -> RefreshRecord | None:
        return self.records.get(token_hash)

    async def get_session(self, session_id: str) -> Session | None:
        return self.sessions.get(session_id)

    async def revoke_session(self, session_id: str, now: datetime) -> None:
        session = self.sessions.get(session_id)
        if session is None:
            return
        if session.revoked_at is None:
            self.sessions[session_id] = replace(session, revoked_at=now)
        for token_hash, record in self.records.items():
            if record.session_id == session_id and record.state is RefreshState.ACTIVE:
                self.records[token_hash] = replace(record, state=RefreshState.REVOKED)

    async def list_sessions(self, user_id: str, now: datetime) -> list[Session]:
        live = [session for session in self.sessions.values() if session.user_id == user_id and session.is_live(now)]
        return sorted(live, key=lambda session: session.created_at, reverse=True)

    async def revoke_user_sessions(self, user_id: str, now: datetime) -> list[str]:
        revoked = [
            session.id for session in self.sessions.values() if session.user_id == user_id and session.revoked_at is None
        ]
        for session_id in revoked:
            await self.revoke_session(session_id, now)
        return revoked
