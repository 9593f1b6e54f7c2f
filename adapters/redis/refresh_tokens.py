"""Sessions and refresh tokens as Redis hashes, changed only by Lua scripts."""

from __future__ import annotations

from datetime import datetime

from redis.asyncio import Redis

from adapters.outage import OutageLog
from adapters.redis import refresh_scripts
from adapters.redis.errors import redis_outage_log, translate_unavailable
from adapters.redis.times import from_micros, to_micros
from domain.clock import Clock, SystemClock
from domain.session import RefreshRecord, RefreshState, RotationOutcome, RotationResult, Session


class RedisRefreshTokenStore:
    """``RefreshTokenStore`` on Redis, with the key layout described in ``refresh_scripts``.

    Every change runs as one Lua script, so ``rotate`` checks and claims a
    token atomically and concurrent calls cannot both rotate it. Times are
    stored as microseconds since the epoch and the scripts compare them with
    the ``now`` the caller passes, never with the Redis server's clock.
    ``clock`` only supplies ``now`` for the TTLs that ``open_session`` sets.
    """

    def __init__(
        self, client: Redis, prefix: str = "keyturn:", clock: Clock | None = None, outage: OutageLog | None = None
    ) -> None:
        self._client = client
        self._prefix = prefix
        self._clock = clock or SystemClock()
        self._outage = outage or redis_outage_log()
        self._open_session = client.register_script(refresh_scripts.OPEN_SESSION)
        self._rotate = client.register_script(refresh_scripts.ROTATE)
        self._revoke_session = client.register_script(refresh_scripts.REVOKE_SESSION)
        self._revoke_user_sessions = client.register_script(refresh_scripts.REVOKE_USER_SESSIONS)
        self._list_sessions = client.register_script(refresh_scripts.LIST_SESSIONS)

    async def open_session(self, session: Session, record: RefreshRecord) -> None:
        """Store the session and its first token, replacing any stored under the same id or digest."""
        session_fields = _session_fields(session)
        args = [
            *self._script_context(self._clock.now()),
            session.id,
            session.user_id,
            to_micros(session.created_at),
            to_micros(session.expires_at),
            record.token_hash,
            to_micros(record.expires_at),
            len(session_fields),
            *session_fields,
            *_record_fields(record),
        ]
        async with translate_unavailable(self._outage):
            await self._open_session(args=args)

    async def rotate(self, token_hash: str, new_hash: str, now: datetime, expires_at: datetime) -> RotationResult:
        """Mark an active token of a live session rotated and store its successor, in one script.

        The result carries the presented token's record as it was before
        this call.
        """
        args = [*self._script_context(now), token_hash, new_hash, to_micros(expires_at)]
        async with translate_unavailable(self._outage):
            reply = await self._rotate(args=args)
        outcome = RotationOutcome(reply[0])
        record = _to_record(token_hash, _pairs(reply[1])) if len(reply) > 1 else None
        return RotationResult(outcome, record)

    async def find(self, token_hash: str) -> RefreshRecord | None:
        async with translate_unavailable(self._outage):
            fields = await self._client.hgetall(self._key("refresh", token_hash))
        return _to_record(token_hash, fields) if fields else None

    async def get_session(self, session_id: str) -> Session | None:
        async with translate_unavailable(self._outage):
            fields = await self._client.hgetall(self._key("session", session_id))
        return _to_session(session_id, fields) if fields else None

    async def revoke_session(self, session_id: str, now: datetime) -> None:
        async with translate_unavailable(self._outage):
            await self._revoke_session(args=[*self._script_context(now), session_id])

    async def list_sessions(self, user_id: str, now: datetime) -> list[Session]:
        async with translate_unavailable(self._outage):
            replies = await self._list_sessions(args=[*self._script_context(now), user_id])
        sessions = [_to_session_from_reply(reply) for reply in replies if reply]
        return [session for session in sessions if session.is_live(now)]

    async def revoke_user_sessions(self, user_id: str, now: datetime) -> list[str]:
        """Revoke every unrevoked session of the user still stored, expired ones included, in one script."""
        async with translate_unavailable(self._outage):
            return list(await self._revoke_user_sessions(args=[*self._script_context(now), user_id]))

    def _script_context(self, now: datetime) -> tuple[str, int]:
        return self._prefix, to_micros(now)

    def _key(self, kind: str, identifier: str) -> str:
        return f"{self._prefix}{kind}:{identifier}"


def _pairs(flat: list[str]) -> dict[str, str]:
    """Turn a flat HGETALL reply from a script into a dict."""
    return dict(zip(flat[::2], flat[1::2]))


def _session_fields(session: Session) -> list[str | int]:
    """Flatten the session into HSET arguments, leaving out fields that are None."""
    fields: list[str | int] = [
        "id",
        session.id,
        "user_id",
        session.user_id,
        "created_at",
        to_micros(session.created_at),
        "last_used_at",
        to_micros(session.last_used_at),
        "expires_at",
        to_micros(session.expires_at),
    ]
    for name, value in (("user_agent", session.user_agent), ("ip", session.ip)):
        if value is not None:
            fields += [name, value]
    if session.revoked_at is not None:
        fields += ["revoked_at", to_micros(session.revoked_at)]
    return fields


def _record_fields(record: RefreshRecord) -> list[str | int]:
    """Flatten the record into HSET arguments, without the digest, because the digest is part of the key."""
    fields: list[str | int] = [
        "session_id",
        record.session_id,
        "user_id",
        record.user_id,
        "issued_at",
        to_micros(record.issued_at),
        "expires_at",
        to_micros(record.expires_at),
        "state",
        record.state.value,
    ]
    if record.rotated_at is not None:
        fields += ["rotated_at", to_micros(record.rotated_at)]
    return fields


def _to_session_from_reply(flat: list[str]) -> Session:
    fields = _pairs(flat)
    return _to_session(fields["id"], fields)


def _to_session(session_id: str, fields: dict[str, str]) -> Session:
    revoked_at = fields.get("revoked_at")
    return Session(
        id=session_id,
        user_id=fields["user_id"],
        created_at=from_micros(fields["created_at"]),
        last_used_at=from_micros(fields["last_used_at"]),
        expires_at=from_micros(fields["expires_at"]),
        user_agent=fields.get("user_agent"),
        ip=fields.get("ip"),
        revoked_at=None if revoked_at is None else from_micros(revoked_at),
    )


def _to_record(token_hash: str, fields: dict[str, str]) -> RefreshRecord:
    rotated_at = fields.get("rotated_at")
    return RefreshRecord(
        token_hash=token_hash,
        session_id=fields["session_id"],
        user_id=fields["user_id"],
        issued_at=from_micros(fields["issued_at"]),
        expires_at=from_micros(fields["expires_at"]),
        state=RefreshState(fields["state"]),
        rotated_at=None if rotated_at is None else from_micros(rotated_at),
    )
