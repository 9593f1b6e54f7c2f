"""The published JWK Set: public members only, and usable by a plain PyJWT client."""

import base64
from datetime import datetime, timedelta, timezone

import jwt
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from adapters.jwt_codec import JwtCodec
from adapters.key_directory import KeyDirectory, KeyRingSource
from adapters.keys import key_ring_from_secrets, public_jwk, public_jwks
from domain.clock import FixedClock
from domain.policy import TokenPolicy
from domain.tokens import AccessToken
from entrypoints.http.jwks import JWKS_PATH, jwks_route

SECRET = "jwks-test-secret-0123456789abcdef012345"
START = datetime(2026, 5, 1, 12, 0, tzinfo=timezone.utc)
RELOAD = timedelta(seconds=10)
POLICY = TokenPolicy()
PRIVATE_MEMBERS = {"d", "k", "p", "q", "dp", "dq", "qi"}


def b64decode(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def directory(tmp_path) -> KeyDirectory:
    return KeyDirectory(tmp_path / "keys")


def source_for(directory: KeyDirectory) -> KeyRingSource:
    return KeyRingSource(key_ring_from_secrets(SECRET), directory, RELOAD)


def make_token() -> AccessToken:
    return AccessToken.issue(
        subject="42", session_id="session-1", issued_at=START, lifetime=timedelta(minutes=15),
        issuer=POLICY.issuer, audience=POLICY.audience,
    )


def test_hs256_only_ring_publishes_nothing():
    assert public_jwks(key_ring_from_secrets(SECRET, ["older-secret-0123456789abcdef0123"])) == {"keys": []}


def test_eddsa_jwk_members(directory, clock):
    record = directory.generate("EdDSA", clock.now())

    jwk = public_jwks(source_for(directory).current())["keys"][0]

    assert jwk.keys() == {"kty", "crv", "x", "kid", "alg", "use"}
    assert (jwk["kty"], jwk["crv"], jwk["alg"], jwk["use"], jwk["kid"]) == ("OKP", "Ed25519", "EdDSA", "sig", record.kid)
    assert len(b64decode(jwk["x"])) == 32


def test_es256_jwk_members(directory, clock):
    record = directory.generate("ES256", clock.now())

    jwk = public_jwks(source_for(directory).current())["keys"][0]

    assert jwk.keys() == {"kty", "crv", "x", "y", "kid", "alg", "use"}
    assert (jwk["kty"], jwk["crv"], jwk["alg"], jwk["kid"]) == ("EC", "P-256", "ES256", record.kid)
    assert len(b64decode(jwk["x"])) == 32
    assert len(b64decode(jwk["y"])) == 32


def test_jwks_lists_pending_active_retired(directory, clock):
    first = directory.generate("EdDSA", clock.now())
    directory.rotate(clock.now(), RELOAD, force=True)
    second = directory.generate("ES256", clock.now())
    directory.rotate(clock.now(), RELOAD, force=True)
    third = directory.generate("EdDSA", clock.now())

    jwks = public_jwks(source_for(directory).current())

    assert sorted(jwk["kid"] for jwk in jwks["keys"]) == sorted([first.kid, second.kid, third.kid])
    for jwk in jwks["keys"]:
        assert PRIVATE_MEMBERS & jwk.keys() == set()


def test_hs256_key_has_no_jwk():
    ring = key_ring_from_secrets(SECRET)

    assert public_jwk(ring.active) is None


def test_published_jwk_verifies_codec_token(directory, clock):
    for algorithm in ("EdDSA", "ES256"):
        directory.generate(algorithm, clock.now())
        directory.rotate(clock.now(), RELOAD, force=True)
        source = source_for(directory)
        raw = JwtCodec(source, POLICY).encode(make_token())
        kid = jwt.get_unverified_header(raw)["kid"]
        jwk_set = jwt.PyJWKSet.from_dict(public_jwks(source.current()))

        claims = jwt.decode(
            raw, jwk_set[kid], algorithms=[algorithm], audience=POLICY.audience, issuer=POLICY.issuer,
            options={"verify_exp": False, "verify_iat": False, "verify_nbf": False},
        )

        assert claims["sub"] == "42"


def test_route_serves_key_set_with_cache_header(directory, clock):
    record = directory.generate("EdDSA", clock.now())
    app = Litestar(route_handlers=[jwks_route(source_for(directory))])

    with TestClient(app) as client:
        response = client.get(JWKS_PATH)

    assert response.status_code == 200
    assert response.headers["cache-control"] == "public, max-age=10"
    assert response.headers["content-type"].startswith("application/json")
    assert [jwk["kid"] for jwk in response.json()["keys"]] == [record.kid]


def test_route_without_key_directory():
    source = KeyRingSource(key_ring_from_secrets(SECRET), None, RELOAD)
    app = Litestar(route_handlers=[jwks_route(source)])

    with TestClient(app) as client:
        response = client.get(JWKS_PATH)

    assert response.json() == {"keys": []}


def test_route_follows_reload(directory, clock):
    source = source_for(directory)
    app = Litestar(route_handlers=[jwks_route(source)])
    with TestClient(app) as client:
        before = client.get(JWKS_PATH).json()
        record = directory.generate("ES256", clock.now())
        source.reload_now()
        after = client.get(JWKS_PATH).json()

    assert before == {"keys": []}
    assert [jwk["kid"] for jwk in after["keys"]] == [record.kid]
