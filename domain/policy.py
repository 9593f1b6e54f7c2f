"""The token policy: who issues tokens, for whom, and how long they live."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from domain.clock import Leeway
from domain.revocation import RevocationPolicy
from domain.tokens import TokenLifetimes


@dataclass(frozen=True, slots=True)
class TokenPolicy:
    """Issuer, audience, lifetimes, leeway and the refresh reuse grace window.

    ``refresh_reuse_grace`` lets a rotated refresh token be presented again
    for a short while (two browser tabs refreshing at once) and get a new
    access token without a new refresh token.
    """

    issuer: str = "keyturn"
    audience: str = "keyturn"
    lifetimes: TokenLifetimes = field(default_factory=TokenLifetimes)
    leeway: Leeway = field(default_factory=Leeway)
    refresh_reuse_grace: timedelta = timedelta(seconds=10)

    @property
    def revocation(self) -> RevocationPolicy:
        return RevocationPolicy(access_lifetime=self.lifetimes.access, leeway=self.leeway)
