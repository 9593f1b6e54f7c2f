"""An audit sink that hands every event to several sinks."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from application.ports import AuditSink
from domain.audit import AuditEvent

logger = logging.getLogger(__name__)


class FanOutAuditSink:
    """Records each event in every sink; one failing sink neither stops the others nor the request."""

    def __init__(self, sinks: Sequence[AuditSink]) -> None:
        self._sinks = tuple(sinks)
        self.failures = 0

    async def record(self, event: AuditEvent) -> None:
        for sink in self._sinks:
            try:
                await sink.record(event)
            except Exception:
                self.failures += 1
                logger.exception("audit sink %s failed on event %s", type(sink).__name__, event.type.value)
