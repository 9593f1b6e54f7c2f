from __future__ import annotations

from datetime import datetime

from domain.revocation import RevocationPlan, RevocationStatus
from domain.tokens import AccessToken


class InMemoryRevocationStore:
    def __init__(self) -> None:
        self.denied_tokens: dict[str, datetime] = {}
        self.denied_sessions: dict[str, datetime] = {}
        self.watermarks: dict[str, tuple[datetime, datetime]] = {}

    async def apply(self, plan: RevocationPlan) -> None:
        for denial in plan.tokens:
            self.denied_tokens[denial.key] = max(denial.until, self.denied_tokens.get(denial.key, denial.until))
        for denial in plan.sessions:
            self.denied_sessions[denial.key] = max(denial.until, self.denied_sessions.get(denial.key, denial.until))
        if plan.watermark is not None:
            mark = plan.watermark
            current = self.watermarks.get(mark.user_id)
            if current is None or current[0] < mark.issued_before:
                self.watermarks[mark.user_id] = (mark.issued_before, mark.until)

    async def status(self, token: AccessToken, now: datetime) -> RevocationStatus:
        return RevocationStatus(
            token_denied=self._live(self.denied_tokens, token.token_id, now),
            session_denied=self._live(self.denied_sessions, token.session_id, now),
            watermark=await self.watermark(token.subject, now),
        )

    async def watermark(self, user_id: str, now: datetime) -> datetime | None:
        entry = self.watermarks.get(user_id)
        if entry is None or entry[1] <= now:
            return None
        return entry[0]

    @staticmethod
    def _live(entries: dict[str, datetime], key: str, now: datetime) -> bool:
        until = entries.get(key)
        return until is not None and now < until
