"""Prometheus metrics and per-request logging with a request id."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from domain.audit import AuditEvent

logger = logging.getLogger("keyturn.requests")

REQUEST_ID_HEADER = b"x-request-id"
# A caller's id is echoed into logs and headers, so only a safe shape is kept.
_REQUEST_ID_PATTERN = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_STORE_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class Metrics:
    """Every Keyturn metric, on a registry of its own so that several apps in one process never clash."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.audit_events = Counter(
            "keyturn_audit_events", "Audit events by type and outcome: logins, refreshes, logouts, throttling",
            ["event", "outcome"], registry=self.registry,
        )
        self.verifications = Counter(
            "keyturn_token_verifications", "Access-token verifications by result (ok or the error code)",
            ["result"], registry=self.registry,
        )
        # Bound once: every authenticated request counts one, and labels() costs a lookup and a lock.
        self.verified_ok = self.verifications.labels("ok")
        self.errors = Counter(
            "keyturn_http_errors", "Problem responses by status and code", ["status", "code"], registry=self.registry,
        )
        self.revocation_replica_current = Gauge(
            "keyturn_revocation_replica_current",
            "1 while this process checks revocation in its up-to-date replica, 0 while it reads the store",
            registry=self.registry,
        )
        self.store_seconds = Histogram(
            "keyturn_store_call_seconds", "Duration of store calls", ["store", "operation"],
            buckets=_STORE_BUCKETS, registry=self.registry,
        )

    def exposition(self) -> tuple[bytes, str]:
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


class MetricsAuditSink:
    """Counts audit events, so login, refresh and throttling counts come from one source of truth."""

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    async def record(self, event: AuditEvent) -> None:
        self._metrics.audit_events.labels(event.type.value, event.outcome.value).inc()


class TimedStore:
    """Wraps a store and records how long each of its coroutine methods takes."""

    def __init__(self, store: object, name: str, metrics: Metrics) -> None:
        self._store = store
        self._name = name
        self._metrics = metrics

    def __getattr__(self, attribute: str) -> Any:
        target = getattr(self._store, attribute)
        if not callable(target):
            return target
        histogram = self._metrics.store_seconds.labels(self._name, attribute)

        async def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return await target(*args, **kwargs)
            finally:
                histogram.observe(time.perf_counter() - started)

        # Kept on the instance, so later calls skip __getattr__ and the label lookup.
        setattr(self, attribute, timed)
        return timed


def request_id_of(scope: Scope) -> str | None:
    return scope.get("state", {}).get("request_id")


def request_logging(app: ASGIApp) -> ASGIApp:
    """Give each HTTP request an id (``X-Request-ID`` when valid, else a new one), echo it, and log the request."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        request_id = _incoming_request_id(scope) or uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (REQUEST_ID_HEADER, request_id.encode("ascii"))]
            await send(message)

        try:
            await app(scope, receive, send_with_id)
        finally:
            logger.info(
                "%s %s %d %.1fms",
                scope["method"],
                scope["path"],
                status,
                (time.perf_counter() - started) * 1000,
                extra={"request_id": request_id, "status": status},
            )

    return middleware


def _incoming_request_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == REQUEST_ID_HEADER:
            candidate = value.decode("latin-1")
            return candidate if _REQUEST_ID_PATTERN.fullmatch(candidate) else None
    return None
