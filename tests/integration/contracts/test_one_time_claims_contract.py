"""Contract of ``OneTimeClaims``, run against every adapter."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

from application.ports import OneTimeClaims

# Near the real time, because SQL stores purge rows that expired by the system clock.
NOW = datetime.now(timezone.utc).replace(microsecond=0)
MINUTE = timedelta(minutes=1)
KEY = "a" * 64


async def test_first_claim_wins(one_time_claims: OneTimeClaims) -> None:
    assert await one_time_claims.claim(KEY, NOW + 10 * MINUTE, NOW) is True


async def test_second_claim_of_live_key_loses(one_time_claims: OneTimeClaims) -> None:
    await one_time_claims.claim(KEY, NOW + 10 * MINUTE, NOW)

    assert await one_time_claims.claim(KEY, NOW + 10 * MINUTE, NOW + MINUTE) is False
    assert await one_time_claims.claim(KEY, NOW + 20 * MINUTE, NOW + 9 * MINUTE) is False


async def test_other_keys_are_independent(one_time_claims: OneTimeClaims) -> None:
    await one_time_claims.claim(KEY, NOW + 10 * MINUTE, NOW)

    assert await one_time_claims.claim("b" * 64, NOW + 10 * MINUTE, NOW) is True


async def test_expired_claim_counts_as_absent(one_time_claims: OneTimeClaims) -> None:
    await one_time_claims.claim(KEY, NOW + MINUTE, NOW)

    assert await one_time_claims.claim(KEY, NOW + 10 * MINUTE, NOW + MINUTE) is True
    assert await one_time_claims.claim(KEY, NOW + 10 * MINUTE, NOW + 2 * MINUTE) is False


async def test_concurrent_claims_have_one_winner(one_time_claims: OneTimeClaims) -> None:
    results = await asyncio.gather(*(one_time_claims.claim(KEY, NOW + 10 * MINUTE, NOW) for _ in range(8)))

    assert sorted(results) == [False] * 7 + [True]
