"""What each event revokes, and whether a token is revoked.

Every stored revocation entry carries its own expiry, chosen so that it lives
exactly as long as a token it could reject. After that the token is rejected
by its own ``exp`` anyway, so the revocation state never grows without bound.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.clock import Leeway
from domain.tokens import AccessToken, whole_seconds


@dataclass(frozen=True, slots=True)
class Denial:
    """A revoked ``jti`` or session id, kept until ``until``."""

    key: str
    until: datetime


@dataclass(frozen=True, slots=True)
class Watermark:
    """Access tokens of ``user_id`` with ``iat`` before ``issued_before`` are revoked."""

    user_id: str
    issued_before: datetime
    until: datetime


@dataclass(frozen=True, slots=True)
class RevocationStatus:
    """The entries of the revocation store that concern one token's ``jti``, session and user."""

    token_denied: bool = False
    session_denied: bool = False
    watermark: datetime | None = None


@dataclass(frozen=True, slots=True)
class RevocationPlan:
    """The entries one event adds to the revocation store."""

    tokens: tuple[Denial, ...] = ()
    sessions: tuple[Denial, ...] = ()
    watermark: Watermark | None = None


@dataclass(frozen=True, slots=True)
class RevocationPolicy:
    """Decides what logout, logout-everywhere and password change revoke."""

    access_lifetime: timedelta
    leeway: Leeway

    def for_logout(self, session_id: str, access: AccessToken | None, now: datetime) -> RevocationPlan:
        """Deny the presented access token and every access token of its session.

        A session's access tokens can only have been issued before ``now``,
        so none outlives ``now + access_lifetime + leeway``.
        """
        tokens = ()
        if access is not None:
            tokens = (Denial(access.token_id, access.expires_at + self.leeway.delta),)
        session_until = now + self.access_lifetime + self.leeway.delta
        return RevocationPlan(tokens=tokens, sessions=(Denial(session_id, session_until),))

    def for_user(self, user_id: str, now: datetime, session_ids: tuple[str, ...] = ()) -> RevocationPlan:
        """Revoke every access token the user holds, with one watermark.

        ``iat`` has whole-second precision, so the watermark is the start of
        the next second: every token issued up to ``now`` falls below it.
        Tokens issued afterwards for the same user carry ``iat`` at or after
        the watermark (see ``first_valid_issue_time``). A second event in that
        same second cannot move the watermark past such tokens, so the
        sessions being revoked, passed as ``session_ids``, are denied too.
        """
        issued_before = whole_seconds(now) + timedelta(seconds=1)
        until = issued_before + self.access_lifetime + self.leeway.delta
        session_until = now + self.access_lifetime + self.leeway.delta
        return RevocationPlan(
            sessions=tuple(Denial(session_id, session_until) for session_id in session_ids),
            watermark=Watermark(user_id, issued_before, until),
        )

    def is_revoked(self, token: AccessToken, status: RevocationStatus) -> bool:
        if status.token_denied or status.session_denied:
            return True
        return status.watermark is not None and token.issued_at < status.watermark


def first_valid_issue_time(now: datetime, watermark: datetime | None) -> datetime:
    """Return the ``iat`` for a token issued at ``now`` that a watermark must not revoke.

    When a watermark was raised in the current second, the new token's ``iat``
    moves up to it, at most one second ahead, which the leeway absorbs.
    """
    issued_at = whole_seconds(now)
    if watermark is not None and issued_at < watermark:
        return watermark
    return issued_at
