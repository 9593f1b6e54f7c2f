"""``GET /.well-known/jwks.json`` and the SIGHUP hook that reloads the key ring.

Wiring: ``create_app`` adds ``jwks_route(source)`` to its route handlers and
``SighupReload(source)`` hooks to ``on_startup`` and ``on_shutdown``, where
``source`` is the container's ``KeyRingSource``.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from typing import Any

from litestar import Response, get
from litestar.handlers import HTTPRouteHandler

from adapters.key_directory import KeyRingSource
from adapters.keys import public_jwks
from domain.keys import KeyRing

logger = logging.getLogger(__name__)

JWKS_PATH = "/.well-known/jwks.json"


def jwks_route(source: KeyRingSource) -> HTTPRouteHandler:
    """Build the handler that publishes the public keys of ``source``'s current ring.

    The set (RFC 7517 section 5) contains the active, pending and retired
    EdDSA and ES256 keys, each with ``kid``, ``alg`` and ``use: sig``. HS256
    keys are never published, so a ring of HS256 keys alone gives
    ``{"keys": []}``. Caches may keep the response for one reload interval,
    the time any process may take to notice a new key anyway.
    """
    max_age = int(source.reload_interval.total_seconds())
    headers = {"Cache-Control": f"public, max-age={max_age}"}
    published = _PublishedKeySet()

    @get(JWKS_PATH, summary="Public keys that verify Keyturn access tokens", tags=["keys"], sync_to_thread=False)
    def jwks() -> Response[dict[str, Any]]:
        return Response(published.document(source.current()), media_type="application/json", headers=headers)

    return jwks


class _PublishedKeySet:
    """The JWK Set of the last ring seen, rebuilt only when the source returns another ring."""

    def __init__(self) -> None:
        self._ring: KeyRing | None = None
        self._document: dict[str, Any] = {"keys": []}

    def document(self, ring: KeyRing) -> dict[str, Any]:
        if ring is not self._ring:
            self._document = public_jwks(ring)
            self._ring = ring
        return self._document


class SighupReload:
    """Startup and shutdown hooks that make SIGHUP reread the key directory at once."""

    def __init__(self, source: KeyRingSource) -> None:
        self._source = source

    async def install(self) -> None:
        try:
            asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, self._reload)
        except (NotImplementedError, RuntimeError, ValueError) as error:
            # Signals reach only the main thread, and not every platform has SIGHUP.
            logger.warning("SIGHUP will not reload the key ring: %s", error)

    async def remove(self) -> None:
        try:
            asyncio.get_running_loop().remove_signal_handler(signal.SIGHUP)
        except (NotImplementedError, RuntimeError, ValueError):
            pass

    def _reload(self) -> None:
        logger.info("SIGHUP received, reloading the key ring")
        self._source.reload_now()
