"""Settings read from the environment, validated once at start-up.

``APP_ENV`` selects the environment (``FLASK_ENV`` is honoured as a legacy
alias). When neither is set the environment is production, so a forgotten
variable can only make Keyturn stricter, never looser.
"""

from __future__ import annotations

import enum
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from adapters.passwords import PASSWORD_SCHEMES
from adapters.sql.users_table import UsersTableSpec
from domain.client_address import Network, parse_trusted_proxies
from domain.clock import Leeway
from domain.errors import ConfigurationError
from domain.legacy import DEFAULT_LEGACY_MAX_AGE
from domain.password_policy import PasswordPolicy
from domain.policy import TokenPolicy
from domain.throttling import DEFAULT_MAX_FAILURES, DEFAULT_MAX_FAILURES_PER_ADDRESS, DEFAULT_WINDOW, ThrottlePolicy
from domain.tokens import TokenLifetimes

MIN_SECRET_BYTES = 32
STORE_KINDS = ("sql", "redis", "memory")
AUDIT_SINKS = ("log", "sql")
REVOCATION_CHECKS = ("replica", "direct")
DEFAULT_DATABASE_URL = "sqlite:///var/keyturn.sqlite3"
DEV_SECRET_FILE = Path("var/dev-session-secret")
HOST_PREFIX = "__Host-"
SECURE_PREFIX = "__Secure-"


