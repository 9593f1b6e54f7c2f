"""Key derivation, the key ring and the rotation rules of the key manifest."""

from datetime import datetime, timedelta, timezone

import pytest

from adapters.keys import asymmetric_key_from_pem, derive_hs256_key, generate_private_key, key_ring_from_secrets, private_key_to_pem
from domain.errors import ConfigurationError, TokenInvalid
from domain.keys import (
    KeyManagementError,
    KeyManifest,
    KeyRecord,
    KeyRing,
    KeyState,
    SigningKey,
    retired_key_retention,
)

SECRET = "key-ring-test-secret-0123456789abcdef"
START = datetime(2026, 5, 1, 12, 0, tzinfo=timezone.utc)
DELAY = timedelta(seconds=10)


def ed_key(kid: str) -> SigningKey:
    return asymmetric_key_from_pem(kid, "EdDSA", private_key_to_pem(generate_private_key("EdDSA")))


def pending(kid: str, created_at: datetime = START) -> KeyRecord:
    return KeyRecord(kid=kid, algorithm="EdDSA", state=KeyState.PENDING, created_at=created_at)


def test_derived_kid_is_stable_per_secret():
    assert derive_hs256_key(SECRET).kid == derive_hs256_key(SECRET).kid
    assert derive_hs256_key(SECRET).kid != derive_hs256_key(SECRET + "x").kid


def test_derived_kid_hides_secret_and_key():
    key = derive_hs256_key(SECRET)

    assert key.kid.startswith("hs-")
    assert SECRET not in key.kid
    assert key.material.hex() not in key.kid


def test_derived_key_is_32_bytes_not_secret():
    key = derive_hs256_key(SECRET)

    assert len(key.material) == 32
    assert key.material != SECRET.encode()
    assert key.algorithm == "HS256"
    assert key.public_material is None


def test_signing_key_repr_hides_material():
    hs_key = derive_hs256_key(SECRET)
    ed = ed_key("ed-repr")

    assert hs_key.material.hex() not in repr(hs_key)
    assert "material" not in repr(hs_key)
    assert "Ed25519" not in repr(ed)


@pytest.mark.parametrize("kid", ["", "../etc/passwd", "a/b", "a b", "x" * 65, "é"])
def test_signing_key_rejects_unsafe_kid(kid):
    with pytest.raises(ConfigurationError):
        SigningKey(kid=kid, algorithm="HS256", material=b"k" * 32)


@pytest.mark.parametrize("algorithm", ["none", "RS256", "hs256", "HS512"])
def test_signing_key_rejects_unsupported_algorithm(algorithm):
    with pytest.raises(ConfigurationError):
        SigningKey(kid="k1", algorithm=algorithm, material=b"k" * 32)


def test_asymmetric_key_needs_public_part():
    with pytest.raises(ConfigurationError):
        SigningKey(kid="k1", algorithm="EdDSA", material=object())


def test_ring_rejects_shared_kid():
    with pytest.raises(ConfigurationError):
        key_ring_from_secrets(SECRET, [SECRET])


@pytest.mark.parametrize("kid", ["nope", None, 5, ["hs-x"]])
def test_ring_find_unknown_kid(kid):
    with pytest.raises(TokenInvalid):
        key_ring_from_secrets(SECRET).find(kid)


def test_ring_finds_previous_secret_key():
    ring = key_ring_from_secrets(SECRET, ["older-secret-0123456789abcdef0123"])
    previous = derive_hs256_key("older-secret-0123456789abcdef0123")

    assert ring.find(previous.kid) == previous


def test_directory_active_key_takes_over_signing():
    secret_ring = key_ring_from_secrets(SECRET)
    active, pending_key = ed_key("ed-active"), ed_key("ed-pending")

    ring = secret_ring.with_directory_keys(active, [pending_key])

    assert ring.active is active
    assert [key.kid for key in ring.verify_only] == ["ed-pending", secret_ring.active.kid]


def test_without_directory_active_hs256_signs():
    secret_ring = key_ring_from_secrets(SECRET)

    ring = secret_ring.with_directory_keys(None, [ed_key("ed-pending")])

    assert ring.active == secret_ring.active
    assert [key.kid for key in ring.verify_only] == ["ed-pending"]


def test_ring_iterates_active_first():
    active, other = ed_key("ed-a"), ed_key("ed-b")

    assert [key.kid for key in KeyRing(active, (other,))] == ["ed-a", "ed-b"]


def test_rotate_rejected_before_publication_delay():
    manifest = KeyManifest((pending("ed-new"),))

    with pytest.raises(KeyManagementError, match="--force"):
        manifest.rotate(START + DELAY - timedelta(seconds=1), DELAY)


def test_rotate_after_delay_promotes_newest_pending():
    old_active = KeyRecord("ed-old", "EdDSA", KeyState.ACTIVE, START - timedelta(days=1))
    manifest = KeyManifest((old_active, pending("ed-first"), pending("ed-second", START + timedelta(seconds=1))))
    now = START + timedelta(minutes=1)

    rotated = manifest.rotate(now, DELAY)

    states = {record.kid: record.state for record in rotated.records}
    assert states == {"ed-old": KeyState.RETIRED, "ed-first": KeyState.PENDING, "ed-second": KeyState.ACTIVE}
    assert rotated.records[0].retired_at == now
    assert manifest.active.kid == "ed-old"


def test_rotate_force_skips_delay():
    rotated = KeyManifest((pending("ed-new"),)).rotate(START, DELAY, force=True)

    assert rotated.active.kid == "ed-new"


def test_rotate_without_pending_key():
    with pytest.raises(KeyManagementError, match="generate"):
        KeyManifest().rotate(START, DELAY)


def test_manifest_rejects_two_active_keys():
    with pytest.raises(ConfigurationError):
        KeyManifest((
            KeyRecord("ed-a", "EdDSA", KeyState.ACTIVE, START),
            KeyRecord("ed-b", "EdDSA", KeyState.ACTIVE, START),
        ))


def test_manifest_rejects_duplicate_kid():
    with pytest.raises(ConfigurationError):
        KeyManifest((pending("ed-a"), pending("ed-a")))


def test_record_retired_at_matches_state():
    with pytest.raises(ConfigurationError):
        KeyRecord("ed-a", "EdDSA", KeyState.RETIRED, START)
    with pytest.raises(ConfigurationError):
        KeyRecord("ed-a", "EdDSA", KeyState.PENDING, START, retired_at=START)


def test_record_rejects_hs256():
    with pytest.raises(ConfigurationError):
        KeyRecord("hs-a", "HS256", KeyState.PENDING, START)


def test_expired_retired_boundary():
    retired = KeyRecord("ed-old", "EdDSA", KeyState.RETIRED, START, retired_at=START)
    manifest = KeyManifest((retired, pending("ed-new")))
    keep_for = timedelta(minutes=20)

    assert manifest.expired_retired(START + keep_for - timedelta(seconds=1), keep_for) == ()
    assert manifest.expired_retired(START + keep_for, keep_for) == (retired,)
    assert manifest.without([retired]).records == (pending("ed-new"),)


def test_retention_covers_reload_lifetime_and_leeway():
    retention = retired_key_retention(timedelta(minutes=15), timedelta(seconds=60), timedelta(seconds=10))

    assert retention == timedelta(minutes=16, seconds=10)
