"""Trusted proxies: the --trusted-proxies setting and who is in it."""

from __future__ import annotations

import pytest

from sluice.config import resolve
from sluice.errors import ConfigError
from sluice.trust import TrustedProxies
from sluice.trust import parse_network


@pytest.mark.parametrize(
    ("address", "trusted"),
    [
        pytest.param("127.0.0.1", True, id="loopback"),
        pytest.param("127.9.8.7", True, id="loopback-net"),
        pytest.param("::1", True, id="ipv6-loopback"),
        pytest.param("::ffff:127.0.0.1", True, id="ipv4-mapped-loopback"),
        pytest.param(None, True, id="unix-socket"),
        pytest.param("10.0.0.1", False, id="private"),
        pytest.param("::2", False, id="ipv6-other"),
        pytest.param("fe80::1%eth0", False, id="scoped"),
        pytest.param("not-an-address", False, id="garbage"),
        pytest.param(("127.0.0.1", 1), False, id="not-a-string"),
    ],
)
def test_trusted_proxies_default_is_loopback(address: object, trusted: bool) -> None:
    proxies = TrustedProxies()
    assert (address in proxies) is trusted
    assert (address in proxies) is trusted  # the cached answer is the same


def test_trusted_proxies_networks_and_addresses() -> None:
    proxies = TrustedProxies(["10.0.0.0/8", "2001:db8::1", "fe80::/10"])
    assert "10.200.3.4" in proxies
    assert "2001:db8::1" in proxies and "2001:db8::2" not in proxies
    assert "fe80::1%eth0" in proxies
    assert "127.0.0.1" not in proxies
    assert repr(proxies) == "TrustedProxies(['10.0.0.0/8', '2001:db8::1/128', 'fe80::/10'])"


def test_trusted_proxies_parse_network() -> None:
    assert parse_network(" 10.1.2.3/8 ") == "10.0.0.0/8"
    assert parse_network("::1") == "::1/128"
    with pytest.raises(ValueError, match="not an IP address or network such as 10.0.0.0/8"):
        parse_network("localhost")


def test_trusted_proxies_setting_comma_separated_repeated_and_env() -> None:
    assert resolve().trusted_proxies == ["127.0.0.0/8", "::1/128"]
    assert resolve({"trusted_proxies": "10.0.0.0/8, 192.168.1.1"}).trusted_proxies == ["10.0.0.0/8", "192.168.1.1/32"]
    assert resolve({"trusted_proxies": ["10.0.0.0/8,::1", "172.16.0.0/12"]}).trusted_proxies == [
        "10.0.0.0/8",
        "::1/128",
        "172.16.0.0/12",
    ]
    assert resolve(environ={"SLUICE_TRUSTED_PROXIES": "10.1.0.0/16"}).trusted_proxies == ["10.1.0.0/16"]


def test_trusted_proxies_setting_rejects_a_malformed_entry() -> None:
    with pytest.raises(ConfigError, match=r"invalid value 'proxy\.local' for --trusted-proxies"):
        resolve({"trusted_proxies": "proxy.local"})
