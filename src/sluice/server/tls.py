"""TLS for the worker: the server context, and a socket whose would-block is ``BlockingIOError``.

Imported only when ``--certfile`` is set, so a plain-HTTP server never loads
``ssl`` (about 5 MiB of memory per process).

:class:`TLSSocket` wraps a non-blocking ``SSLSocket`` so the worker treats
it like a plain socket: a send or receive that must wait (OpenSSL's
want-read or want-write) raises ``BlockingIOError``, as a plain socket's
``EAGAIN`` does, and the worker's edge-triggered reads and queued sends need
no TLS cases beyond two: files are sent in blocks, not with ``sendfile``, and
a read returns one TLS record at most, so reads go on until one blocks.
"""

from __future__ import annotations

import errno
import socket
import ssl

from sluice.errors import ConfigError

_WANT = (ssl.SSLWantReadError, ssl.SSLWantWriteError)


def server_context(certfile: str, keyfile: str | None) -> ssl.SSLContext:
    """The server's TLS context: TLS 1.2 at least, the ``ssl`` module's default ciphers, ALPN ``http/1.1``.

    Raises:
        ConfigError: the files cannot be loaded (named, with the reason).
    """
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.set_alpn_protocols(["http/1.1"])
    try:
        context.load_cert_chain(certfile, keyfile)
    except (OSError, ssl.SSLError) as exc:
        files = certfile if keyfile is None else f"{certfile} and {keyfile}"
        raise ConfigError(
            f"cannot load the TLS certificate and key from {files}: {exc}; "
            "give a PEM certificate chain (--certfile) and its private key (in it, or --keyfile)"
        ) from None
    return context


def _would_block() -> BlockingIOError:
    return BlockingIOError(errno.EAGAIN, "the TLS connection cannot go on without the peer")


class TLSSocket:
    """A server-side, non-blocking TLS connection with a plain socket's would-block.

    Args:
        sock: an accepted, non-blocking TCP socket (taken over).
        context: the server context.
    """

    __slots__ = ("_ssl", "fd")

    #: The worker's test for a TLS connection (a plain socket has no such attribute).
    is_tls = True

    def __init__(self, sock: socket.socket, context: ssl.SSLContext) -> None:
        self._ssl = context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        self.fd = self._ssl.fileno()

    def fileno(self) -> int:
        """The descriptor."""
        return self.fd

    def do_handshake(self) -> None:
        """Advance the handshake.

        Raises:
            BlockingIOError: it waits for the peer.
            OSError: it failed (``ssl.SSLError`` included).
        """
        try:
            self._ssl.do_handshake()
        except _WANT:
            raise _would_block() from None

    def send(self, data: bytes | memoryview, flags: int = 0) -> int:
        """Encrypt and send what fits; ``flags`` must be 0."""
        try:
            return self._ssl.send(data)
        except _WANT:
            raise _would_block() from None

    def recv(self, size: int) -> bytes:
        """Receive and decrypt up to one record; ``b""`` at the peer's close."""
        try:
            return self._ssl.recv(size)
        except _WANT:
            raise _would_block() from None
        except ssl.SSLEOFError:
            return b""  # closed without close_notify: an end like any other

    def version(self) -> str | None:
        """The negotiated protocol version, e.g. ``TLSv1.3``."""
        return self._ssl.version()

    def setsockopt(self, level: int, option: int, value: int | bytes) -> None:
        """Set a socket option on the underlying socket."""
        self._ssl.setsockopt(level, option, value)

    def shutdown(self, how: int) -> None:
        """Shut the underlying socket down (no TLS close_notify)."""
        socket.socket.shutdown(self._ssl, how)

    def close(self) -> None:
        """Close the connection."""
        self._ssl.close()
