"""The client address of a request that may have passed through trusted reverse proxies.

Rules: the socket peer is the client unless it is a trusted proxy. Then the
``X-Forwarded-For`` entries are read from right to left, because each proxy
appends the address it received the request from, and the first entry that
is not a trusted proxy is the client. Entries to the left of it were written
by the client itself and can be forged, so they are never used. A missing
or unparsable entry stops the walk at the last trusted hop.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from domain.errors import ConfigurationError

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
TRUSTED_PROXIES_SETTING = "KEYTURN_TRUSTED_PROXIES"
# Bounds the work a long forged header can cause; real chains are a few hops.
MAX_FORWARDED_ENTRIES = 20


def parse_trusted_proxies(raw: str) -> tuple[Network, ...]:
    """Parse a comma-separated list of proxy addresses or CIDR networks; an empty string trusts none."""
    networks = []
    for part in raw.split(","):
        item = part.strip()
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ConfigurationError(
                f"{TRUSTED_PROXIES_SETTING} must list IP addresses or networks such as 10.0.0.0/8, got {item!r}"
            ) from None
    return tuple(networks)


def client_address(peer: str | None, forwarded_for: str | None, trusted: Iterable[Network]) -> str | None:
    """Return the client address for a request from ``peer`` carrying ``forwarded_for`` (see the module rules)."""
    networks = tuple(trusted)
    if peer is None or not _is_trusted(peer, networks):
        return peer
    client = peer
    entries = [entry.strip() for entry in (forwarded_for or "").split(",")][-MAX_FORWARDED_ENTRIES:]
    for entry in reversed(entries):
        if not _is_address(entry):
            break
        client = entry
        if not _is_trusted(entry, networks):
            break
    return client


def _is_address(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def _is_trusted(address: str, networks: tuple[Network, ...]) -> bool:
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(parsed in network for network in networks)
