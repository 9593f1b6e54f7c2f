import json
import logging
from datetime import datetime, timezone

import pytest

from adapters.audit_fanout import FanOutAuditSink
from adapters.audit_log import AUDIT_LOGGER, LoggingAuditSink
from adapters.memory import InMemoryAuditSink
from domain.audit import AuditEvent, AuditEventType, ClientInfo, Outcome

EVENT = AuditEvent(
    type=AuditEventType.LOGIN_FAILED,
    occurred_at=datetime(2026, 2, 3, 4, 5, 6, tzinfo=timezone.utc),
    outcome=Outcome.FAILURE,
    user_id="42",
    session_id=None,
    client=ClientInfo(ip="192.0.2.1", user_agent="tests", request_id="req-1"),
    reason="wrong_password",
)
SCHEMA = {"event", "time", "outcome", "user_id", "session_id", "ip", "user_agent", "request_id", "reason"}


class BrokenSink:
    async def record(self, event: AuditEvent) -> None:
        raise RuntimeError("disk full")


async def test_log_sink_writes_json_line(caplog):
    caplog.set_level(logging.INFO, logger=AUDIT_LOGGER)

    await LoggingAuditSink().record(EVENT)

    line = json.loads(caplog.records[-1].getMessage())
    assert set(line) == SCHEMA
    assert line["event"] == "login_failed"
    assert line["time"] == "2026-02-03T04:05:06+00:00"
    assert line["request_id"] == "req-1"


async def test_fan_out_survives_failing_sink(caplog):
    first, last = InMemoryAuditSink(), InMemoryAuditSink()
    sink = FanOutAuditSink([first, BrokenSink(), last])

    await sink.record(EVENT)

    assert first.events == [EVENT]
    assert last.events == [EVENT]
    assert sink.failures == 1
    assert "BrokenSink" in caplog.text


@pytest.mark.parametrize("event_type", list(AuditEventType))
def test_every_event_type_has_schema(event_type):
    event = AuditEvent(type=event_type, occurred_at=EVENT.occurred_at, outcome=Outcome.SUCCESS)

    assert set(event.to_dict()) == SCHEMA
