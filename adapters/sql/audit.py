"""Audit events in the ``keyturn_audit_events`` table."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sql.tables import audit_events
from adapters.sql.transactions import read_connection, single_write
from domain.audit import AuditEvent

logger = logging.getLogger(__name__)

# Built once, with the values bound per call, so SQLAlchemy reuses its compiled form.
_INSERT_EVENT = sa.insert(audit_events)


class SqlAuditSink:
    """Appends each event as one row; a failed write is logged and counted, never raised.

    Inside a ``SqlUnitOfWork`` on the same engine the row is written in the
    unit's transaction, so it commits or rolls back with the change it
    records. The insert then runs in a SAVEPOINT, so a failed insert rolls
    back only the row and the change still commits. Outside a unit the row
    is committed on its own, in autocommit mode on PostgreSQL.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self.failures = 0

    async def record(self, event: AuditEvent) -> None:
        row = event.to_dict()
        values = {
            "event": row["event"],
            "occurred_at": event.occurred_at,
            "outcome": row["outcome"],
            "user_id": row["user_id"],
            "session_id": row["session_id"],
            "ip": row["ip"],
            "user_agent": row["user_agent"],
            "request_id": row["request_id"],
            "reason": row["reason"],
        }
        try:
            async with single_write(self._engine) as connection:
                await connection.execute(_INSERT_EVENT, values)
        except Exception:
            self.failures += 1
            logger.exception("writing audit event %s to SQL failed", event.type.value)


async def user_events(engine: AsyncEngine, user_id: str, since: datetime | None = None) -> list[dict[str, object]]:
    """Return the user's events, oldest first, optionally only those at or after ``since``.

    Events without a user, such as ``login_throttled`` and ``signing_key_rotated``,
    are not returned.
    """
    query = sa.select(audit_events).where(audit_events.c.user_id == user_id).order_by(audit_events.c.id)
    if since is not None:
        query = query.where(audit_events.c.occurred_at >= since)
    async with read_connection(engine) as connection:
        rows = (await connection.execute(query)).all()
    return [_as_event_fields(row._mapping) for row in rows]


def _as_event_fields(row: Mapping[str, object]) -> dict[str, object]:
    """Name the fields as ``AuditEvent.to_dict`` and the log sink do, so both outputs read alike."""
    fields = {key: value for key, value in row.items() if key not in ("id", "occurred_at")}
    return {"time": row["occurred_at"], **fields}
