"""A bounded cache of verified access tokens in front of the JWT codec."""

from __future__ import annotations

from collections import OrderedDict

from adapters.jwt_codec import KeyRingProvider
from application.ports import TokenCodec
from domain.keys import KeyRing
from domain.tokens import AccessToken

DEFAULT_MAX_ENTRIES = 10_000


class CachingTokenCodec:
    """Remembers the claims of tokens whose signature and claims already verified.

    A browser sends the same access token with every request for its whole
    lifetime, so the signature check runs once per token instead of once per
    request. Only the codec's work is cached: the caller still checks
    ``exp`` with leeway and revocation on every request. The cache empties
    whenever the key ring changes, so a removed key stops verifying at once.
    Failures are not cached.
    """

    def __init__(self, inner: TokenCodec, keys: KeyRingProvider, max_entries: int = DEFAULT_MAX_ENTRIES) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self._inner = inner
        self._keys = keys
        self._max_entries = max_entries
        self._entries: OrderedDict[str, AccessToken] = OrderedDict()
        self._ring: KeyRing | None = None

    def __len__(self) -> int:
        return len(self._entries)

    def encode(self, token: AccessToken) -> str:
        return self._inner.encode(token)

    def decode(self, raw: str) -> AccessToken:
        ring = self._keys.current()
        if ring is not self._ring:
            self._entries.clear()
            self._ring = ring

        cached = self._entries.get(raw)
        if cached is not None:
            self._entries.move_to_end(raw)
            return cached

        token = self._inner.decode(raw)
        self._entries[raw] = token
        if len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)
        return token
