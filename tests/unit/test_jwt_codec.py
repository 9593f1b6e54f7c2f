import base64
import json
from datetime import datetime, timedelta, timezone

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from hypothesis import given
from hypothesis import strategies as st

from adapters.jwt_codec import JwtCodec
from adapters.key_directory import KeyDirectory, KeyRingSource
from adapters.keys import (
    asymmetric_key_from_pem,
    derive_hs256_key,
    generate_private_key,
    key_ring_from_secrets,
    private_key_to_pem,
)
from domain.errors import TokenInvalid
from domain.keys import KeyRing
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


# Tokens assembled by hand, so that headers and payloads can break rules
# that jwt.encode would never break.


def compact(header: dict | str, payload: dict | str, key: object, algorithm: str) -> str:
    """Build a compact JWS from raw JSON text or dicts, signed with ``algorithm`` without PyJWT's key checks."""
    header_json = header if isinstance(header, str) else json.dumps(header)
    payload_json = payload if isinstance(payload, str) else json.dumps(payload)
    signing_input = f"{b64(header_json.encode())}.{b64(payload_json.encode())}"
    signature = jwt.get_algorithm_by_name(algorithm).sign(signing_input.encode(), key)
    return f"{signing_input}.{b64(signature)}"


@pytest.fixture(scope="module")
def ed_key():
    return asymmetric_key_from_pem("ed-test", "EdDSA", private_key_to_pem(generate_private_key("EdDSA")))


@pytest.fixture(scope="module")
def es_key():
    return asymmetric_key_from_pem("es-test", "ES256", private_key_to_pem(generate_private_key("ES256")))


@pytest.fixture
def mixed_codec(ed_key, es_key) -> JwtCodec:
    """A codec that signs with EdDSA and also verifies ES256 and HS256 tokens."""
    ring = KeyRing(active=ed_key, verify_only=(es_key, derive_hs256_key(SECRET)))
    return JwtCodec(ring, POLICY)


def hs_header(**extra) -> dict:
    return {"alg": "HS256", "typ": "at+jwt", "kid": derive_hs256_key(SECRET).kid} | extra


def hs_token(header: dict | str, payload: dict | str | None = None) -> str:
    return compact(header, payload if payload is not None else claims_of(make_token()), derive_hs256_key(SECRET).material, "HS256")


def test_hand_built_token_accepted(codec):
    """The forging helper itself builds tokens the codec accepts, so each rejection below is due to its one change."""
    token = make_token()

    assert codec.decode(hs_token(hs_header(), claims_of(token))) == token


@pytest.mark.parametrize("algorithm", ["EdDSA", "ES256"])
def test_asymmetric_round_trip(algorithm, ed_key, es_key):
    key = ed_key if algorithm == "EdDSA" else es_key
    codec = JwtCodec(KeyRing(active=key), POLICY)
    token = make_token()
    raw = codec.encode(token)

    assert jwt.get_unverified_header(raw) == {"alg": algorithm, "typ": "at+jwt", "kid": key.kid}
    assert codec.decode(raw) == token


def test_mixed_ring_verifies_every_algorithm(mixed_codec, ed_key, es_key):
    token = make_token()

    assert mixed_codec.decode(JwtCodec(KeyRing(active=es_key), POLICY).encode(token)) == token
    assert mixed_codec.decode(JwtCodec(key_ring_from_secrets(SECRET), POLICY).encode(token)) == token
    assert mixed_codec.decode(mixed_codec.encode(token)) == token


@pytest.mark.parametrize("spelling", ["none", "None", "NONE", "nOnE"])
def test_alg_none_any_case_rejected(codec, spelling):
    header = b64(json.dumps(hs_header(alg=spelling)).encode())
    payload = b64(json.dumps(claims_of(make_token())).encode())

    with pytest.raises(TokenInvalid, match="alg none"):
        codec.decode(f"{header}.{payload}.")
    with pytest.raises(TokenInvalid, match="alg none"):
        codec.decode(f"{header}.{payload}.{b64(b'x' * 32)}")


