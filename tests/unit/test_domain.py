from datetime import datetime, timedelta, timezone

import pytest

from domain.clock import FixedClock, Leeway
from domain.errors import ConfigurationError, TokenInvalid
from domain.keys import KeyRing, SigningKey
from domain.revocation import RevocationPolicy, RevocationStatus, first_valid_issue_time
from domain.tokens import AccessToken, RefreshToken

NOW = datetime(2026, 3, 1, 8, 30, 15, 500_000, tzinfo=timezone.utc)
POLICY = RevocationPolicy(access_lifetime=timedelta(minutes=15), leeway=Leeway(timedelta(seconds=60)))


def token_issued_at(moment: datetime) -> AccessToken:
    return AccessToken.issue(
        subject="7", session_id="s1", issued_at=moment, lifetime=timedelta(minutes=15), issuer="i", audience="a"
    )


@pytest.mark.parametrize("seconds", [-1, 121, 3600])
def test_leeway_outside_range_rejected(seconds):
    with pytest.raises(ConfigurationError, match="KEYTURN_LEEWAY"):
        Leeway(timedelta(seconds=seconds))


def test_leeway_accepts_two_minutes():
    assert Leeway(timedelta(seconds=120)).delta == timedelta(seconds=120)


def test_fixed_clock_requires_timezone():
    with pytest.raises(ValueError):
        FixedClock(datetime(2026, 1, 1))


def test_access_token_times_whole_seconds():
    token = token_issued_at(NOW)

    assert token.issued_at.microsecond == 0
    assert token.expires_at - token.issued_at == timedelta(minutes=15)


def test_access_token_ids_are_unique_and_long():
    ids = {token_issued_at(NOW).token_id for _ in range(1000)}

    assert len(ids) == 1000
    assert all(len(token_id) >= 22 for token_id in ids)


def test_refresh_token_hidden_from_repr():
    token = RefreshToken.generate()

    assert token.value not in repr(token)
    assert token.value not in str(token)


def test_refresh_token_parse_round_trip():
    token = RefreshToken.generate()

    assert RefreshToken.parse(token.value).digest == token.digest
    assert len(token.digest) == 64


@pytest.mark.parametrize("raw", ["", "a" * 42, "a" * 44, "a" * 42 + "=", "a" * 42 + "\n"])
def test_refresh_token_parse_rejects_junk(raw):
    with pytest.raises(TokenInvalid):
        RefreshToken.parse(raw)


def test_logout_plan_lasts_as_long_as_tokens():
    token = token_issued_at(NOW)

    plan = POLICY.for_logout("s1", token, NOW)

    assert plan.tokens[0].key == token.token_id
    assert plan.tokens[0].until == token.expires_at + timedelta(seconds=60)
    assert plan.sessions[0].until == NOW + timedelta(minutes=16)


def test_watermark_revokes_tokens_issued_same_second():
    earlier = token_issued_at(NOW - timedelta(minutes=3))
    same_second = token_issued_at(NOW)

    plan = POLICY.for_user("7", NOW)
    status = RevocationStatus(watermark=plan.watermark.issued_before)

    assert POLICY.is_revoked(earlier, status)
    assert POLICY.is_revoked(same_second, status)


def test_token_issued_after_watermark_survives():
    plan = POLICY.for_user("7", NOW)
    issued_at = first_valid_issue_time(NOW, plan.watermark.issued_before)
    fresh = token_issued_at(issued_at)

    assert not POLICY.is_revoked(fresh, RevocationStatus(watermark=plan.watermark.issued_before))
    assert issued_at - NOW <= timedelta(seconds=1)


def test_watermark_expires_after_last_token_it_covers():
    plan = POLICY.for_user("7", NOW)

    assert plan.watermark.until == plan.watermark.issued_before + timedelta(minutes=16)


def test_key_ring_rejects_duplicate_kid():
    key = SigningKey("k1", "HS256", b"x" * 32)

    with pytest.raises(ConfigurationError):
        KeyRing(active=key, verify_only=(key,))


@pytest.mark.parametrize("kid", [None, 1, "unknown", ["k1"]])
def test_key_ring_unknown_kid(kid):
    ring = KeyRing(active=SigningKey("k1", "HS256", b"x" * 32))

    with pytest.raises(TokenInvalid):
        ring.find(kid)


def test_signing_key_material_hidden_from_repr():
    assert "secret-material" not in repr(SigningKey("k1", "HS256", b"secret-material"))
