"""Bind listening sockets: TCP on IPv4 or IPv6, and unix sockets."""

from __future__ import annotations

import os
import socket
import stat

from sluice.errors import ConfigError


def parse_bind(spec: str) -> tuple[int, str | tuple[str, int]]:
    """Parse a ``--bind`` value into ``(family, address)``.

    Accepted forms: ``HOST:PORT``, ``[IPV6]:PORT``, ``:PORT`` (all IPv4
    interfaces), ``PORT`` alone, and ``unix:/path``.

    Raises:
        ConfigError: the value is not one of those forms.
    """
    if spec.startswith("unix:"):
        path = spec[5:]
        if not path:
            raise ConfigError("--bind unix: needs a path, e.g. unix:/run/app.sock")
        return socket.AF_UNIX, path
    if spec.startswith("["):
        host, sep, port = spec[1:].partition("]:")
        if not sep:
            raise ConfigError(f"invalid --bind {spec!r}; expected [IPV6]:PORT, e.g. [::1]:8000")
        family = socket.AF_INET6
    elif spec.isdigit():
        host, port = "127.0.0.1", spec
        family = socket.AF_INET
    else:
        host, sep, port = spec.rpartition(":")
        if not sep or ":" in host:
            raise ConfigError(
                f"invalid --bind {spec!r}; expected HOST:PORT, [IPV6]:PORT or unix:/path"
            )
        host = host or "0.0.0.0"
        family = socket.AF_INET
    if not port.isdigit() or int(port) > 65535:
        raise ConfigError(f"invalid port in --bind {spec!r}; expected 0 to 65535")
    return family, (host, int(port))


def bind(spec: str, backlog: int = 2048) -> socket.socket:
    """Create, bind and listen on a socket for ``spec`` (see :func:`parse_bind`).

    Raises:
        ConfigError: the value is malformed or the address cannot be bound.
    """
    family, address = parse_bind(spec)
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        if family == socket.AF_UNIX:
            assert isinstance(address, str)
            _remove_stale_socket(address)
        else:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind(address)
        sock.listen(backlog)
    except OSError as exc:
        sock.close()
        raise ConfigError(f"cannot bind {spec}: {exc.strerror or exc}") from None
    except BaseException:
        sock.close()
        raise
    sock.setblocking(False)
    return sock


def _remove_stale_socket(path: str) -> None:
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(mode):
        raise ConfigError(f"cannot bind unix:{path}: the path exists and is not a socket")
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(path)
    except OSError:
        os.unlink(path)
    else:
        raise ConfigError(f"cannot bind unix:{path}: another server is listening there")
    finally:
        probe.close()


def describe(sock: socket.socket) -> str:
    """Return the URL a listening socket serves, e.g. ``http://127.0.0.1:8000``."""
    if sock.family == socket.AF_UNIX:
        return f"unix:{sock.getsockname()}"
    host, port = sock.getsockname()[:2]
    if sock.family == socket.AF_INET6:
        host = f"[{host}]"
    return f"http://{host}:{port}"
