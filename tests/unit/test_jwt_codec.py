import base64
import json
from datetime import datetime, timedelta, timezone

import jwt
import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.jwt_codec import JwtCodec
from adapters.keys import derive_hs256_key, key_ring_from_secrets
from domain.errors import TokenInvalid
from domain.policy import TokenPolicy
from domain.tokens import AccessToken

SECRET = "codec-test-secret-0123456789abcdef0123"
POLICY = TokenPolicy()
NOW = datetime(2026, 5, 1, tzinfo=timezone.utc)


def make_token() -> AccessToken:
    return AccessToken.issue(
        subject="2147483653", session_id="sess", issued_at=NOW, lifetime=timedelta(minutes=15),
        issuer=POLICY.issuer, audience=POLICY.audience,
    )


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


@pytest.fixture
def codec() -> JwtCodec:
    return JwtCodec(key_ring_from_secrets(SECRET), POLICY)


def claims_of(token: AccessToken) -> dict:
    return {
        "iss": token.issuer, "aud": token.audience, "sub": token.subject, "jti": token.token_id,
        "sid": token.session_id, "iat": int(token.issued_at.timestamp()),
        "nbf": int(token.not_before.timestamp()), "exp": int(token.expires_at.timestamp()),
    }


def test_round_trip(codec):
    token = make_token()

    assert codec.decode(codec.encode(token)) == token


def test_header_has_type_and_kid(codec):
    header = jwt.get_unverified_header(codec.encode(make_token()))

    assert header == {"alg": "HS256", "typ": "at+jwt", "kid": derive_hs256_key(SECRET).kid}


def test_kid_does_not_reveal_secret():
    kid = derive_hs256_key(SECRET).kid

    assert SECRET not in kid
    assert derive_hs256_key(SECRET + "x").kid != kid


def test_derived_key_differs_from_secret():
    assert derive_hs256_key(SECRET).material != SECRET.encode()


def test_previous_secret_still_verifies():
    old = JwtCodec(key_ring_from_secrets("old-secret-0123456789abcdef0123456789"), POLICY)
    rotated = JwtCodec(
        key_ring_from_secrets(SECRET, ["old-secret-0123456789abcdef0123456789"]), POLICY
    )
    token = make_token()

    assert rotated.decode(old.encode(token)) == token


def test_alg_none_rejected(codec):
    kid = derive_hs256_key(SECRET).kid
    header = b64(json.dumps({"alg": "none", "typ": "at+jwt", "kid": kid}).encode())
    payload = b64(json.dumps(claims_of(make_token())).encode())

    with pytest.raises(TokenInvalid):
        codec.decode(f"{header}.{payload}.")


def test_other_key_rejected(codec):
    other = JwtCodec(key_ring_from_secrets("another-secret-0123456789abcdef012345"), POLICY)

    with pytest.raises(TokenInvalid):
        codec.decode(other.encode(make_token()))


def test_same_kid_other_key_rejected(codec):
    kid = derive_hs256_key(SECRET).kid
    forged = jwt.encode(claims_of(make_token()), b"k" * 32, algorithm="HS256", headers={"kid": kid, "typ": "at+jwt"})

    with pytest.raises(TokenInvalid):
        codec.decode(forged)


def test_truncated_token_rejected(codec):
    raw = codec.encode(make_token())

    with pytest.raises(TokenInvalid):
        codec.decode(raw[:-5])


@pytest.mark.parametrize(
    ("claim", "value"),
    [("sub", 5), ("sub", ""), ("exp", "soon"), ("iat", 1.5), ("aud", "someone-else"), ("iss", "evil"),
     ("exp", True), ("exp", 10**20)],
)
def test_bad_claim_rejected(codec, claim, value):
    key = derive_hs256_key(SECRET)
    claims = claims_of(make_token()) | {claim: value}
    raw = jwt.encode(claims, key.material, algorithm="HS256", headers={"kid": key.kid, "typ": "at+jwt"})

    with pytest.raises(TokenInvalid):
        codec.decode(raw)


@pytest.mark.parametrize("claim", ["iss", "aud", "sub", "iat", "nbf", "exp", "jti", "sid"])
def test_missing_claim_rejected(codec, claim):
    key = derive_hs256_key(SECRET)
    claims = claims_of(make_token())
    del claims[claim]
    raw = jwt.encode(claims, key.material, algorithm="HS256", headers={"kid": key.kid, "typ": "at+jwt"})

    with pytest.raises(TokenInvalid):
        codec.decode(raw)


@pytest.mark.parametrize("typ", [None, "JWT", "rt+jwt"])
def test_wrong_type_rejected(codec, typ):
    key = derive_hs256_key(SECRET)
    headers = {"kid": key.kid} | ({"typ": typ} if typ else {})
    raw = jwt.encode(claims_of(make_token()), key.material, algorithm="HS256", headers=headers)

    with pytest.raises(TokenInvalid):
        codec.decode(raw)


def test_oversized_token_rejected(codec):
    with pytest.raises(TokenInvalid):
        codec.decode("a" * (8 * 1024 + 1))


@given(st.text(max_size=300))
def test_arbitrary_text_rejected(raw):
    codec = JwtCodec(key_ring_from_secrets(SECRET), POLICY)

    with pytest.raises(TokenInvalid):
        codec.decode(raw)
