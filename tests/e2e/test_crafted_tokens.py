"""Conformance of our own verifier: every crafted access token gets a 401 problem through ``GET /auth/me``.

Each case breaks one rule, is named after it, and is sent both as an
``Authorization: Bearer`` header and as the ``access_token`` cookie. The
tokens are signed with the test service's real HS256 key wherever a
signature is needed, so the rule under test is the only reason to reject.
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from dependency_injector import providers
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar.testing import AsyncTestClient

from adapters.jwt_codec import JwtCodec
from adapters.key_directory import KeyDirectory, KeyRingSource, build_key_ring_source
from adapters.keys import derive_hs256_key, generate_private_key
from adapters.sql import migrate
from domain.clock import FixedClock, SystemClock
from entrypoints.container import Container
from entrypoints.http.app import create_app
from tests.conftest import account
from tests.e2e.conftest import SECRET, make_settings
from tests.e2e.http_helpers import PROBLEM, assert_problem, login

RELOAD = timedelta(seconds=10)
HS_KEY = derive_hs256_key(SECRET)
ALICE_ID = str(account("alice")["id"])


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def json_text(value: dict | str) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def sign(header: dict | str, payload: dict | str, key: object = HS_KEY.material, algorithm: str = "HS256") -> str:
    """Build a compact JWS from dicts or raw JSON text; the algorithm object signs without PyJWT's key checks."""
    signing_input = f"{b64(json_text(header).encode())}.{b64(json_text(payload).encode())}"
    signature = jwt.get_algorithm_by_name(algorithm).sign(signing_input.encode("ascii"), key)
    return f"{signing_input}.{b64(signature)}"


def unsigned(header: dict, payload: dict, signature: str = "") -> str:
    return f"{b64(json.dumps(header).encode())}.{b64(json.dumps(payload).encode())}.{signature}"


def good_header(**changes: object) -> dict:
    return {"alg": "HS256", "typ": "at+jwt", "kid": HS_KEY.kid} | changes


def without(document: dict, name: str) -> dict:
    return {key: value for key, value in document.items() if key != name}


def good_claims(now: datetime, **changes: object) -> dict:
    issued_at = int(now.timestamp())
    claims = {
        "iss": "keyturn", "aud": "keyturn", "sub": ALICE_ID, "iat": issued_at, "nbf": issued_at,
        "exp": issued_at + 900, "jti": "crafted-token-id-0001", "sid": "crafted-session-0001",
    }
    return claims | changes


def with_duplicate(document: dict, name: str, value: object) -> str:
    """Serialize ``document`` and append a second member ``name``, which json.dumps alone cannot produce."""
    text = json.dumps(document)
    return f"{text[:-1]}, {json.dumps(name)}: {json.dumps(value)}}}"


def replace_signature(token: str, signature: str) -> str:
    header, payload, _ = token.split(".")
    return f"{header}.{payload}.{signature}"


