"""Signing keys, the key ring that verification chooses from, and the rotation rules.

The domain never touches key material: ``SigningKey.material`` is an opaque
object that the adapters create (secret bytes for HS256, a private key
object for EdDSA and ES256) and hand to the JWT library.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from domain.errors import ConfigurationError, KeyturnError, TokenInvalid

HS256 = "HS256"
EDDSA = "EdDSA"
ES256 = "ES256"
SUPPORTED_ALGORITHMS = frozenset({HS256, EDDSA, ES256})
ASYMMETRIC_ALGORITHMS = frozenset({EDDSA, ES256})
# A kid names a file in the key directory, so it is limited to characters
# that cannot form a path, and to a length that fits any file system.
_KID_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")


def is_valid_kid(kid: object) -> bool:
    """Return whether ``kid`` is a string Keyturn could have issued as a key id."""
    return isinstance(kid, str) and _KID_PATTERN.fullmatch(kid) is not None


@dataclass(frozen=True, slots=True)
class SigningKey:
    """One key: its ``kid``, the one algorithm it is used with, and its material.

    ``material`` signs. ``public_material`` verifies and is published in the
    JWKS; it is None for HS256, whose secret both signs and verifies and is
    never published.
    """

    kid: str
    algorithm: str
    material: object = field(repr=False)
    public_material: object | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not is_valid_kid(self.kid):
            raise ConfigurationError(f"key id {self.kid!r} must be 1 to 64 characters of A-Z, a-z, 0-9, _ and -")
        if self.algorithm not in SUPPORTED_ALGORITHMS:
            allowed = ", ".join(sorted(SUPPORTED_ALGORITHMS))
            raise ConfigurationError(f"key {self.kid} has algorithm {self.algorithm!r}; use one of {allowed}")
        if self.is_asymmetric and self.public_material is None:
            raise ConfigurationError(f"{self.algorithm} key {self.kid} has no public key")

    @property
    def is_asymmetric(self) -> bool:
        return self.algorithm in ASYMMETRIC_ALGORITHMS

    @property
    def verification_material(self) -> object:
        """The material that checks a signature: the public key, or the HS256 secret."""
        return self.public_material if self.public_material is not None else self.material


@dataclass(frozen=True, slots=True)
class KeyRing:
    """One active signing key plus keys that only verify (RFC 8725 section 3.1).

    A token's ``kid`` selects the key, and the key alone fixes the algorithm,
    so a token can never choose how it is verified.
    """

    active: SigningKey
    verify_only: tuple[SigningKey, ...] = ()

    def __post_init__(self) -> None:
        kids = [key.kid for key in self]
        if len(set(kids)) != len(kids):
            raise ConfigurationError(
                "two keys in the key ring share a kid; check SESSION_SECRET_PREVIOUS and the key directory manifest"
            )

    def __iter__(self) -> Iterator[SigningKey]:
        yield self.active
        yield from self.verify_only

    def find(self, kid: object) -> SigningKey:
        """Return the key named ``kid`` or raise ``TokenInvalid``."""
        for key in self:
            if key.kid == kid:
                return key
        raise TokenInvalid("token names an unknown key (kid)")

    def with_directory_keys(self, active: SigningKey | None, verify_only: Iterable[SigningKey]) -> KeyRing:
        """Add keys from the key directory to this ring of secret-derived keys.

        A directory key in the active state takes over signing, and this
        ring's own active key then only verifies. Without one, this ring
        keeps signing and the directory keys only verify.
        """
        extra = tuple(verify_only)
        if active is None:
            return KeyRing(active=self.active, verify_only=(*self.verify_only, *extra))
        return KeyRing(active=active, verify_only=(*extra, self.active, *self.verify_only))


class KeyState(enum.Enum):
    """Life cycle of a key in the key directory: pending, then active, then retired."""

    PENDING = "pending"
    ACTIVE = "active"
    RETIRED = "retired"


class KeyManagementError(KeyturnError):
    """A key directory command cannot be carried out; the message explains why and what to do."""


@dataclass(frozen=True, slots=True)
class KeyRecord:
    """The manifest entry of one directory key: never its material."""

    kid: str
    algorithm: str
    state: KeyState
    created_at: datetime
    retired_at: datetime | None = None

    def __post_init__(self) -> None:
        if not is_valid_kid(self.kid):
            raise ConfigurationError(f"key id {self.kid!r} must be 1 to 64 characters of A-Z, a-z, 0-9, _ and -")
        if self.algorithm not in ASYMMETRIC_ALGORITHMS:
            raise ConfigurationError(f"directory key {self.kid} has algorithm {self.algorithm!r}; use EdDSA or ES256")
        if (self.state is KeyState.RETIRED) != (self.retired_at is not None):
            raise ConfigurationError(f"directory key {self.kid} must have retired_at exactly when it is retired")


@dataclass(frozen=True, slots=True)
class KeyManifest:
    """Every key of the key directory, oldest first, with at most one active key.

    The transitions return a new manifest and leave this one unchanged, so
    the adapter can write the result atomically or not at all.
    """

    records: tuple[KeyRecord, ...] = ()

    def __post_init__(self) -> None:
        kids = [record.kid for record in self.records]
        if len(set(kids)) != len(kids):
            raise ConfigurationError("the key directory manifest lists a kid twice")
        if sum(record.state is KeyState.ACTIVE for record in self.records) > 1:
            raise ConfigurationError("the key directory manifest has more than one active key")

    @property
    def active(self) -> KeyRecord | None:
        return next((record for record in self.records if record.state is KeyState.ACTIVE), None)

    def with_pending(self, record: KeyRecord) -> KeyManifest:
        """Add a freshly generated key, which every process loads as verify-only."""
        if record.state is not KeyState.PENDING:
            raise ValueError("a new key must start in the pending state")
        return KeyManifest((*self.records, record))

    def rotate(self, now: datetime, publication_delay: timedelta, *, force: bool = False) -> KeyManifest:
        """Promote the newest pending key to active and retire the current active key.

        Every process reloads the manifest at least once per
        ``publication_delay``, so a pending key older than that is known to
        all verifiers before it signs anything. ``force`` skips the wait;
        then a process that has not reloaded yet rejects the new tokens
        until it does.
        """
        pending = [record for record in self.records if record.state is KeyState.PENDING]
        if not pending:
            raise KeyManagementError("no pending key to promote; run `keyturn keys generate` first")
        newest = max(pending, key=lambda record: record.created_at)
        ready_at = newest.created_at + publication_delay
        if now < ready_at and not force:
            wait = int((ready_at - now).total_seconds()) + 1
            raise KeyManagementError(
                f"pending key {newest.kid} was published {_seconds_between(newest.created_at, now)} s ago, "
                f"less than the reload interval of {int(publication_delay.total_seconds())} s; "
                f"wait {wait} s so every process can verify it, or pass --force"
            )
        return KeyManifest(tuple(_rotated(record, newest.kid, now) for record in self.records))

    def expired_retired(self, now: datetime, keep_for: timedelta) -> tuple[KeyRecord, ...]:
        """Return retired keys that no unexpired token can need, because they retired over ``keep_for`` ago."""
        return tuple(
            record
            for record in self.records
            if record.retired_at is not None and now >= record.retired_at + keep_for
        )

    def without(self, removed: Iterable[KeyRecord]) -> KeyManifest:
        kids = {record.kid for record in removed}
        return KeyManifest(tuple(record for record in self.records if record.kid not in kids))


def retired_key_retention(access_lifetime: timedelta, leeway: timedelta, reload_interval: timedelta) -> timedelta:
    """Return how long a retired key must keep verifying after ``retired_at``.

    A process that has not reloaded yet may sign with the old key for one
    more reload interval, and the last such token lives for the access-token
    lifetime plus the leeway that ``exp`` is given.
    """
    return reload_interval + access_lifetime + leeway


def _rotated(record: KeyRecord, promoted_kid: str, now: datetime) -> KeyRecord:
    if record.kid == promoted_kid:
        return replace(record, state=KeyState.ACTIVE)
    if record.state is KeyState.ACTIVE:
        return replace(record, state=KeyState.RETIRED, retired_at=now)
    return record


def _seconds_between(start: datetime, end: datetime) -> int:
    return max(0, int((end - start).total_seconds()))
