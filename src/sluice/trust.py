"""Trusted proxies: which peers may tell the server about a request (``--trusted-proxies``).

Design: a peer in :class:`TrustedProxies` may choose a request's id
(``X-Request-ID``, ``traceparent``; :mod:`sluice.requestid`); the
``X-Forwarded-*`` headers are to be read through the same object. The setting
is a list of addresses and networks (``127.0.0.0/8``, ``::1``,
``10.0.0.0/8``); the default trusts loopback only. A unix-socket peer is
always trusted: only a process on the same host that may open the socket's
file can be one (``--unix-socket-mode`` says who may), which is the reverse
proxy in front of the server, the same case as loopback.

PERF: membership is asked once per connection. An address seen before costs
one dict lookup (a bounded cache of answers); a new one is parsed and
compared with each network once.

This module imports nothing of the server or the framework: both may use it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

#: What ``--trusted-proxies`` trusts by default: loopback.
DEFAULT = ("127.0.0.0/8", "::1/128")

_CACHE_LIMIT = 4096

_Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_network(value: str) -> str:
    """Check one ``--trusted-proxies`` entry and return it normalized (``10.0.0.0/8``, ``::1/128``).

    Raises:
        ValueError: not an IPv4 or IPv6 address or network (host bits set
            are allowed: ``10.1.2.3/8`` is ``10.0.0.0/8``).
    """
    try:
        return str(ipaddress.ip_network(value.strip(), strict=False))
    except ValueError:
        raise ValueError(f"{value!r} is not an IP address or network such as 10.0.0.0/8 or ::1") from None


class TrustedProxies:
    """The peers a server trusts, asked with ``address in trusted``.

    Args:
        networks: IPv4 and IPv6 addresses and networks (strings as
            :func:`parse_network` takes them).

    Raises:
        ValueError: an entry is not an address or network.
    """

    __slots__ = ("networks", "_known")

    def __init__(self, networks: Iterable[str] = DEFAULT) -> None:
        #: The trusted networks, parsed.
        self.networks: tuple[_Network, ...] = tuple(
            ipaddress.ip_network(parse_network(entry), strict=False) for entry in networks
        )
        self._known: dict[str, bool] = {}

    def __contains__(self, address: object) -> bool:
        """Whether a peer is trusted: its IP address as a string (``REMOTE_ADDR``), or None for a unix socket."""
        if address is None:
            return True
        if type(address) is not str:
            return False
        known = self._known.get(address)
        if known is not None:
            return known
        try:
            ip = ipaddress.ip_address(address.partition("%")[0])
        except ValueError:
            return False
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1 (a dual-stack listener)
        found = any(ip in network for network in self.networks)
        if len(self._known) < _CACHE_LIMIT:
            self._known[address] = found
        return found

    def __repr__(self) -> str:
        return f"TrustedProxies({[str(n) for n in self.networks]!r})"