def sibling_of_last_character(token: str) -> str:
    """Flip an unused low bit of the signature's last base64url character: same bytes, other spelling."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = token[-1]
    return token[:-1] + alphabet[alphabet.index(last) ^ 1]


@dataclass(frozen=True)
class Case:
    build: Callable[[datetime], str]
    code: str = "token_invalid"


def signed(header: Callable[[], dict | str] = good_header, **claims: object) -> Callable[[datetime], str]:
    return lambda now: sign(header(), good_claims(now, **claims))


def signed_without(claim: str) -> Callable[[datetime], str]:
    return lambda now: sign(good_header(), without(good_claims(now), claim))


OTHER_HS_KEY = derive_hs256_key("some-other-secret-0123456789abcdef0123")

CASES: dict[str, Case] = {
    # The algorithm comes from the key the kid names, never from the header.
    "alg-none-lowercase": Case(lambda now: unsigned(good_header(alg="none"), good_claims(now))),
    "alg-none-capitalized": Case(lambda now: unsigned(good_header(alg="None"), good_claims(now))),
    "alg-none-uppercase": Case(lambda now: unsigned(good_header(alg="NONE"), good_claims(now))),
    "alg-none-mixed-case": Case(lambda now: unsigned(good_header(alg="nOnE"), good_claims(now))),
    "alg-none-with-signature": Case(lambda now: replace_signature(sign(good_header(alg="none"), good_claims(now)), b64(b"s" * 32))),
    "alg-missing": Case(lambda now: sign(without(good_header(), "alg"), good_claims(now))),
    "alg-not-string": Case(signed(lambda: good_header(alg=256))),
    "alg-lowercase-hs256": Case(signed(lambda: good_header(alg="hs256"))),
    "alg-hs512-for-hs256-key": Case(lambda now: sign(good_header(alg="HS512"), good_claims(now), algorithm="HS512")),
    "alg-rs256-unsupported": Case(signed(lambda: good_header(alg="RS256"))),
    "alg-eddsa-for-hs256-key": Case(signed(lambda: good_header(alg="EdDSA"))),
    # The kid must name a key of the ring and be shaped like one.
    "kid-unknown": Case(signed(lambda: good_header(kid="hs-unknownkid0000"))),
    "kid-missing": Case(lambda now: sign(without(good_header(), "kid"), good_claims(now))),
    "kid-not-string": Case(signed(lambda: good_header(kid=12345))),
    "kid-empty": Case(signed(lambda: good_header(kid=""))),
    "kid-path-traversal": Case(signed(lambda: good_header(kid="../../etc/passwd"))),
    # Headers that would fetch, embed or extend the key or the processing.
    "header-jku": Case(signed(lambda: good_header(jku="http://127.0.0.1:9/jwks.json"))),
    "header-jwk-embedded": Case(signed(lambda: good_header(jwk={"kty": "oct", "k": b64(HS_KEY.kid.encode())}))),
    "header-x5u": Case(signed(lambda: good_header(x5u="http://127.0.0.1:9/cert.pem"))),
    "header-x5c": Case(signed(lambda: good_header(x5c=["MIIBszCCAVmgAwIBAgIU"]))),
    "header-crit": Case(signed(lambda: good_header(crit=["exp"], exp=1))),
    "header-crit-empty": Case(signed(lambda: good_header(crit=[]))),
    "header-b64-false": Case(signed(lambda: good_header(b64=False))),
    "header-unknown-parameter": Case(signed(lambda: good_header(cty="JWT"))),
    "header-duplicate-alg": Case(signed(lambda: with_duplicate(good_header(alg="none"), "alg", "HS256"))),
    "header-duplicate-kid": Case(signed(lambda: with_duplicate(good_header(), "kid", "hs-unknownkid0000"))),
    "header-not-json": Case(signed(lambda: "{alg: HS256}")),
    "header-json-array": Case(signed(lambda: '["HS256"]')),
    # RFC 9068 explicit typing.
    "typ-missing": Case(lambda now: sign(without(good_header(), "typ"), good_claims(now))),
    "typ-jwt": Case(signed(lambda: good_header(typ="JWT"))),
    "typ-refresh-token": Case(signed(lambda: good_header(typ="rt+jwt"))),
    "typ-not-string": Case(signed(lambda: good_header(typ=["at+jwt"]))),
    # Payload JSON.
    "payload-duplicate-sub": Case(lambda now: sign(good_header(), with_duplicate(good_claims(now), "sub", "2"))),
    "payload-duplicate-exp": Case(lambda now: sign(good_header(), with_duplicate(good_claims(now), "exp", 4102444800))),
    "payload-duplicate-aud": Case(lambda now: sign(good_header(), with_duplicate(good_claims(now), "aud", "keyturn"))),
    "payload-not-json": Case(lambda now: sign(good_header(), "sub=1")),
    "payload-json-array": Case(lambda now: sign(good_header(), json.dumps([good_claims(now)]))),
    "payload-nan-exp": Case(lambda now: sign(good_header(), json.dumps(good_claims(now))[:-1] + ', "nbf": NaN}')),
    # Issuer and audience.
    "iss-wrong": Case(signed(iss="someone-else")),
    "iss-missing": Case(signed_without("iss")),
    "aud-wrong": Case(signed(aud="another-service")),
    "aud-missing": Case(signed_without("aud")),
    "aud-array-with-ours": Case(signed(aud=["keyturn"])),
    "aud-array-with-others": Case(signed(aud=["keyturn", "another-service"])),
    # Required claims.
    "exp-missing": Case(signed_without("exp")),
    "iat-missing": Case(signed_without("iat")),
    "nbf-missing": Case(signed_without("nbf")),
    "sub-missing": Case(signed_without("sub")),
    "jti-missing": Case(signed_without("jti")),
    "sid-missing": Case(signed_without("sid")),
    # Claim types.
    "sub-integer": Case(signed(sub=1)),
    "sub-empty": Case(signed(sub="")),
    "sub-control-character": Case(signed(sub="1\u0000")),
    "jti-not-string": Case(signed(jti=1)),
    "sid-malformed": Case(signed(sid="session id with spaces")),
    "exp-float": Case(lambda now: sign(good_header(), good_claims(now, exp=now.timestamp() + 900.5))),
    "exp-string": Case(lambda now: sign(good_header(), good_claims(now, exp=str(int(now.timestamp()) + 900)))),
    "exp-boolean": Case(signed(exp=True)),
    "iat-boolean": Case(signed(iat=False)),
    "exp-out-of-range": Case(signed(exp=10**20)),
    # Time, checked by the domain with one leeway for exp, nbf and iat.
    "exp-past": Case(lambda now: sign(good_header(), good_claims(now - timedelta(hours=1))), "token_expired"),
    "nbf-future": Case(lambda now: sign(good_header(), good_claims(now, nbf=int(now.timestamp()) + 3600))),
    "iat-future": Case(lambda now: sign(good_header(), good_claims(now, iat=int(now.timestamp()) + 3600))),
    # Signature and serialization.
    "signature-other-key": Case(lambda now: sign(good_header(), good_claims(now), key=OTHER_HS_KEY.material)),
    "signature-stripped": Case(lambda now: replace_signature(sign(good_header(), good_claims(now)), "")),
    "signature-truncated": Case(lambda now: sign(good_header(), good_claims(now))[:-4]),
    "signature-non-canonical-base64": Case(lambda now: sibling_of_last_character(sign(good_header(), good_claims(now)))),
    "token-two-segments": Case(lambda now: sign(good_header(), good_claims(now)).rsplit(".", 1)[0]),
    "token-four-segments": Case(lambda now: sign(good_header(), good_claims(now)) + ".e30"),
    "token-base64-padding": Case(lambda now: sign(good_header(), good_claims(now)).replace(".", "=.", 1)),
    "token-over-8-kib": Case(lambda now: sign(good_header(), good_claims(now, padding="p" * 8192))),
}


async def assert_rejected_both_ways(client: AsyncTestClient, token: str, code: str) -> None:
    by_header = await client.get("/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert_problem(by_header, 401, code)

    client.cookies.clear()
    by_cookie = await client.get("/auth/me", headers={"Cookie": f"access_token={token}"})
    assert_problem(by_cookie, 401, code)


def test_table_has_forty_cases():
    assert len(CASES) >= 40


async def test_well_formed_token_accepted(sqlite_service):
    """The builders make a token the service accepts, so each case below fails only for its own change."""
    token = sign(good_header(), good_claims(sqlite_service.clock.now()))

    response = await sqlite_service.client.get("/auth/me", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 200, response.text
    assert response.json()["username"] == "alice"


@pytest.mark.parametrize("name", list(CASES))
async def test_crafted_token_rejected(sqlite_service, name):
    case = CASES[name]

    token = case.build(sqlite_service.clock.now())

    await assert_rejected_both_ways(sqlite_service.client, token, case.code)


# Arbitrary input never causes a 500. Header values are limited to what
# HTTP/1.1 can carry: latin-1 text, or raw bytes without CR, LF and NUL.
HEADER_TEXT = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"), max_size=300)
HEADER_BYTES = st.binary(max_size=300).filter(lambda raw: not set(raw) & {0x0A, 0x0D, 0x00})
FUZZ_SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def assert_unauthorized(response) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    assert response.json()["code"] in {"token_invalid", "token_missing"}


@FUZZ_SETTINGS
@given(value=HEADER_TEXT)
async def test_arbitrary_text_never_500(sqlite_service, value):
    client = sqlite_service.client
    client.cookies.clear()
    encoded = value.encode("latin-1")

    assert_unauthorized(await client.get("/auth/me", headers={"Authorization": b"Bearer " + encoded}))
    assert_unauthorized(await client.get("/auth/me", headers={"Authorization": encoded}))
    assert_unauthorized(await client.get("/auth/me", headers={"Cookie": b"access_token=" + encoded}))
    assert_unauthorized(await client.get("/auth/me", headers={"Cookie": encoded}))


@FUZZ_SETTINGS
@given(value=HEADER_BYTES)
async def test_arbitrary_bytes_never_500(sqlite_service, value):
    client = sqlite_service.client
    client.cookies.clear()

    assert_unauthorized(await client.get("/auth/me", headers={"Authorization": b"Bearer " + value}))
    assert_unauthorized(await client.get("/auth/me", headers={"Cookie": b"access_token=" + value}))


# EdDSA: a service whose key directory has an active Ed25519 key.


@dataclass
class KeyedService:
    client: AsyncTestClient
    clock: FixedClock
    container: Container
    source: KeyRingSource
    directory: KeyDirectory


def has_key_wiring(container: Container) -> bool:
    return "key_ring_source" in container.providers


async def start_keyed_service(database: Path, key_dir: Path, clock: FixedClock, **overrides: str):
    """Build the app like the e2e ``service`` fixture, on a key directory.

    Until the container provides ``key_ring_source``, the codec is
    overridden here with one built on the same source.
    """
    settings_ = make_settings(database, KEYTURN_KEY_DIR=str(key_dir), KEYTURN_KEY_RELOAD_SECONDS="10", **overrides)
    container = Container(settings=settings_)
    container.clock.override(providers.Object(clock))
    if has_key_wiring(container):
        source = container.key_ring_source()
    else:
        source = build_key_ring_source(settings_.session_secret, settings_.previous_secrets, key_dir, RELOAD)
        container.codec.override(providers.Object(JwtCodec(source, settings_.token_policy)))
    client = AsyncTestClient(create_app(container), base_url="https://testserver.local")
    return KeyedService(client, clock, container, source, KeyDirectory(key_dir))


@pytest.fixture
async def eddsa_service(legacy_db: Path, tmp_path: Path) -> AsyncIterator[KeyedService]:
    clock = FixedClock(SystemClock().now())
    directory = KeyDirectory(tmp_path / "keys")
    directory.generate("EdDSA", clock.now())
    directory.rotate(clock.now(), RELOAD, force=True)
    await migrate.upgrade(f"sqlite:///{legacy_db}", make_settings(legacy_db).users_table)
    service = await start_keyed_service(legacy_db, directory.path, clock)
    async with service.client:
        yield service


def eddsa_active(service: KeyedService):
    return service.source.current().active


def eddsa_cases(service: KeyedService) -> dict[str, str]:
    key = eddsa_active(service)
    now = service.clock.now()
    public_pem = key.public_material.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    eddsa_header = {"alg": "EdDSA", "typ": "at+jwt", "kid": key.kid}
    return {
        "hs256-keyed-with-public-pem": sign(eddsa_header | {"alg": "HS256"}, good_claims(now), key=public_pem),
        "hs256-keyed-with-public-pem-hs-kid": sign(good_header(), good_claims(now), key=public_pem),
        "eddsa-kid-with-alg-es256": sign(eddsa_header | {"alg": "ES256"}, good_claims(now), key=key.material, algorithm="EdDSA"),
        "eddsa-signed-by-other-key": sign(eddsa_header, good_claims(now), key=generate_private_key("EdDSA"), algorithm="EdDSA"),
        "hs-kid-with-alg-eddsa": sign(good_header(alg="EdDSA"), good_claims(now), key=key.material, algorithm="EdDSA"),
        "eddsa-alg-none": unsigned(eddsa_header | {"alg": "none"}, good_claims(now)),
    }


async def test_eddsa_service_signs_with_directory_key(eddsa_service):
    response = await login(eddsa_service, "alice", account("alice")["password"])
    token = eddsa_service.client.cookies["access_token"]

    assert response.status_code == 200
    assert jwt.get_unverified_header(token) == {"alg": "EdDSA", "typ": "at+jwt", "kid": eddsa_active(eddsa_service).kid}
    assert (await eddsa_service.client.get("/auth/me")).status_code == 200


async def test_eddsa_service_accepts_hand_signed_token(eddsa_service):
    key = eddsa_active(eddsa_service)
    header = {"alg": "EdDSA", "typ": "at+jwt", "kid": key.kid}
    token = sign(header, good_claims(eddsa_service.clock.now()), key=key.material, algorithm="EdDSA")

    response = await eddsa_service.client.get("/auth/me", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    "name",
    ["hs256-keyed-with-public-pem", "hs256-keyed-with-public-pem-hs-kid", "eddsa-kid-with-alg-es256",
     "eddsa-signed-by-other-key", "hs-kid-with-alg-eddsa", "eddsa-alg-none"],
)
async def test_eddsa_crafted_token_rejected(eddsa_service, name):
    token = eddsa_cases(eddsa_service)[name]

    await assert_rejected_both_ways(eddsa_service.client, token, "token_invalid")


async def test_hs256_key_still_verifies_after_eddsa_takes_over(eddsa_service):
    token = sign(good_header(), good_claims(eddsa_service.clock.now()))

    response = await eddsa_service.client.get("/auth/me", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 200, response.text

