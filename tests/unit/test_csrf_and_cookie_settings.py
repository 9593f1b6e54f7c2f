"""CSRF token derivation and the cookie and legacy-session settings."""

from __future__ import annotations

from datetime import timedelta

import pytest

from adapters.csrf_tokens import CsrfTokens, derive_csrf_key
from adapters.keys import derive_hs256_key
from domain.errors import ConfigurationError
from entrypoints.settings import Settings

SECRET = "unit-test-secret-that-is-long-enough-0123456789"


def test_token_bound_to_session():
    tokens = CsrfTokens(SECRET)

    assert tokens.token_for("session-1") == tokens.token_for("session-1")
    assert tokens.token_for("session-1") != tokens.token_for("session-2")
    assert tokens.matches("session-1", tokens.token_for("session-1"))
    assert not tokens.matches("session-2", tokens.token_for("session-1"))
    assert not tokens.matches("session-1", "")
    assert not tokens.matches("session-1", "é" * 43)


def test_csrf_key_differs_from_signing_key():
    assert derive_csrf_key(SECRET) != derive_hs256_key(SECRET).material


def test_previous_secret_tokens_match():
    old = CsrfTokens("the-old-secret-0123456789abcdef0123456789")
    rotated = CsrfTokens(SECRET, ["the-old-secret-0123456789abcdef0123456789"])

    assert rotated.matches("session-1", old.token_for("session-1"))
    assert rotated.token_for("session-1") != old.token_for("session-1")
    assert not CsrfTokens(SECRET).matches("session-1", old.token_for("session-1"))


def settings(**env: str) -> Settings:
    return Settings.from_environ({"APP_ENV": "test", "SESSION_SECRET": SECRET, **env})


def test_default_cookie_and_legacy_settings():
    current = settings()

    assert (current.cookies.access_name, current.cookies.refresh_name, current.cookies.csrf_name) == (
        "access_token",
        "refresh_token",
        "csrf_token",
    )
    assert current.legacy.cookie_name == "session"
    assert current.legacy.domain is None
    assert current.legacy.max_age == timedelta(days=31)


def test_host_prefix_renames_the_cookies():
    cookies = settings(KEYTURN_COOKIE_HOST_PREFIX="true").cookies

    assert (cookies.access_name, cookies.refresh_name, cookies.csrf_name) == (
        "__Host-access_token",
        "__Secure-refresh_token",
        "__Host-csrf_token",
    )


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"KEYTURN_COOKIE_SECURE": "false"}, "KEYTURN_COOKIE_SECURE"),
        ({"KEYTURN_COOKIE_PATH": "/app"}, "KEYTURN_COOKIE_PATH"),
        ({"KEYTURN_COOKIE_DOMAIN": "example.com"}, "KEYTURN_COOKIE_DOMAIN"),
    ],
)
def test_host_prefix_requirements(env, named):
    with pytest.raises(ConfigurationError, match=named):
        settings(KEYTURN_COOKIE_HOST_PREFIX="true", **env)


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"KEYTURN_COOKIE_SAMESITE": "none", "KEYTURN_COOKIE_SECURE": "false"}, "KEYTURN_COOKIE_SAMESITE"),
        ({"KEYTURN_COOKIE_HOST_PREFIX": "maybe"}, "KEYTURN_COOKIE_HOST_PREFIX"),
        ({"KEYTURN_LEGACY_SESSION_MAX_AGE": "0"}, "KEYTURN_LEGACY_SESSION_MAX_AGE"),
        ({"KEYTURN_LEGACY_SESSION_MAX_AGE": "a month"}, "KEYTURN_LEGACY_SESSION_MAX_AGE"),
        ({"KEYTURN_LEGACY_COOKIE_NAME": "my session"}, "KEYTURN_LEGACY_COOKIE_NAME"),
    ],
)
def test_invalid_settings_named(env, named):
    with pytest.raises(ConfigurationError, match=named):
        settings(**env)
