"""``RevocationSet``: merging, liveness, snapshots and pruning, without I/O."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from domain.revocation import Denial, RevocationPlan, RevocationStatus, Watermark
from domain.revocation_set import RevocationSet, from_micros, to_micros
from domain.tokens import AccessToken

NOW = datetime(2026, 3, 1, 8, 30, tzinfo=timezone.utc)
MINUTE = timedelta(minutes=1)


def token(token_id: str = "jti-1", session_id: str = "s-1", subject: str = "7", issued_at: datetime = NOW) -> AccessToken:
    return AccessToken(
        subject=subject,
        session_id=session_id,
        token_id=token_id,
        issued_at=issued_at,
        not_before=issued_at,
        expires_at=issued_at + 15 * MINUTE,
        issuer="keyturn",
        audience="keyturn",
    )


def test_empty_set_revokes_nothing() -> None:
    assert RevocationSet().status(token(), NOW) == RevocationStatus()


def test_denials_live_until_their_expiry() -> None:
    entries = RevocationSet()
    entries.merge(RevocationPlan(tokens=(Denial("jti-1", NOW + MINUTE),), sessions=(Denial("s-1", NOW + MINUTE),)))

    assert entries.status(token(), NOW) == RevocationStatus(token_denied=True, session_denied=True)
    assert entries.status(token(), NOW + MINUTE) == RevocationStatus()


def test_merge_never_shortens_a_denial() -> None:
    entries = RevocationSet()
    entries.merge(RevocationPlan(tokens=(Denial("jti-1", NOW + 10 * MINUTE),)))
    entries.merge(RevocationPlan(tokens=(Denial("jti-1", NOW + MINUTE),)))

    assert entries.status(token(), NOW + 5 * MINUTE).token_denied


def test_watermarks_merge_to_maximum() -> None:
    entries = RevocationSet()
    entries.merge(RevocationPlan(watermark=Watermark("7", NOW, NOW + 10 * MINUTE)))
    entries.merge(RevocationPlan(watermark=Watermark("7", NOW - MINUTE, NOW + 20 * MINUTE)))

    assert entries.watermark("7", NOW + 15 * MINUTE) == NOW
    assert entries.watermark("7", NOW + 20 * MINUTE) is None


def test_prune_drops_only_expired_entries() -> None:
    entries = RevocationSet()
    entries.merge(
        RevocationPlan(
            tokens=(Denial("old", NOW), Denial("jti-1", NOW + MINUTE)),
            sessions=(Denial("old-session", NOW),),
            watermark=Watermark("7", NOW, NOW),
        )
    )

    assert entries.prune(NOW) == 3
    assert len(entries) == 1
    assert entries.status(token(), NOW).token_denied


def test_plans_rebuild_the_live_entries() -> None:
    entries = RevocationSet()
    entries.merge(RevocationPlan(tokens=(Denial("jti-1", NOW + MINUTE), Denial("gone", NOW)), watermark=Watermark("7", NOW, NOW + MINUTE)))

    copy = RevocationSet()
    for plan in entries.plans(NOW):
        copy.merge(plan)

    assert len(copy) == 2
    assert copy.status(token(), NOW) == entries.status(token(), NOW)


@given(st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(timezone.utc)))
def test_micros_round_trip_exactly(moment: datetime) -> None:
    assert from_micros(to_micros(moment)) == moment
