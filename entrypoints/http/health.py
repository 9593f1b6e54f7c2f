"""Liveness and readiness probes."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping

from litestar import Request, Response, get
from litestar.di import NamedDependency

from entrypoints.http.problems import problem

logger = logging.getLogger(__name__)

StoreCheck = Callable[[], Awaitable[None]]


class ReadinessChecks:
    """One ping per configured store, run by ``GET /health/ready``."""

    def __init__(self, checks: Mapping[str, StoreCheck]) -> None:
        self._checks = dict(checks)

    async def run(self) -> dict[str, str]:
        results = {}
        for name, check in self._checks.items():
            try:
                await check()
            except Exception as error:
                # A probe must respond, whatever the store client raises.
                logger.warning("readiness check of %s failed: %s: %s", name, type(error).__name__, error)
                results[name] = "unavailable"
            else:
                results[name] = "ok"
        return results


@get("/health/live", summary="The process is up", sync_to_thread=False)
def live() -> dict[str, str]:
    return {"status": "ok"}


@get("/health/ready", summary="Every configured store answers")
async def ready(request: Request, readiness: NamedDependency[ReadinessChecks]) -> Response:
    results = await readiness.run()
    if all(result == "ok" for result in results.values()):
        return Response({"status": "ready", "stores": results})
    response = problem(503, "store_unavailable", "a backing store is unavailable", request, stores=results)
    response.headers["Retry-After"] = "1"
    return response