class Environment(enum.Enum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


@dataclass(frozen=True, slots=True)
class CookieSettings:
    """Attributes of the token and CSRF cookies (RFC 6265bis).

    With ``host_prefix`` the access and CSRF cookies are named ``__Host-...``,
    which browsers accept only with Secure, ``Path=/`` and no Domain
    (RFC 6265bis section 4.1.3.2), so no sibling subdomain can plant or
    overwrite them. The refresh cookie lives on ``/auth`` to reach only the
    auth routes, which ``__Host-`` forbids, so it gets ``__Secure-`` instead:
    it still cannot be set over plain HTTP, and the refresh route checks the
    CSRF token against its session anyway.
    """

    secure: bool = True
    samesite: str = "lax"
    domain: str | None = None
    access_path: str = "/"
    refresh_path: str = "/auth"
    host_prefix: bool = False

    @property
    def access_name(self) -> str:
        return f"{HOST_PREFIX}access_token" if self.host_prefix else "access_token"

    @property
    def refresh_name(self) -> str:
        return f"{SECURE_PREFIX}refresh_token" if self.host_prefix else "refresh_token"

    @property
    def csrf_name(self) -> str:
        return f"{HOST_PREFIX}csrf_token" if self.host_prefix else "csrf_token"

    @property
    def csrf_path(self) -> str:
        # Readable by scripts on every page, which must copy it into a header.
        return "/"

    @property
    def uses_revocation_replica(self) -> bool:
        """A shared store gets a per-process replica unless direct reads are asked for; memory needs none."""
        return self.revocation_check == "replica" and self.stores.revocation != "memory"

    def _validate_revocation_check(self) -> None:
        if self.revocation_check not in REVOCATION_CHECKS:
            raise ConfigurationError(
                f"KEYTURN_REVOCATION_CHECK must be one of {', '.join(REVOCATION_CHECKS)}, got {self.revocation_check!r}"
            )
        poll_ms = self.revocation_poll_interval / timedelta(milliseconds=1)
        if not 1 <= poll_ms <= 10_000:
            raise ConfigurationError(f"KEYTURN_REVOCATION_POLL_MS must be between 1 and 10000, got {poll_ms:g}")

    def validate(self) -> None:
        if self.samesite == "none" and not self.secure:
            raise ConfigurationError("KEYTURN_COOKIE_SAMESITE=none requires KEYTURN_COOKIE_SECURE=true")
        if not self.host_prefix:
            return
        if not self.secure:
            raise ConfigurationError("KEYTURN_COOKIE_HOST_PREFIX=true requires KEYTURN_COOKIE_SECURE=true")
        if self.access_path != "/":
            raise ConfigurationError("KEYTURN_COOKIE_HOST_PREFIX=true requires KEYTURN_COOKIE_PATH=/")
        if self.domain is not None:
            raise ConfigurationError("KEYTURN_COOKIE_HOST_PREFIX=true requires KEYTURN_COOKIE_DOMAIN to be unset")


@dataclass(frozen=True, slots=True)
class LegacySessionSettings:
    """How to find and accept the legacy Flask session cookie at ``POST /auth/session-exchange``."""

    cookie_name: str = "session"
    domain: str | None = None
    max_age: timedelta = DEFAULT_LEGACY_MAX_AGE


@dataclass(frozen=True, slots=True)
class StoreSettings:
    """The backends of the stores, and how long a call to one may take.

    ``redis_url`` may contain a password, so it is hidden from ``repr``.
    """

    redis_url: str | None = field(default=None, repr=False)
    redis_prefix: str = "keyturn:"
    revocation: str = "sql"
    refresh: str = "sql"
    login_attempts: str = "sql"
    timeout_seconds: float = 0.25

    @property
    def uses_redis(self) -> bool:
        return "redis" in (self.revocation, self.refresh, self.login_attempts)


@dataclass(frozen=True, slots=True)
class Settings:
    environment: Environment
    session_secret: str = field(repr=False)
    previous_secrets: tuple[str, ...] = field(default=(), repr=False)
    database_url: str = DEFAULT_DATABASE_URL
    token_policy: TokenPolicy = field(default_factory=TokenPolicy)
    cookies: CookieSettings = field(default_factory=CookieSettings)
    legacy: LegacySessionSettings = field(default_factory=LegacySessionSettings)
    users_table: UsersTableSpec = field(default_factory=UsersTableSpec)
    password_policy: PasswordPolicy = field(default_factory=PasswordPolicy)
    password_scheme: str = "scrypt"
    stores: StoreSettings = field(default_factory=lambda: StoreSettings())
    key_dir: Path | None = None
    key_reload_interval: timedelta = timedelta(seconds=10)
    login_throttle: ThrottlePolicy = field(default_factory=ThrottlePolicy)
    rehash_on_login: bool = False
    trusted_proxies: tuple[Network, ...] = ()
    audit_sinks: tuple[str, ...] = ("log", "sql")
    request_log: bool = True
    token_cache_size: int = 10_000
    revocation_check: str = "replica"
    revocation_poll_interval: timedelta = timedelta(milliseconds=20)

    @property
    def is_development(self) -> bool:
        return self.environment is Environment.DEVELOPMENT

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read and validate every setting; raise ``ConfigurationError`` naming the variable to fix."""
        env = os.environ if environ is None else environ
        environment = _environment(env)
        settings = cls(
            environment=environment,
            session_secret=_session_secret(env, environment),
            previous_secrets=_split(env.get("SESSION_SECRET_PREVIOUS", "")),
            database_url=env.get("KEYTURN_DATABASE_URL", DEFAULT_DATABASE_URL),
            token_policy=_token_policy(env),
            cookies=_cookie_settings(env, environment),
            legacy=_legacy_settings(env),
            users_table=UsersTableSpec.from_environ(env),
            password_policy=PasswordPolicy(min_length=_integer(env, "KEYTURN_PASSWORD_MIN_LENGTH", 8)),
            password_scheme=env.get("KEYTURN_PASSWORD_SCHEME", "scrypt").strip().lower(),
            stores=_store_settings(env),
            key_dir=_key_dir(env),
            key_reload_interval=_seconds(env, "KEYTURN_KEY_RELOAD_SECONDS", 10, minimum=1),
            login_throttle=_login_throttle(env),
            rehash_on_login=_boolean(env, "KEYTURN_REHASH_ON_LOGIN", False),
            trusted_proxies=parse_trusted_proxies(env.get("KEYTURN_TRUSTED_PROXIES", "")),
            audit_sinks=_audit_sinks(env),
            request_log=_boolean(env, "KEYTURN_REQUEST_LOG", True),
            token_cache_size=_integer(env, "KEYTURN_TOKEN_CACHE_SIZE", 10_000),
            revocation_check=env.get("KEYTURN_REVOCATION_CHECK", "replica").strip().lower(),
            revocation_poll_interval=timedelta(milliseconds=_integer(env, "KEYTURN_REVOCATION_POLL_MS", 20)),
        )
        settings.validate()
        return settings

    @property
    def uses_revocation_replica(self) -> bool:
        """A shared store gets a per-process replica unless direct reads are asked for; memory needs none."""
        return self.revocation_check == "replica" and self.stores.revocation != "memory"

    def _validate_revocation_check(self) -> None:
        if self.revocation_check not in REVOCATION_CHECKS:
            raise ConfigurationError(
                f"KEYTURN_REVOCATION_CHECK must be one of {', '.join(REVOCATION_CHECKS)}, got {self.revocation_check!r}"
            )
        poll_ms = self.revocation_poll_interval / timedelta(milliseconds=1)
        if not 1 <= poll_ms <= 10_000:
            raise ConfigurationError(f"KEYTURN_REVOCATION_POLL_MS must be between 1 and 10000, got {poll_ms:g}")

    def validate(self) -> None:
        cookies = self.cookies
        if self.password_scheme not in PASSWORD_SCHEMES:
            raise ConfigurationError(
                f"KEYTURN_PASSWORD_SCHEME must be one of {', '.join(PASSWORD_SCHEMES)}, got {self.password_scheme!r}"
            )
        cookies.validate()
        self._validate_stores()
        if self.token_cache_size < 0:
            raise ConfigurationError(f"KEYTURN_TOKEN_CACHE_SIZE must be 0 (off) or more, got {self.token_cache_size}")
        self._validate_revocation_check()
        if self.environment is not Environment.PRODUCTION:
            return
        if "memory" in (self.stores.revocation, self.stores.refresh, self.stores.login_attempts):
            raise ConfigurationError(
                "KEYTURN_REVOCATION_STORE, KEYTURN_REFRESH_STORE and KEYTURN_LOGIN_ATTEMPT_STORE must not be memory "
                "in production, because their state would vanish on restart and differ between processes"
            )
        if len(self.session_secret.encode("utf-8")) < MIN_SECRET_BYTES:
            raise ConfigurationError(
                f"SESSION_SECRET must be set to at least {MIN_SECRET_BYTES} bytes in production"
            )
        if not cookies.secure:
            raise ConfigurationError("KEYTURN_COOKIE_SECURE=false is allowed only with APP_ENV=development")

    def _validate_stores(self) -> None:
        kinds = (
            ("KEYTURN_REVOCATION_STORE", self.stores.revocation),
            ("KEYTURN_REFRESH_STORE", self.stores.refresh),
            ("KEYTURN_LOGIN_ATTEMPT_STORE", self.stores.login_attempts),
        )
        for name, kind in kinds:
            if kind not in STORE_KINDS:
                raise ConfigurationError(f"{name} must be one of {', '.join(STORE_KINDS)}, got {kind!r}")
            if kind == "redis" and not self.stores.redis_url:
                raise ConfigurationError(f"{name}=redis requires KEYTURN_REDIS_URL")


def _environment(env: Mapping[str, str]) -> Environment:
    app_env = env.get("APP_ENV", "").strip().lower()
    flask_env = env.get("FLASK_ENV", "").strip().lower()
    if app_env and flask_env and app_env != flask_env:
        raise ConfigurationError(f"APP_ENV={app_env} and FLASK_ENV={flask_env} disagree; unset FLASK_ENV")
    name = app_env or flask_env or Environment.PRODUCTION.value
    try:
        return Environment(name)
    except ValueError:
        allowed = ", ".join(item.value for item in Environment)
        raise ConfigurationError(f"APP_ENV must be one of {allowed}, got {name!r}") from None


def _session_secret(env: Mapping[str, str], environment: Environment) -> str:
    secret = env.get("SESSION_SECRET", "")
    if secret or environment is Environment.PRODUCTION:
        return secret
    return _development_secret()


def _development_secret() -> str:
    """Return a random secret kept in ``var/`` so that development restarts keep sessions."""
    if DEV_SECRET_FILE.exists():
        return DEV_SECRET_FILE.read_text(encoding="utf-8").strip()
    DEV_SECRET_FILE.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    DEV_SECRET_FILE.write_text(secret, encoding="utf-8")
    DEV_SECRET_FILE.chmod(0o600)
    return secret


def _token_policy(env: Mapping[str, str]) -> TokenPolicy:
    lifetimes = TokenLifetimes(
        access=_seconds(env, "KEYTURN_ACCESS_TTL", 15 * 60, minimum=1),
        refresh=_seconds(env, "KEYTURN_REFRESH_TTL", 14 * 24 * 3600, minimum=1),
    )
    return TokenPolicy(
        issuer=env.get("KEYTURN_ISSUER", "keyturn"),
        audience=env.get("KEYTURN_AUDIENCE", "keyturn"),
        lifetimes=lifetimes,
        leeway=Leeway(_seconds(env, "KEYTURN_LEEWAY", 60, minimum=0)),
        refresh_reuse_grace=_seconds(env, "KEYTURN_REFRESH_REUSE_GRACE", 10, minimum=0),
    )


def _cookie_settings(env: Mapping[str, str], environment: Environment) -> CookieSettings:
    samesite = env.get("KEYTURN_COOKIE_SAMESITE", "lax").strip().lower()
    if samesite not in {"lax", "strict", "none"}:
        raise ConfigurationError(f"KEYTURN_COOKIE_SAMESITE must be lax, strict or none, got {samesite!r}")
    # Development serves plain http://127.0.0.1, where a browser drops Secure
    # cookies unless the host is literally "localhost", so Secure is off there.
    secure_default = environment is not Environment.DEVELOPMENT
    return CookieSettings(
        secure=_boolean(env, "KEYTURN_COOKIE_SECURE", secure_default),
        samesite=samesite,
        domain=env.get("KEYTURN_COOKIE_DOMAIN") or None,
        access_path=_path(env, "KEYTURN_COOKIE_PATH", "/"),
        refresh_path=_path(env, "KEYTURN_REFRESH_COOKIE_PATH", "/auth"),
        host_prefix=_boolean(env, "KEYTURN_COOKIE_HOST_PREFIX", False),
    )


def _legacy_settings(env: Mapping[str, str]) -> LegacySessionSettings:
    name = env.get("KEYTURN_LEGACY_COOKIE_NAME", "").strip() or "session"
    if any(char in name for char in "=;, \t\r\n\"()<>@:/[]?{}\\"):
        raise ConfigurationError(f"KEYTURN_LEGACY_COOKIE_NAME must be a cookie name token, got {name!r}")
    return LegacySessionSettings(
        cookie_name=name,
        domain=env.get("KEYTURN_LEGACY_COOKIE_DOMAIN", "").strip() or None,
        max_age=_seconds(
            env, "KEYTURN_LEGACY_SESSION_MAX_AGE", int(DEFAULT_LEGACY_MAX_AGE.total_seconds()), minimum=1
        ),
    )


def _key_dir(env: Mapping[str, str]) -> Path | None:
    raw = env.get("KEYTURN_KEY_DIR", "").strip()
    return Path(raw) if raw else None


def _audit_sinks(env: Mapping[str, str]) -> tuple[str, ...]:
    sinks = _split(env.get("KEYTURN_AUDIT_SINKS", "log,sql").lower())
    unknown = sorted(set(sinks) - set(AUDIT_SINKS))
    if unknown or not sinks:
        raise ConfigurationError(
            f"KEYTURN_AUDIT_SINKS must list one or more of {', '.join(AUDIT_SINKS)}, got {', '.join(unknown) or 'nothing'}"
        )
    return sinks


def _login_throttle(env: Mapping[str, str]) -> ThrottlePolicy:
    return ThrottlePolicy(
        max_failures=_integer(env, "KEYTURN_LOGIN_MAX_FAILURES", DEFAULT_MAX_FAILURES),
        max_failures_per_address=_integer(
            env, "KEYTURN_LOGIN_MAX_FAILURES_PER_ADDRESS", DEFAULT_MAX_FAILURES_PER_ADDRESS
        ),
        window=_seconds(env, "KEYTURN_LOGIN_WINDOW", int(DEFAULT_WINDOW.total_seconds()), minimum=1),
    )


def _store_settings(env: Mapping[str, str]) -> StoreSettings:
    redis_url = env.get("KEYTURN_REDIS_URL", "").strip() or None
    default_kind = "redis" if redis_url else "sql"
    timeout_ms = _integer(env, "KEYTURN_STORE_TIMEOUT_MS", 250)
    if not 1 <= timeout_ms <= 60_000:
        raise ConfigurationError(f"KEYTURN_STORE_TIMEOUT_MS must be between 1 and 60000, got {timeout_ms}")
    return StoreSettings(
        redis_url=redis_url,
        redis_prefix=env.get("KEYTURN_REDIS_PREFIX", "keyturn:"),
        revocation=env.get("KEYTURN_REVOCATION_STORE", default_kind).strip().lower(),
        refresh=env.get("KEYTURN_REFRESH_STORE", default_kind).strip().lower(),
        login_attempts=env.get("KEYTURN_LOGIN_ATTEMPT_STORE", default_kind).strip().lower(),
        timeout_seconds=timeout_ms / 1000,
    )


def _seconds(env: Mapping[str, str], name: str, default: int, *, minimum: int) -> timedelta:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return timedelta(seconds=default)
    try:
        value = int(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be a whole number of seconds, got {raw!r}") from None
    if value < minimum:
        raise ConfigurationError(f"{name} must be at least {minimum} seconds, got {value}")
    return timedelta(seconds=value)


def _integer(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be a whole number, got {raw!r}") from None


def _boolean(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if raw == "":
        return default
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise ConfigurationError(f"{name} must be true or false, got {raw!r}")


def _path(env: Mapping[str, str], name: str, default: str) -> str:
    value = env.get(name) or default
    if not value.startswith("/") or any(char in value for char in ";, \t\r\n"):
        raise ConfigurationError(f"{name} must be an absolute URL path such as /auth, got {value!r}")
    return value


def _split(raw: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in raw.split(",") if part.strip())
