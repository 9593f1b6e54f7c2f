"""Contract of ``RevocationStore``, run against every adapter."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from application.ports import RevocationStore
from domain.revocation import Denial, RevocationPlan, RevocationStatus, Watermark
from domain.tokens import AccessToken

# Near the real time, because SQL stores purge rows that expired by the system clock.
NOW = datetime.now(timezone.utc).replace(microsecond=0)
MINUTE = timedelta(minutes=1)


def access_token(token_id: str = "jti-1", session_id: str = "session-1", subject: str = "42") -> AccessToken:
    return AccessToken(
        subject=subject,
        session_id=session_id,
        token_id=token_id,
        issued_at=NOW,
        not_before=NOW,
        expires_at=NOW + 15 * MINUTE,
        issuer="keyturn",
        audience="keyturn",
    )


async def test_nothing_stored_means_not_revoked(revocations: RevocationStore) -> None:
    assert await revocations.status(access_token(), NOW) == RevocationStatus()
    assert await revocations.watermark("42", NOW) is None


async def test_denied_token_lasts_until_its_expiry(revocations: RevocationStore) -> None:
    await revocations.apply(RevocationPlan(tokens=(Denial("jti-1", NOW + 10 * MINUTE),)))

    assert (await revocations.status(access_token(), NOW + 9 * MINUTE)).token_denied
    assert not (await revocations.status(access_token(), NOW + 10 * MINUTE)).token_denied
    assert not (await revocations.status(access_token(token_id="jti-2"), NOW)).token_denied


async def test_denied_session_lasts_until_its_expiry(revocations: RevocationStore) -> None:
    await revocations.apply(RevocationPlan(sessions=(Denial("session-1", NOW + 10 * MINUTE),)))

    status = await revocations.status(access_token(), NOW)
    assert status.session_denied
    assert not status.token_denied
    assert not (await revocations.status(access_token(), NOW + 10 * MINUTE)).session_denied
    assert not (await revocations.status(access_token(session_id="session-2"), NOW)).session_denied


async def test_denial_keeps_later_expiry(revocations: RevocationStore) -> None:
    await revocations.apply(
        RevocationPlan(tokens=(Denial("jti-1", NOW + 10 * MINUTE),), sessions=(Denial("session-1", NOW + 10 * MINUTE),))
    )
    await revocations.apply(
        RevocationPlan(tokens=(Denial("jti-1", NOW + 5 * MINUTE),), sessions=(Denial("session-1", NOW + 5 * MINUTE),))
    )

    status = await revocations.status(access_token(), NOW + 7 * MINUTE)
    assert status.token_denied
    assert status.session_denied

    await revocations.apply(RevocationPlan(tokens=(Denial("jti-1", NOW + 20 * MINUTE),)))
    assert (await revocations.status(access_token(), NOW + 15 * MINUTE)).token_denied


async def test_watermark_keeps_the_highest_value(revocations: RevocationStore) -> None:
    middle = Watermark("42", NOW, NOW + 20 * MINUTE)
    lower = Watermark("42", NOW - MINUTE, NOW + 19 * MINUTE)
    higher = Watermark("42", NOW + MINUTE, NOW + 21 * MINUTE)

    await revocations.apply(RevocationPlan(watermark=middle))
    await revocations.apply(RevocationPlan(watermark=lower))
    assert await revocations.watermark("42", NOW) == NOW

    await revocations.apply(RevocationPlan(watermark=higher))
    assert await revocations.watermark("42", NOW) == NOW + MINUTE
    assert await revocations.watermark("43", NOW) is None


async def test_watermark_expires(revocations: RevocationStore) -> None:
    await revocations.apply(RevocationPlan(watermark=Watermark("42", NOW, NOW + 20 * MINUTE)))

    assert await revocations.watermark("42", NOW + 19 * MINUTE) == NOW
    assert await revocations.watermark("42", NOW + 20 * MINUTE) is None
    assert (await revocations.status(access_token(), NOW + 20 * MINUTE)).watermark is None


async def test_status_combines_token_session_and_watermark(revocations: RevocationStore) -> None:
    await revocations.apply(
        RevocationPlan(
            tokens=(Denial("jti-1", NOW + 10 * MINUTE),),
            sessions=(Denial("session-1", NOW + 10 * MINUTE),),
            watermark=Watermark("42", NOW + MINUTE, NOW + 20 * MINUTE),
        )
    )

    status = await revocations.status(access_token(), NOW)
    assert status == RevocationStatus(token_denied=True, session_denied=True, watermark=NOW + MINUTE)
    assert status.watermark is not None
    assert status.watermark.utcoffset() == timedelta(0)

    other_user = await revocations.status(access_token("jti-9", "session-9", subject="43"), NOW)
    assert other_user == RevocationStatus()