@pytest.mark.parametrize("alg", ["HS256", "ES256", "eddsa", "HS512", "RS256"])
def test_header_alg_other_than_key_rejected(mixed_codec, ed_key, alg):
    raw = compact({"alg": alg, "typ": "at+jwt", "kid": ed_key.kid}, claims_of(make_token()), ed_key.material, "EdDSA")

    with pytest.raises(TokenInvalid, match="does not match"):
        mixed_codec.decode(raw)


def test_hs256_with_public_pem_as_secret_rejected(mixed_codec, ed_key):
    """The classic algorithm confusion: HMAC keyed with the published public key, under the EdDSA kid."""
    public_pem = ed_key.public_material.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    raw = compact({"alg": "HS256", "typ": "at+jwt", "kid": ed_key.kid}, claims_of(make_token()), public_pem, "HS256")

    with pytest.raises(TokenInvalid, match="does not match"):
        mixed_codec.decode(raw)


def test_hs256_with_public_pem_under_hs_kid_rejected(mixed_codec, ed_key):
    public_pem = ed_key.public_material.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    raw = compact(hs_header(), claims_of(make_token()), public_pem, "HS256")

    with pytest.raises(TokenInvalid, match="signature"):
        mixed_codec.decode(raw)


def test_eddsa_signed_by_other_key_rejected(mixed_codec, ed_key):
    stranger = generate_private_key("EdDSA")
    raw = compact({"alg": "EdDSA", "typ": "at+jwt", "kid": ed_key.kid}, claims_of(make_token()), stranger, "EdDSA")

    with pytest.raises(TokenInvalid, match="signature"):
        mixed_codec.decode(raw)


@pytest.mark.parametrize(
    ("name", "value"),
    [("jku", "https://keys.example/jwks.json"), ("jwk", {"kty": "oct", "k": "AAAA"}), ("x5u", "https://x.example/c.pem"),
     ("x5c", ["MIIB"]), ("crit", ["exp"]), ("crit", []), ("b64", False), ("cty", "JWT"), ("zip", "DEF")],
)
def test_extra_header_rejected(codec, name, value):
    with pytest.raises(TokenInvalid, match="header"):
        codec.decode(hs_token(hs_header(**{name: value})))


@pytest.mark.parametrize("typ", ["at+jwt", "application/at+jwt", "AT+JWT", "Application/AT+JWT"])
def test_access_token_types_accepted(codec, typ):
    token = make_token()

    assert codec.decode(hs_token(hs_header(typ=typ), claims_of(token))) == token


@pytest.mark.parametrize("typ", ["JWT", "at+jwt ", "rt+jwt", "", 1, None, ["at+jwt"]])
def test_other_types_rejected(codec, typ):
    with pytest.raises(TokenInvalid, match="typ"):
        codec.decode(hs_token(hs_header(typ=typ)))


def test_missing_typ_rejected(codec):
    header = hs_header()
    del header["typ"]

    with pytest.raises(TokenInvalid, match="typ"):
        codec.decode(hs_token(header))


@pytest.mark.parametrize("kid", [None, 7, "", "../keys", ["hs-a"], "unknown-kid"])
def test_bad_kid_rejected(codec, kid):
    with pytest.raises(TokenInvalid, match="kid"):
        codec.decode(hs_token(hs_header(kid=kid)))


def test_missing_kid_rejected(codec):
    header = hs_header()
    del header["kid"]

    with pytest.raises(TokenInvalid, match="kid"):
        codec.decode(hs_token(header))


def test_duplicate_header_member_rejected(codec):
    kid = derive_hs256_key(SECRET).kid
    header = f'{{"alg":"HS256","typ":"at+jwt","kid":"{kid}","typ":"at+jwt"}}'

    with pytest.raises(TokenInvalid, match="header is not valid JSON"):
        codec.decode(hs_token(header))


