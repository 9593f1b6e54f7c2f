"""Signing keys and the key ring that verification chooses from."""

from __future__ import annotations

from dataclasses import dataclass, field

from domain.errors import ConfigurationError, TokenInvalid


@dataclass(frozen=True, slots=True)
class SigningKey:
    """One key: its ``kid``, the one algorithm it is used with, and its material."""

    kid: str
    algorithm: str
    material: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class KeyRing:
    """One active signing key plus keys that only verify (RFC 8725 section 3.1).

    A token's ``kid`` selects the key, and the key alone fixes the algorithm,
    so a token can never choose how it is verified.
    """

    active: SigningKey
    verify_only: tuple[SigningKey, ...] = ()

    def __post_init__(self) -> None:
        kids = [self.active.kid, *(key.kid for key in self.verify_only)]
        if len(set(kids)) != len(kids):
            raise ConfigurationError("two keys in the key ring share a kid; check SESSION_SECRET_PREVIOUS")

    def find(self, kid: object) -> SigningKey:
        if kid == self.active.kid:
            return self.active
        for key in self.verify_only:
            if key.kid == kid:
                return key
        raise TokenInvalid("token names an unknown key (kid)")
