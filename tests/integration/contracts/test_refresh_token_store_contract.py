"""Contract of ``RefreshTokenStore``, run against every adapter."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import datetime, timedelta, timezone

from application.ports import RefreshTokenStore
from domain.session import RefreshRecord, RefreshState, RotationOutcome, Session

# Near the real time, because SQL stores purge rows that expired by the system clock.
START = datetime.now(timezone.utc).replace(microsecond=123456)
LIFETIME = timedelta(days=14)


def digest(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()


async def open_session(
    store: RefreshTokenStore, session_id: str = "session-1", token: str = "token-1", user_id: str = "42"
) -> tuple[Session, RefreshRecord]:
    session = Session(
        id=session_id,
        user_id=user_id,
        created_at=START,
        last_used_at=START,
        expires_at=START + LIFETIME,
        user_agent="Firefox/128.0",
        ip="2001:db8::1",
    )
    record = RefreshRecord(
        token_hash=digest(token), session_id=session_id, user_id=user_id, issued_at=START, expires_at=START + LIFETIME
    )
    await store.open_session(session, record)
    return session, record


async def test_open_session_stores_session_and_token(refresh_store: RefreshTokenStore) -> None:
    session, record = await open_session(refresh_store)

    assert await refresh_store.get_session(session.id) == session
    assert await refresh_store.find(record.token_hash) == record


async def test_datetimes_read_back_in_utc(refresh_store: RefreshTokenStore) -> None:
    paris = timezone(timedelta(hours=1))
    session = Session("s", "7", START.astimezone(paris), START, START.astimezone(paris) + LIFETIME)
    record = RefreshRecord(digest("t"), "s", "7", START.astimezone(paris), START + LIFETIME)
    await refresh_store.open_session(session, record)

    stored = await refresh_store.get_session("s")
    assert stored is not None
    assert stored.created_at == START
    assert stored.expires_at == START + LIFETIME
    assert stored.created_at.utcoffset() is not None


async def test_unknown_ids_are_not_found(refresh_store: RefreshTokenStore) -> None:
    assert await refresh_store.find(digest("nothing")) is None
    assert await refresh_store.get_session("nothing") is None


async def test_rotate_replaces_the_token_and_extends_the_session(refresh_store: RefreshTokenStore) -> None:
    session, record = await open_session(refresh_store)
    now = START + timedelta(hours=1)
    new_expiry = now + LIFETIME

    result = await refresh_store.rotate(record.token_hash, digest("token-2"), now, new_expiry)

    assert result.outcome is RotationOutcome.ROTATED
    assert result.record is not None
    assert (result.record.token_hash, result.record.session_id, result.record.user_id) == (
        record.token_hash,
        session.id,
        "42",
    )
    old = await refresh_store.find(record.token_hash)
    assert old is not None
    assert old.state is RefreshState.ROTATED
    assert old.rotated_at == now
    new = await refresh_store.find(digest("token-2"))
    assert new == RefreshRecord(digest("token-2"), session.id, "42", issued_at=now, expires_at=new_expiry)
    touched = await refresh_store.get_session(session.id)
    assert touched is not None
    assert (touched.last_used_at, touched.expires_at) == (now, new_expiry)


async def test_rotating_a_rotated_token_reports_already_rotated(refresh_store: RefreshTokenStore) -> None:
    _, record = await open_session(refresh_store)
    first = START + timedelta(minutes=5)
    await refresh_store.rotate(record.token_hash, digest("token-2"), first, first + LIFETIME)

    later = first + timedelta(seconds=3)
    result = await refresh_store.rotate(record.token_hash, digest("token-3"), later, later + LIFETIME)

    assert result.outcome is RotationOutcome.ALREADY_ROTATED
    assert result.record is not None
    assert result.record.rotated_at == first
    assert await refresh_store.find(digest("token-3")) is None


async def test_expired_token_is_not_usable(refresh_store: RefreshTokenStore) -> None:
    _, record = await open_session(refresh_store)
    now = record.expires_at

    result = await refresh_store.rotate(record.token_hash, digest("token-2"), now, now + LIFETIME)

    assert result.outcome is RotationOutcome.NOT_USABLE
    assert result.record == record
    assert await refresh_store.find(digest("token-2")) is None


async def test_unknown_token_is_not_usable(refresh_store: RefreshTokenStore) -> None:
    result = await refresh_store.rotate(digest("nothing"), digest("token-2"), START, START + LIFETIME)

    assert result.outcome is RotationOutcome.NOT_USABLE
    assert result.record is None


async def test_token_of_revoked_session_is_not_usable(refresh_store: RefreshTokenStore) -> None:
    session, record = await open_session(refresh_store)
    await refresh_store.revoke_session(session.id, START + timedelta(minutes=1))

    now = START + timedelta(minutes=2)
    result = await refresh_store.rotate(record.token_hash, digest("token-2"), now, now + LIFETIME)

    assert result.outcome is RotationOutcome.NOT_USABLE
    assert result.record is not None
    assert result.record.state is RefreshState.REVOKED


async def test_token_of_expired_session_is_not_usable(refresh_store: RefreshTokenStore) -> None:
    session = Session("s", "42", START, START, START + timedelta(hours=1))
    record = RefreshRecord(digest("t"), "s", "42", START, START + LIFETIME)
    await refresh_store.open_session(session, record)

    now = START + timedelta(hours=2)
    result = await refresh_store.rotate(record.token_hash, digest("t2"), now, now + LIFETIME)

    assert result.outcome is RotationOutcome.NOT_USABLE


async def test_revoke_session_revokes_active_tokens(refresh_store: RefreshTokenStore) -> None:
    session, record = await open_session(refresh_store)
    rotated_at = START + timedelta(minutes=1)
    await refresh_store.rotate(record.token_hash, digest("token-2"), rotated_at, rotated_at + LIFETIME)

    revoked_at = START + timedelta(minutes=2)
    await refresh_store.revoke_session(session.id, revoked_at)
    await refresh_store.revoke_session(session.id, revoked_at + timedelta(minutes=1))

    stored = await refresh_store.get_session(session.id)
    assert stored is not None
    assert stored.revoked_at == revoked_at
    assert not stored.is_live(revoked_at)
    successor = await refresh_store.find(digest("token-2"))
    assert successor is not None
    assert successor.state is RefreshState.REVOKED
    rotated = await refresh_store.find(record.token_hash)
    assert rotated is not None
    assert rotated.state is RefreshState.ROTATED


async def test_revoke_session_leaves_other_sessions_alone(refresh_store: RefreshTokenStore) -> None:
    await open_session(refresh_store, "session-1", "token-1")
    await open_session(refresh_store, "session-2", "token-2")

    await refresh_store.revoke_session("session-1", START)

    other = await refresh_store.find(digest("token-2"))
    assert other is not None
    assert other.state is RefreshState.ACTIVE
    session = await refresh_store.get_session("session-2")
    assert session is not None
    assert session.revoked_at is None


async def test_revoke_unknown_session_is_ignored(refresh_store: RefreshTokenStore) -> None:
    await refresh_store.revoke_session("nothing", START)


async def test_concurrent_rotations_of_one_token_rotate_it_once(refresh_store: RefreshTokenStore) -> None:
    _, record = await open_session(refresh_store)
    now = START + timedelta(minutes=1)

    results = await asyncio.gather(
        *(refresh_store.rotate(record.token_hash, digest(f"successor-{n}"), now, now + LIFETIME) for n in range(20))
    )

    outcomes = [result.outcome for result in results]
    assert outcomes.count(RotationOutcome.ROTATED) == 1
    assert outcomes.count(RotationOutcome.ALREADY_ROTATED) == 19
    successors = [await refresh_store.find(digest(f"successor-{n}")) for n in range(20)]
    assert sum(successor is not None for successor in successors) == 1
