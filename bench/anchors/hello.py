"""Anchor (A): a Litestar app whose only route returns a small JSON object."""

from __future__ import annotations

from litestar import Litestar, get


@get("/hello", sync_to_thread=False)
def hello() -> dict[str, str]:
    return {"message": "hello"}


app = Litestar(route_handlers=[hello])
