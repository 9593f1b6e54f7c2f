"""Login throttling: limits on failed logins, the counter keys, and the error a throttled login gets.

Rules (OWASP Authentication Cheat Sheet, "Protect against automated attacks"):

- Failed logins are counted in fixed windows that start at the first failure.
- One counter is kept per login name and client address together. Once it
  reaches ``max_failures`` within the window, that pair is refused until the
  window ends, before any password is checked. A real user on another
  network is not locked out by someone guessing their password.
- A second counter is kept per client address across every login name, with
  a higher limit, so that one address cannot try a few passwords on each of
  many accounts.
- A successful login clears the pair's counter only. The address counter
  keeps counting, or an attacker who owns one account could clear it at will.
- Counter keys contain the SHA-256 digest of the normalized login name, never
  the name itself, so a store's keys do not list people's emails.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.errors import ConfigurationError, KeyturnError

DEFAULT_MAX_FAILURES = 5
DEFAULT_MAX_FAILURES_PER_ADDRESS = 50
DEFAULT_WINDOW = timedelta(minutes=15)
# A host that controls one IPv6 address usually controls its whole /64
# (RFC 4291 interface identifiers), so the address counter covers the /64.
IPV6_PREFIX_LENGTH = 64
# Values of ``LoginThrottled.limit``.
PAIR_LIMIT = "login_and_address"
ADDRESS_LIMIT = "address"
# Longer strings are cut, so a client address that is not an IP address
# cannot make a counter key arbitrarily long.
MAX_ADDRESS_KEY_LENGTH = 64


@dataclass(frozen=True, slots=True)
class ThrottlePolicy:
    """The limits on failed logins, from ``KEYTURN_LOGIN_*`` settings."""

    max_failures: int = DEFAULT_MAX_FAILURES
    max_failures_per_address: int = DEFAULT_MAX_FAILURES_PER_ADDRESS
    window: timedelta = DEFAULT_WINDOW

    def __post_init__(self) -> None:
        if self.max_failures < 1:
            raise ConfigurationError(f"KEYTURN_LOGIN_MAX_FAILURES must be at least 1, got {self.max_failures}")
        if self.max_failures_per_address < self.max_failures:
            raise ConfigurationError(
                "KEYTURN_LOGIN_MAX_FAILURES_PER_ADDRESS must be at least KEYTURN_LOGIN_MAX_FAILURES, "
                f"got {self.max_failures_per_address} < {self.max_failures}"
            )
        if self.window < timedelta(seconds=1):
            raise ConfigurationError(f"KEYTURN_LOGIN_WINDOW must be at least 1 second, got {self.window}")


@dataclass(frozen=True, slots=True)
class FailureWindow:
    """The failures counted for one key and the moment its window ends."""

    count: int
    ends_at: datetime


@dataclass(frozen=True, slots=True)
class ThrottleKeys:
    """Counter keys of one login attempt.

    ``address`` is None when the client address is unknown: then only the
    pair counter applies, because one shared key for every such client would
    let a single client lock all the others out.
    """

    pair: str
    address: str | None


class LoginThrottled(KeyturnError):
    """Too many failed logins for this login name from this address, or from this address overall.

    The message and ``retry_after`` are the same whether the account exists
    or not, so the error reveals nothing about accounts.
    """

    code = "rate_limited"

    def __init__(self, retry_after: int, limit: str = PAIR_LIMIT) -> None:
        super().__init__("too many failed logins; retry later")
        self.retry_after = retry_after
        # Which limit was reached, for the audit trail only: telling the
        # client would show whether guessing another login name helps.
        self.limit = limit


def normalize_login(login: str) -> str:
    """Return ``login`` in NFKC form and case-folded, so that spellings of one email share one counter.

    Usernames that differ only in case share a counter too, which can only
    make the limit stricter.
    """
    return unicodedata.normalize("NFKC", login).casefold()


def login_digest(login: str) -> str:
    """Return the hex SHA-256 digest of the normalized login name."""
    return hashlib.sha256(normalize_login(login).encode("utf-8")).hexdigest()


def address_key(address: str | None) -> str | None:
    """Return the part of a counter key that stands for the client address.

    IPv4 addresses are kept whole, IPv6 addresses become their /64 network,
    and an IPv4-mapped IPv6 address counts as the IPv4 address it maps.
    A value that is not an IP address is used as it is, cut to a bounded length.
    """
    if not address:
        return None
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address[:MAX_ADDRESS_KEY_LENGTH]
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.IPv6Network((parsed, IPV6_PREFIX_LENGTH), strict=False))
    return str(parsed)


def throttle_keys(login: str, address: str | None) -> ThrottleKeys:
    """Build the pair key ``login:<digest>:<address>`` and the address key ``address:<address>``."""
    where = address_key(address)
    return ThrottleKeys(
        pair=f"login:{login_digest(login)}:{where or '-'}",
        address=None if where is None else f"address:{where}",
    )


def retry_after_seconds(ends_at: datetime, now: datetime) -> int:
    """Whole seconds until ``ends_at``, rounded up and at least 1, as an HTTP ``Retry-After`` needs."""
    return max(1, math.ceil((ends_at - now).total_seconds()))
