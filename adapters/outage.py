"""Logging of store outages once per burst instead of once per request."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable


class OutageLog:
    """Tracks whether a store is failing and logs only the transitions.

    The first failure of a burst is logged as an error with its cause; later
    failures only increment ``failures`` until a success logs the recovery.
    """

    def __init__(self, store: str, logger: logging.Logger, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._store = store
        self._logger = logger
        self._monotonic = monotonic
        self._down_since: float | None = None
        self.failures = 0

    @property
    def is_down(self) -> bool:
        return self._down_since is not None

    def failed(self, error: BaseException) -> None:
        self.failures += 1
        if self._down_since is None:
            self._down_since = self._monotonic()
            self._logger.error("%s is unavailable: %s: %s", self._store, type(error).__name__, error)

    def succeeded(self) -> None:
        if self._down_since is None:
            return
        seconds = self._monotonic() - self._down_since
        self._logger.warning("%s is available again after %.1f s and %d failed calls", self._store, seconds, self.failures)
        self._down_since = None
        self.failures = 0
