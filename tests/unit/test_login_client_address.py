"""The client address that login throttling counts, behind trusted reverse proxies or without them."""

from __future__ import annotations

import pytest

from domain.client_address import client_address, parse_trusted_proxies
from domain.errors import ConfigurationError

PROXIES = parse_trusted_proxies("10.0.0.0/8, 2001:db8::1")


@pytest.mark.parametrize(
    ("peer", "forwarded_for", "expected"),
    [
        ("203.0.113.5", "198.51.100.1", "203.0.113.5"),  # untrusted peer: the header is ignored
        ("10.0.0.2", "198.51.100.1", "198.51.100.1"),
        ("10.0.0.2", "192.0.2.66, 198.51.100.1, 10.1.1.1", "198.51.100.1"),  # forged left part unused
        ("10.0.0.2", None, "10.0.0.2"),
        ("10.0.0.2", "", "10.0.0.2"),
        ("10.0.0.2", "not-an-address, 10.0.0.9", "10.0.0.9"),
        ("10.0.0.2", "198.51.100.1, garbage", "10.0.0.2"),
        ("2001:db8::1", "2001:db8:5::7", "2001:db8:5::7"),
        (None, "198.51.100.1", None),
    ],
)
def test_client_address(peer, forwarded_for, expected):
    assert client_address(peer, forwarded_for, PROXIES) == expected


def test_no_trusted_proxies_means_the_peer():
    assert client_address("10.0.0.2", "198.51.100.1", parse_trusted_proxies("")) == "10.0.0.2"


def test_bad_proxy_setting_names_the_variable():
    with pytest.raises(ConfigurationError, match="KEYTURN_TRUSTED_PROXIES"):
        parse_trusted_proxies("10.0.0.0/8, proxy.internal")
