from datetime import datetime, timedelta, timezone

import pytest

from adapters.jwt_codec import JwtCodec
from adapters.keys import key_ring_from_secrets
from adapters.token_cache import CachingTokenCodec
from domain.errors import TokenInvalid
from domain.policy import TokenPolicy
from domain.tokens import AccessToken

POLICY = TokenPolicy()
NOW = datetime(2026, 6, 1, tzinfo=timezone.utc)


class SwitchableRing:
    def __init__(self, secret: str) -> None:
        self.ring = key_ring_from_secrets(secret)

    def current(self):
        return self.ring


class CountingCodec:
    def __init__(self, inner: JwtCodec) -> None:
        self.inner = inner
        self.decodes = 0

    def encode(self, token: AccessToken) -> str:
        return self.inner.encode(token)

    def decode(self, raw: str) -> AccessToken:
        self.decodes += 1
        return self.inner.decode(raw)


def make_token(subject: str = "1") -> AccessToken:
    return AccessToken.issue(
        subject=subject, session_id="session", issued_at=NOW, lifetime=timedelta(minutes=15),
        issuer=POLICY.issuer, audience=POLICY.audience,
    )


@pytest.fixture
def keys() -> SwitchableRing:
    return SwitchableRing("cache-test-secret-0123456789abcdef01234")


@pytest.fixture
def counting(keys) -> CountingCodec:
    return CountingCodec(JwtCodec(keys, POLICY))


def test_second_decode_is_cached(keys, counting):
    codec = CachingTokenCodec(counting, keys)
    raw = codec.encode(make_token())

    first = codec.decode(raw)
    second = codec.decode(raw)

    assert first == second
    assert counting.decodes == 1


def test_failures_not_cached(keys, counting):
    codec = CachingTokenCodec(counting, keys)

    for _ in range(2):
        with pytest.raises(TokenInvalid):
            codec.decode("not-a-token")

    assert counting.decodes == 2
    assert len(codec) == 0


def test_bounded_evicts_least_recent(keys, counting):
    codec = CachingTokenCodec(counting, keys, max_entries=2)
    first, second, third = (codec.encode(make_token(str(index))) for index in range(3))
    codec.decode(first)
    codec.decode(second)
    codec.decode(first)

    codec.decode(third)
    codec.decode(first)
    codec.decode(second)

    assert len(codec) == 2
    assert counting.decodes == 4


def test_key_ring_change_clears_cache(keys, counting):
    codec = CachingTokenCodec(counting, keys)
    raw = codec.encode(make_token())
    codec.decode(raw)

    keys.ring = key_ring_from_secrets("a-completely-different-secret-0123456789")

    with pytest.raises(TokenInvalid):
        codec.decode(raw)
    assert len(codec) == 0


def test_max_entries_validated(keys, counting):
    with pytest.raises(ValueError):
        CachingTokenCodec(counting, keys, max_entries=0)
