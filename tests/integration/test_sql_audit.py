from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from adapters.sql.audit import SqlAuditSink, user_events
from domain.audit import AuditEvent, AuditEventType, ClientInfo, Outcome

START = datetime(2026, 4, 1, 12, 0, tzinfo=timezone.utc)


def event(event_type: AuditEventType, user_id: str, minutes: int) -> AuditEvent:
    return AuditEvent(
        type=event_type,
        occurred_at=START + timedelta(minutes=minutes),
        outcome=Outcome.SUCCESS,
        user_id=user_id,
        session_id="session-1",
        client=ClientInfo(ip="127.0.0.1", user_agent="tests", request_id=f"req-{minutes}"),
    )


async def test_sql_audit_round_trip(sqlite_engine):
    sink = SqlAuditSink(sqlite_engine)
    await sink.record(event(AuditEventType.LOGIN_SUCCEEDED, "7", 0))
    await sink.record(event(AuditEventType.LOGGED_OUT, "7", 5))
    await sink.record(event(AuditEventType.LOGIN_SUCCEEDED, "8", 6))

    rows = await user_events(sqlite_engine, "7")

    assert [row["event"] for row in rows] == ["login_succeeded", "logged_out"]
    assert rows[0]["time"] == START
    assert rows[1]["request_id"] == "req-5"
    assert rows[0]["session_id"] == "session-1"


async def test_sql_audit_since(sqlite_engine):
    sink = SqlAuditSink(sqlite_engine)
    for minutes in (0, 10, 20):
        await sink.record(event(AuditEventType.TOKENS_REFRESHED, "7", minutes))

    rows = await user_events(sqlite_engine, "7", since=START + timedelta(minutes=10))

    assert [row["request_id"] for row in rows] == ["req-10", "req-20"]


async def test_sql_audit_failure_never_raises(sqlite_engine):
    sink = SqlAuditSink(sqlite_engine)
    async with sqlite_engine.begin() as connection:
        await connection.execute(sa.text("DROP TABLE keyturn_audit_events"))

    await sink.record(event(AuditEventType.LOGIN_SUCCEEDED, "7", 0))

    assert sink.failures == 1
