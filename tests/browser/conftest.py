"""A headless Chromium driven by Playwright against a real ``keyturn serve`` in development.

The tests need Debian's Chromium at ``/usr/bin/chromium`` and the Python
``playwright`` package. Without either they are skipped with the reason,
unless ``KEYTURN_REQUIRE_SERVICES=1`` makes that a failure. Playwright never
downloads a browser of its own here: it launches the system one.
"""

from __future__ import annotations

import importlib.util
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.processes import KEYTURN, clean_environment, start_keyturn, stop
from tests.integration.redis_support import skip_or_fail

CHROMIUM = Path("/usr/bin/chromium")
# Headless, and nothing that would reach the network on the browser's own behalf.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
EMAIL = "ada@example.com"
USERNAME = "ada"
PASSWORD = "correct horse battery staple"


@dataclass(frozen=True)
class Site:
    """A running ``keyturn serve`` and the account added to its database."""

    port: int
    login: str = EMAIL
    password: str = PASSWORD

    @property
    def url(self) -> str:
        # The page is opened as localhost, so any 127.0.0.1 origin is another site.
        return f"http://localhost:{self.port}"


def _keyturn(args: list[str], cwd: Path, env: dict[str, str], stdin: str | None = None) -> None:
    result = subprocess.run([KEYTURN, *args], cwd=cwd, env=env, input=stdin, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


@pytest.fixture(scope="module")
def start_site(browser) -> Iterator[Callable[..., Site]]:
    """Start ``keyturn serve`` in development on a fresh SQLite file with one account.

    Every server started this way is stopped after the test module.
    """
    processes: list[subprocess.Popen] = []
    folders: list[tempfile.TemporaryDirectory] = []

    def start(**settings: str) -> Site:
        folder = tempfile.TemporaryDirectory(prefix="keyturn-browser-")
        folders.append(folder)
        cwd = Path(folder.name)
        env = clean_environment(
            APP_ENV="development",
            KEYTURN_DATABASE_URL=f"sqlite:///{cwd / 'keyturn.sqlite3'}",
            **settings,
        )
        _keyturn(["db", "upgrade"], cwd, env)
        _keyturn(["users", "add", "--email", EMAIL, "--username", USERNAME, "--password-stdin"], cwd, env,
                 stdin=PASSWORD + "\n")
        port, process = start_keyturn(env, cwd)
        processes.append(process)
        return Site(port)

    yield start
    for process in processes:
        stop(process)
    for folder in folders:
        folder.cleanup()


@pytest.fixture(scope="module")
def site(start_site) -> Site:
    """A server with the default token lifetimes, shared by the tests that do not wait for expiry."""
    return start_site()


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        skip_or_fail(f"Chromium not installed at {CHROMIUM} (apt-get install chromium)")
    if importlib.util.find_spec("playwright") is None:
        skip_or_fail("the playwright package is not installed (pip install -e '.[test]')")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # Playwright gives the browser a fresh temporary profile and removes it on close.
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def context(browser):
    """A browser context of its own for each test: an empty cookie jar."""
    fresh = browser.new_context(viewport={"width": 900, "height": 640})
    fresh.set_default_timeout(10_000)
    try:
        yield fresh
    finally:
        fresh.close()


@pytest.fixture
def page(context):
    return context.new_page()
