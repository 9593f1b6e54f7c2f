"""The development sign-in page in a real browser: cookies, silent refresh, CSRF and logout."""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.browser.conftest import EMAIL, Site

pytestmark = pytest.mark.browser

KEYTURN_COOKIES = {"access_token", "refresh_token", "csrf_token"}
SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "signed-in.png"


def sign_in(page, site: Site) -> None:
    page.goto(site.url + "/")
    page.fill('input[name="login"]', site.login)
    page.fill('input[name="password"]', site.password)
    page.click('button[type="submit"]')
    wait_for_output(page, "log in -> 200")


def press(page, action: str) -> None:
    """Click an action button and wait until the page shows that action's response."""
    page.click(f'button[data-action="{action}"]')
    wait_for_output(page, f"{action} -> ")


def wait_for_output(page, prefix: str) -> None:
    from playwright.sync_api import expect

    expect(page.locator("#output")).to_have_text(re.compile("^" + re.escape(prefix)))


def output(page) -> str:
    return page.locator("#output").text_content()


def jar(context) -> dict[str, dict]:
    return {cookie["name"]: cookie for cookie in context.cookies()}


@pytest.fixture
def other_origin() -> Iterator[Callable[[str], str]]:
    """Serve one page from another site that posts a form to the given URL as soon as it loads."""
    target: dict[str, str] = {}

    class FormPage(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = (
                "<!doctype html><title>elsewhere</title>"
                f'<form method="post" action="{target["url"]}"></form>'
                "<script>document.forms[0].submit()</script>"
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), FormPage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def page_posting_to(url: str) -> str:
        target["url"] = url
        return f"http://127.0.0.1:{server.server_port}/"

    yield page_posting_to
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_sign_in_shows_user(page, site):
    sign_in(page, site)
    press(page, "me")

    assert output(page).startswith("me -> 200")
    assert EMAIL in output(page)


def test_script_reads_only_csrf_cookie(page, site):
    sign_in(page, site)
    readable = page.evaluate("document.cookie")

    assert "csrf_token=" in readable
    assert "access_token" not in readable
    assert "refresh_token" not in readable


def test_token_cookies_are_http_only(page, context, site):
    sign_in(page, site)
    cookies = jar(context)

    assert cookies["access_token"]["httpOnly"]
    assert cookies["refresh_token"]["httpOnly"]


def test_expired_access_refreshes_silently(page, context, start_site):
    site = start_site(KEYTURN_ACCESS_TTL="2", KEYTURN_LEEWAY="0")
    sign_in(page, site)
    before = jar(context)["access_token"]["value"]
    refreshes = []

    def record_refresh(response) -> None:
        if response.url.endswith("/auth/refresh"):
            refreshes.append(response.status)

    page.on("response", record_refresh)

    # Wait past the token's expiry. The access cookie's Max-Age has run out too, so the browser drops it.
    time.sleep(3)
    press(page, "me")

    assert output(page).startswith("me -> 200")
    assert refreshes == [200]
    assert jar(context)["access_token"]["value"] != before


def post_from_other_site(context, site: Site, other_origin, route: str) -> str:
    """Open the other site in a second tab, let its form post to ``route`` and return the Cookie header it sent."""
    tab = context.new_page()
    with tab.expect_response(lambda response: response.url.endswith(route)) as posted:
        # Only the commit is awaited: the form navigates away before that page would finish loading.
        tab.goto(other_origin(site.url + route), wait_until="commit")
    response = posted.value
    cookie_header = response.request.all_headers().get("cookie", "")
    tab.close()
    return cookie_header


@pytest.mark.parametrize("route", ["/auth/logout", "/auth/logout-all"])
def test_cross_site_post_sends_no_token(page, context, site, other_origin, route):
    sign_in(page, site)
    sent = post_from_other_site(context, site, other_origin, route)

    assert "access_token" not in sent


@pytest.mark.parametrize("route", ["/auth/logout", "/auth/logout-all"])
def test_cross_site_post_keeps_session(page, context, site, other_origin, route):
    sign_in(page, site)
    post_from_other_site(context, site, other_origin, route)
    press(page, "me")

    assert output(page).startswith("me -> 200")


def test_sessions_lists_current(page, site):
    sign_in(page, site)
    press(page, "sessions")

    assert output(page).startswith("sessions -> 200")
    assert '"current": true' in output(page)


@pytest.mark.parametrize("action", ["logout", "logout-all"])
def test_logout_clears_cookies(page, context, site, action):
    sign_in(page, site)
    press(page, action)

    assert output(page).startswith(f"{action} -> 204")
    assert not KEYTURN_COOKIES & jar(context).keys()


def test_signed_in_screenshot(page, site):
    sign_in(page, site)
    press(page, "me")
    page.set_viewport_size({"width": 900, "height": 400})
    image = page.screenshot(full_page=True)

    assert image.startswith(b"\x89PNG\r\n\x1a\n")
    # Rewriting the picture in the docs is opt-in, so an ordinary run leaves the tree clean.
    if os.environ.get("KEYTURN_UPDATE_SCREENSHOT") == "1":
        SCREENSHOT.write_bytes(image)