@pytest.mark.parametrize("claim", ["sub", "aud", "exp"])
def test_duplicate_payload_member_rejected(codec, claim):
    claims = claims_of(make_token())
    body = json.dumps(claims)[:-1] + f', "{claim}": {json.dumps(claims[claim])}}}'

    with pytest.raises(TokenInvalid, match="payload is not valid JSON"):
        codec.decode(hs_token(hs_header(), body))


@pytest.mark.parametrize(
    "payload",
    ["not json", "[]", '"text"', "123", "null", '{"exp": NaN}', '{"exp": Infinity}', '{"a": 1} trailing'],
)
def test_payload_not_json_object_rejected(codec, payload):
    with pytest.raises(TokenInvalid, match="payload"):
        codec.decode(hs_token(hs_header(), payload))


def test_payload_not_utf8_rejected(codec):
    header = b64(json.dumps(hs_header()).encode())
    payload = b64(json.dumps(claims_of(make_token())).encode("utf-16"))
    signing_input = f"{header}.{payload}"
    signature = jwt.get_algorithm_by_name("HS256").sign(signing_input.encode(), derive_hs256_key(SECRET).material)

    with pytest.raises(TokenInvalid, match="payload"):
        codec.decode(f"{signing_input}.{b64(signature)}")


def test_aud_array_rejected_even_with_our_audience(codec):
    claims = claims_of(make_token()) | {"aud": [POLICY.audience]}

    with pytest.raises(TokenInvalid, match="aud"):
        codec.decode(hs_token(hs_header(), claims))


@pytest.mark.parametrize(
    ("claim", "value"),
    [("sub", None), ("sub", ["2147483653"]), ("sub", "a\x00b"), ("sub", "\ud800"), ("sub", "x" * 256),
     ("jti", 12), ("jti", "has space"), ("sid", ""), ("sid", {"id": 1}), ("iss", None), ("aud", None),
     ("nbf", False), ("iat", "1777636800"), ("exp", 1.0e9), ("exp", -(10**20))],
)
def test_claim_shape_rejected(codec, claim, value):
    claims = claims_of(make_token()) | {claim: value}

    with pytest.raises(TokenInvalid):
        codec.decode(hs_token(hs_header(), claims))


def test_non_canonical_base64_rejected(codec):
    raw = hs_token(hs_header())
    header, payload, signature = raw.split(".")
    # The last character of a 32-byte signature carries 4 unused low bits.
    last = signature[-1]
    twin = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    sibling = twin[twin.index(last) ^ 1]

    with pytest.raises(TokenInvalid, match="canonical"):
        codec.decode(f"{header}.{payload}.{signature[:-1]}{sibling}")


@pytest.mark.parametrize(
    "raw",
    ["a.b", "a.b.c.d", "..", "a..c", "e30.e30.", "e30=.e30.c2ln", "e30.e30.c2ln+", "e30 .e30.c2ln", "é.e30.c2ln"],
)
def test_malformed_compact_form_rejected(codec, raw):
    with pytest.raises(TokenInvalid):
        codec.decode(raw)


def test_token_at_size_limit_is_checked_not_cut(codec):
    padding = "p" * (8 * 1024)
    claims = claims_of(make_token()) | {"padding": padding}

    with pytest.raises(TokenInvalid, match="longer than"):
        codec.decode(hs_token(hs_header(), claims))


def test_unknown_claims_are_ignored(codec):
    token = make_token()

    assert codec.decode(hs_token(hs_header(), claims_of(token) | {"scope": "profile"})) == token


def test_codec_follows_source_reload(tmp_path):
    directory = KeyDirectory(tmp_path / "keys")
    source = KeyRingSource(key_ring_from_secrets(SECRET), directory)
    codec = JwtCodec(source, POLICY)
    before = codec.encode(make_token())

    record = directory.generate("EdDSA", NOW)
    directory.rotate(NOW, timedelta(seconds=10), force=True)
    source.reload_now()
    after = codec.encode(make_token())

    assert jwt.get_unverified_header(after)["kid"] == record.kid
    assert codec.decode(before).subject == "2147483653"
    assert codec.decode(after).subject == "2147483653"
