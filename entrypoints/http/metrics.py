"""``GET /metrics`` in the Prometheus text format."""

from __future__ import annotations

from litestar import Response, get
from litestar.handlers import HTTPRouteHandler

from entrypoints.observability import Metrics


def metrics_route(metrics: Metrics) -> HTTPRouteHandler:
    """Return the handler that exposes ``metrics``; serve it only where the scraper, not the public, can reach it."""

    @get("/metrics", summary="Prometheus metrics", include_in_schema=False, sync_to_thread=False)
    def exposition() -> Response[bytes]:
        body, content_type = metrics.exposition()
        return Response(body, media_type=content_type)

    return exposition
