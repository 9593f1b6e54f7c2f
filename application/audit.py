"""A small helper that stamps audit events with the clock and hands them to the sink."""

from __future__ import annotations

from application.ports import AuditSink
from domain.audit import AuditEvent, AuditEventType, ClientInfo, Outcome
from domain.clock import Clock


class AuditTrail:
    def __init__(self, sink: AuditSink, clock: Clock) -> None:
        self._sink = sink
        self._clock = clock

    async def record(
        self,
        event_type: AuditEventType,
        client: ClientInfo,
        *,
        outcome: Outcome = Outcome.SUCCESS,
        user_id: str | None = None,
        session_id: str | None = None,
        reason: str | None = None,
    ) -> None:
        event = AuditEvent(
            type=event_type,
            occurred_at=self._clock.now(),
            outcome=outcome,
            user_id=user_id,
            session_id=session_id,
            client=client,
            reason=reason,
        )
        await self._sink.record(event)
