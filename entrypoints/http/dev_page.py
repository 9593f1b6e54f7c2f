"""``GET /``: a small sign-in page for trying Keyturn out, served in development only.

The page is plain HTML with an inline script and loads nothing from other
origins. Its Content-Security-Policy allows only that script and style, by a
nonce made for each response, so the page cannot be made to run anything else.
"""

from __future__ import annotations

import secrets
from importlib.resources import files

from litestar import Response, get
from litestar.handlers import HTTPRouteHandler

PAGE = files("entrypoints.http").joinpath("static/dev.html")


def dev_page_route(csrf_cookie_name: str) -> HTTPRouteHandler:
    """Build the handler; ``create_app`` registers it only when ``APP_ENV=development``."""
    template = PAGE.read_text(encoding="utf-8").replace("{{CSRF_COOKIE}}", csrf_cookie_name)

    @get("/", include_in_schema=False, sync_to_thread=False, opt={"exclude_from_auth": True})
    def dev_page() -> Response[str]:
        nonce = secrets.token_urlsafe(16)
        policy = f"default-src 'none'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
        return Response(
            template.replace("{{NONCE}}", nonce),
            media_type="text/html",
            headers={"Content-Security-Policy": policy, "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"},
        )

    return dev_page
