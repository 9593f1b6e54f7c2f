"""Audit sink that writes one JSON line per event to a dedicated logger."""

from __future__ import annotations

import json
import logging

from domain.audit import AuditEvent

AUDIT_LOGGER = "keyturn.audit"
logger = logging.getLogger(__name__)


class LoggingAuditSink:
    """Writes events to the ``keyturn.audit`` logger; a failure is logged and never raised."""

    def __init__(self, logger_name: str = AUDIT_LOGGER) -> None:
        self._audit_logger = logging.getLogger(logger_name)
        self.failures = 0

    async def record(self, event: AuditEvent) -> None:
        try:
            self._audit_logger.info(json.dumps(event.to_dict(), ensure_ascii=False))
        except Exception:
            self.failures += 1
            logger.exception("audit sink failed to write event %s", event.type.value)
