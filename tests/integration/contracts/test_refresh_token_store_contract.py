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


async def open_session_at(
    store: RefreshTokenStore, session_id: str, user_id: str, created_at: datetime, expires_at: datetime | None = None
) -> Session:
    """Open a session with one refresh token named after the session."""
    expires_at = expires_at or created_at + LIFETIME
    session = Session(session_id, user_id, created_at, created_at, expires_at, user_agent="curl/8.5.0", ip="192.0.2.7")
    record = RefreshRecord(digest(f"token-of-{session_id}"), session_id, user_id, created_at, expires_at)
    await store.open_session(session, record)
    return session


async def test_list_sessions_newest_first(refresh_store: RefreshTokenStore) -> None:
    # Opened out of order, so the order cannot come from insertion.
    middle = await open_session_at(refresh_store, "middle", "42", START + timedelta(minutes=1))
    oldest = await open_session_at(refresh_store, "oldest", "42", START)
    newest = await open_session_at(refresh_store, "newest", "42", START + timedelta(minutes=2))

    listed = await refresh_store.list_sessions("42", START + timedelta(minutes=3))

    assert listed == [newest, middle, oldest]


async def test_list_sessions_per_user(refresh_store: RefreshTokenStore) -> None:
    await open_session_at(refresh_store, "mine", "42", START)
    await open_session_at(refresh_store, "theirs", "43", START)

    listed = await refresh_store.list_sessions("42", START)

    assert [session.id for session in listed] == ["mine"]
    assert await refresh_store.list_sessions("44", START) == []


async def test_list_sessions_only_live(refresh_store: RefreshTokenStore) -> None:
    await open_session_at(refresh_store, "live", "42", START)
    await open_session_at(refresh_store, "revoked", "42", START)
    await open_session_at(refresh_store, "expired", "42", START, expires_at=START + timedelta(hours=1))
    await refresh_store.revoke_session("revoked", START + timedelta(minutes=1))

    listed = await refresh_store.list_sessions("42", START + timedelta(hours=1))

    assert [session.id for session in listed] == ["live"]


async def test_list_sessions_after_rotation(refresh_store: RefreshTokenStore) -> None:
    await open_session_at(refresh_store, "s", "42", START)
    now = START + timedelta(hours=1)
    await refresh_store.rotate(digest("token-of-s"), digest("next"), now, now + LIFETIME)

    listed = await refresh_store.list_sessions("42", now)

    assert len(listed) == 1
    assert listed[0].last_used_at == now
    assert listed[0].expires_at == now + LIFETIME


async def test_revoke_user_sessions_returns_ids(refresh_store: RefreshTokenStore) -> None:
    await open_session_at(refresh_store, "first", "42", START)
    await open_session_at(refresh_store, "second", "42", START + timedelta(minutes=1))
    await open_session_at(refresh_store, "earlier", "42", START)
    await refresh_store.revoke_session("earlier", START + timedelta(minutes=2))

    revoked = await refresh_store.revoke_user_sessions("42", START + timedelta(minutes=3))

    assert sorted(revoked) == ["first", "second"]
    assert await refresh_store.list_sessions("42", START + timedelta(minutes=3)) == []


async def test_revoke_user_sessions_marks_sessions(refresh_store: RefreshTokenStore) -> None:
    await open_session_at(refresh_store, "first", "42", START)
    revoked_at = START + timedelta(minutes=3)

    await refresh_store.revoke_user_sessions("42", revoked_at)

    session = await refresh_store.get_session("first")
    assert session is not None
    assert session.revoked_at == revoked_at


async def test_revoke_user_sessions_blocks_rotation(refresh_store: RefreshTokenStore) -> None:
    await open_session_at(refresh_store, "first", "42", START)
    await open_session_at(refresh_store, "second", "42", START)
    rotated_at = START + timedelta(minutes=1)
    await refresh_store.rotate(digest("token-of-second"), digest("successor"), rotated_at, rotated_at + LIFETIME)
    await refresh_store.revoke_user_sessions("42", START + timedelta(minutes=2))

    now = START + timedelta(minutes=3)
    for token in ("token-of-first", "successor"):
        result = await refresh_store.rotate(digest(token), digest(f"after-{token}"), now, now + LIFETIME)
        assert result.outcome is RotationOutcome.NOT_USABLE
        assert result.record is not None
        assert result.record.state is RefreshState.REVOKED
        assert await refresh_store.find(digest(f"after-{token}")) is None


async def test_revoke_user_sessions_other_users(refresh_store: RefreshTokenStore) -> None:
    await open_session_at(refresh_store, "mine", "42", START)
    theirs = await open_session_at(refresh_store, "theirs", "43", START)

    await refresh_store.revoke_user_sessions("42", START + timedelta(minutes=1))

    assert await refresh_store.get_session("theirs") == theirs
    assert await refresh_store.list_sessions("43", START + timedelta(minutes=1)) == [theirs]
    now = START + timedelta(minutes=2)
    result = await refresh_store.rotate(digest("token-of-theirs"), digest("next"), now, now + LIFETIME)
    assert result.outcome is RotationOutcome.ROTATED


async def test_revoke_user_sessions_without_sessions(refresh_store: RefreshTokenStore) -> None:
    assert await refresh_store.revoke_user_sessions("42", START) == []
