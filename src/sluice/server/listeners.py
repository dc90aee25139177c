"""Bind listening sockets (TCP on IPv4 or IPv6, unix sockets) or take systemd's (``LISTEN_FDS``)."""

from __future__ import annotations

import os
import socket
import stat
from collections.abc import MutableMapping

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


def bind(spec: str, backlog: int = 2048, unix_mode: int | None = None) -> socket.socket:
    """Create, bind and listen on a socket for ``spec`` (see :func:`parse_bind`).

    ``unix_mode`` sets the permission bits of a unix socket's file (e.g.
    ``0o660`` so only the group's web server can connect); None keeps what
    the umask gives.

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
        if unix_mode is not None and family == socket.AF_UNIX:
            assert isinstance(address, str)
            os.chmod(address, unix_mode)
        sock.listen(backlog)
    except OSError as exc:
        sock.close()
        raise ConfigError(f"cannot bind {spec}: {exc.strerror or exc}") from None
    except BaseException:
        sock.close()
        raise
    sock.setblocking(False)
    return sock


#: The first descriptor systemd passes (SD_LISTEN_FDS_START in sd_listen_fds(3)).
LISTEN_FDS_START = 3


def inherit_systemd(environ: MutableMapping[str, str], first_fd: int = LISTEN_FDS_START) -> list[socket.socket]:
    """Take the listening sockets systemd passed (socket activation), or none.

    They are used when ``LISTEN_PID`` is this process and ``LISTEN_FDS``
    counts them (descriptors ``first_fd`` onwards). The variables are
    removed from ``environ`` afterwards (as ``sd_listen_fds(1)`` does), so
    a process started later does not take the descriptors again.

    Raises:
        ConfigError: the variables are malformed or a descriptor is not a
            listening stream socket.
    """
    count, pid = environ.get("LISTEN_FDS"), environ.get("LISTEN_PID")
    if count is None or pid is None:
        return []
    if not count.isdigit() or not pid.isdigit():
        raise ConfigError(f"invalid systemd socket activation: LISTEN_FDS={count!r} LISTEN_PID={pid!r}")
    if int(pid) != os.getpid():
        return []
    for name in ("LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES"):
        environ.pop(name, None)
    sockets = []
    for fd in range(first_fd, first_fd + int(count)):
        try:
            sock = socket.socket(fileno=fd)
        except OSError as exc:
            raise ConfigError(f"systemd passed descriptor {fd}, which is not a socket: {exc}") from None
        if sock.type != socket.SOCK_STREAM or not sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN):
            sock.detach()
            raise ConfigError(f"systemd passed descriptor {fd}, which is not a listening stream socket")
        sock.setblocking(False)
        sockets.append(sock)
    return sockets


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


def close_listener(sock: socket.socket) -> None:
    """Close a listening socket, removing a unix socket's file (a stale path would refuse the next bind)."""
    if sock.family == socket.AF_UNIX:
        try:
            os.unlink(sock.getsockname())
        except OSError:
            pass
    sock.close()


def describe(sock: socket.socket, scheme: str = "http") -> str:
    """Return the URL a listening socket serves, e.g. ``http://127.0.0.1:8000``."""
    if sock.family == socket.AF_UNIX:
        return f"unix:{sock.getsockname()}"
    host, port = sock.getsockname()[:2]
    if sock.family == socket.AF_INET6:
        host = f"[{host}]"
    return f"{scheme}://{host}:{port}"
