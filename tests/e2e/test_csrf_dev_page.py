"""The development sign-in page: served in development only, and it sends the CSRF header."""

from __future__ import annotations

import re

from adapters.sql import migrate
from tests.e2e.conftest import make_settings, running_service
from tests.e2e.http_helpers import assert_problem


async def test_page_is_served_in_development(legacy_db):
    settings = make_settings(legacy_db, APP_ENV="development", KEYTURN_COOKIE_SECURE="true")
    await migrate.upgrade(settings.database_url, settings.users_table)
    async with running_service(settings, "sqlite") as service:
        response = await service.client.get("/")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    for path in ("/auth/login", "/auth/me", "/auth/refresh", "/auth/sessions", "/auth/logout", "/auth/logout-all"):
        assert f'"{path}"' in page
    assert "X-CSRF-Token" in page
    assert "token_expired" in page
    assert 'content="csrf_token"' in page
    # No external resources: every URL the page names is a same-origin path.
    assert not re.search(r"(src|href)=\"(https?:)?//", page)
    nonce = re.search(r"script-src 'nonce-([^']+)'", response.headers["content-security-policy"]).group(1)
    assert f'<script nonce="{nonce}">' in page


async def test_page_is_absent_outside_development(service):
    assert_problem(await service.client.get("/"), 404, "not_found")
