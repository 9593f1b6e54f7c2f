from datetime import timedelta

import pytest

from domain.errors import ConfigurationError
from entrypoints.settings import Environment, Settings

GOOD_SECRET = "s" * 32


def settings(**environ: str) -> Settings:
    return Settings.from_environ(environ)


def test_unset_environment_means_production():
    with pytest.raises(ConfigurationError, match="SESSION_SECRET"):
        settings()


def test_production_defaults():
    result = settings(SESSION_SECRET=GOOD_SECRET)

    assert result.environment is Environment.PRODUCTION
    assert result.cookies.secure is True
    assert result.cookies.samesite == "lax"
    assert result.cookies.access_path == "/"
    assert result.cookies.refresh_path == "/auth"
    assert result.token_policy.leeway.delta == timedelta(seconds=60)
    assert result.token_policy.lifetimes.access == timedelta(minutes=15)


def test_production_rejects_short_secret():
    with pytest.raises(ConfigurationError, match="SESSION_SECRET"):
        settings(APP_ENV="production", SESSION_SECRET="s" * 31)


def test_production_rejects_insecure_cookies():
    with pytest.raises(ConfigurationError, match="KEYTURN_COOKIE_SECURE"):
        settings(APP_ENV="production", SESSION_SECRET=GOOD_SECRET, KEYTURN_COOKIE_SECURE="false")


def test_samesite_none_requires_secure():
    with pytest.raises(ConfigurationError, match="KEYTURN_COOKIE_SAMESITE"):
        settings(APP_ENV="test", SESSION_SECRET=GOOD_SECRET, KEYTURN_COOKIE_SAMESITE="none",
                 KEYTURN_COOKIE_SECURE="false")


def test_flask_env_alias():
    assert settings(FLASK_ENV="development", SESSION_SECRET=GOOD_SECRET).environment is Environment.DEVELOPMENT


def test_conflicting_environment_names():
    with pytest.raises(ConfigurationError, match="FLASK_ENV"):
        settings(APP_ENV="production", FLASK_ENV="development", SESSION_SECRET=GOOD_SECRET)


def test_unknown_environment():
    with pytest.raises(ConfigurationError, match="APP_ENV"):
        settings(APP_ENV="staging", SESSION_SECRET=GOOD_SECRET)


def test_development_relaxes_secure_cookie():
    assert settings(APP_ENV="development", SESSION_SECRET=GOOD_SECRET).cookies.secure is False


@pytest.mark.parametrize(("value", "message"), [("121", "KEYTURN_LEEWAY"), ("abc", "KEYTURN_LEEWAY"), ("-1", "KEYTURN_LEEWAY")])
def test_leeway_validated(value, message):
    with pytest.raises(ConfigurationError, match=message):
        settings(SESSION_SECRET=GOOD_SECRET, KEYTURN_LEEWAY=value)


@pytest.mark.parametrize("value", ["auth", "/a;b", "/a b"])
def test_cookie_path_validated(value):
    with pytest.raises(ConfigurationError, match="KEYTURN_COOKIE_PATH"):
        settings(SESSION_SECRET=GOOD_SECRET, KEYTURN_COOKIE_PATH=value)


def test_settings_repr_hides_secret():
    assert GOOD_SECRET not in repr(settings(SESSION_SECRET=GOOD_SECRET))
