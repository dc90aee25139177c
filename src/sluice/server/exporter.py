"""The master's metrics endpoint: a small strict HTTP/1.1 server on the master's own loop.

Design: the master forks workers, so it runs no thread of its own (a fork
while another thread holds a lock can leave that lock held forever in the
child). The endpoint is therefore part of the master's selector loop: the
listening socket and each scrape connection are non-blocking and
registered in the master's selector with :meth:`MetricsServer.handle` as
their data; the master calls it when one is ready, and
:meth:`MetricsServer.expire` on every turn of its loop (at least every
0.25 s).

Each connection gets one answer and is closed: ``GET`` (or ``HEAD``) of
``/metrics`` is 200 with the text exposition format, another path 404,
another method 405 with ``Allow``, a malformed request 400, a head larger
than ``MAX_HEAD`` bytes 431. A connection has ``TIMEOUT`` seconds in all to
send its head and take its answer, and at most ``MAX_CONNECTIONS`` are open
at once (more are closed at accept), so a slow or hostile scraper costs the
master a few non-blocking calls, never a wait.
"""

from __future__ import annotations

import logging
import selectors
import socket
import time
from collections.abc import Callable

from sluice.errors import ConfigError
from sluice.server.listeners import bind
from sluice.server.listeners import close_listener
from sluice.server.metrics import CONTENT_TYPE

log = logging.getLogger("sluice.error")

#: Seconds a scrape connection may take to send its request and take its answer.
TIMEOUT = 5.0
#: Bytes of a request head the endpoint reads at most.
MAX_HEAD = 8192
#: Scrape connections open at once; more are closed at accept.
MAX_CONNECTIONS = 16
PATH = "/metrics"

_REASONS = {
    200: "OK",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    431: "Request Header Fields Too Large",
}


class _Scrape:
    """One scrape connection: what it sent, what is left to send, its deadline."""

    __slots__ = ("sock", "head", "out", "deadline")

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        self.sock = sock
        self.head = bytearray()
        self.out = b""
        self.deadline = deadline


class MetricsServer:
    """Serve ``GET /metrics`` on ``address`` from the master's selector loop.

    Args:
        address: ``HOST:PORT`` or ``[IPV6]:PORT`` (port 0: any free port).
        selector: the master's selector; the endpoint's sockets are
            registered there with :meth:`handle` as their data.
        render: returns the exposition text (called once per 200 answer).

    Raises:
        ConfigError: the address cannot be bound.
    """

    def __init__(
        self, address: str, selector: selectors.BaseSelector, render: Callable[[], bytes]
    ) -> None:
        try:
            self.listener = bind(address, backlog=64)
        except ConfigError as exc:
            raise ConfigError(f"--metrics-bind: {exc}") from None
        self.selector = selector
        self.render = render
        self.scrapes: dict[int, _Scrape] = {}
        selector.register(self.listener, selectors.EVENT_READ, self.handle)

    @property
    def url(self) -> str:
        """The endpoint's URL, e.g. ``http://127.0.0.1:9100/metrics``."""
        host, port = self.listener.getsockname()[:2]
        if self.listener.family == socket.AF_INET6:
            host = f"[{host}]"
        return f"http://{host}:{port}{PATH}"

    def handle(self, fd: int, events: int) -> None:
        """Act on a ready socket of the endpoint (called by the master's loop)."""
        if fd == self.listener.fileno():
            self._accept()
            return
        scrape = self.scrapes.get(fd)
        if scrape is None:
            return
        if scrape.out:
            self._send(scrape)
        else:
            self._read(scrape)

    def expire(self, now: float) -> None:
        """Close the scrape connections past their deadline."""
        for scrape in list(self.scrapes.values()):
            if now >= scrape.deadline:
                self._close(scrape)

    def close(self) -> None:
        """Close the listener and every scrape connection (the master stops)."""
        for scrape in list(self.scrapes.values()):
            self._close(scrape)
        self._unregister(self.listener)
        close_listener(self.listener)

    def close_in_child(self) -> None:
        """Close the endpoint's descriptors in a forked worker (its selector is already closed).

        A worker keeping a copy of a scrape connection would hold it open
        after the master's close, and the scraper would wait for its EOF.
        """
        for scrape in self.scrapes.values():
            scrape.sock.close()
        self.scrapes.clear()
        self.listener.close()

    # -- connections ---------------------------------------------------------------

    def _accept(self) -> None:
        for _ in range(MAX_CONNECTIONS):
            try:
                sock, _addr = self.listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                log.warning("metrics endpoint: accept() failed: %s", exc)
                return
            if len(self.scrapes) >= MAX_CONNECTIONS:
                sock.close()
                continue
            sock.setblocking(False)
            scrape = _Scrape(sock, time.monotonic() + TIMEOUT)
            self.scrapes[sock.fileno()] = scrape
            self.selector.register(sock, selectors.EVENT_READ, self.handle)

    def _read(self, scrape: _Scrape) -> None:
        try:
            data = scrape.sock.recv(MAX_HEAD + 1 - len(scrape.head))
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self._close(scrape)
            return
        if not data:
            self._close(scrape)
            return
        scrape.head += data
        end = scrape.head.find(b"\r\n\r\n")
        if end == -1:
            if len(scrape.head) > MAX_HEAD:
                self._answer(scrape, 431, b"request head too large\n")
            return
        self._respond(scrape, bytes(scrape.head[:end]))

    def _respond(self, scrape: _Scrape, head: bytes) -> None:
        line = head.split(b"\r\n", 1)[0]
        parts = line.split(b" ")
        if len(parts) != 3 or not parts[2].startswith(b"HTTP/1.") or not parts[1].startswith(b"/"):
            self._answer(scrape, 400, b"bad request\n")
            return
        method, target = parts[0], parts[1]
        if method not in (b"GET", b"HEAD"):
            self._answer(scrape, 405, b"use GET or HEAD\n", extra=b"Allow: GET, HEAD\r\n")
            return
        if target.split(b"?", 1)[0] != PATH.encode():
            self._answer(scrape, 404, b"not found: the metrics are at /metrics\n")
            return
        try:
            body = self.render()
        except Exception:
            log.exception("metrics endpoint: rendering the metrics failed")
            self._close(scrape)
            return
        self._answer(scrape, 200, body, content_type=CONTENT_TYPE, head_only=method == b"HEAD")

    def _answer(
        self,
        scrape: _Scrape,
        status: int,
        body: bytes,
        content_type: str = "text/plain; charset=utf-8",
        extra: bytes = b"",
        head_only: bool = False,
    ) -> None:
        head = (
            f"HTTP/1.1 {status} {_REASONS[status]}\r\n"
            f"Content-Type: {content_type}\r\n"
            f"Content-Length: {len(body)}\r\n"
            "Cache-Control: no-store\r\n"
            "Connection: close\r\n"
        ).encode("latin-1")
        scrape.out = head + extra + b"\r\n" + (b"" if head_only else body)
        self.selector.modify(scrape.sock, selectors.EVENT_WRITE, self.handle)
        self._send(scrape)

    def _send(self, scrape: _Scrape) -> None:
        try:
            sent = scrape.sock.send(scrape.out)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self._close(scrape)
            return
        scrape.out = scrape.out[sent:]
        if not scrape.out:
            try:
                scrape.sock.shutdown(socket.SHUT_WR)
            except OSError:
                pass
            self._close(scrape)

    def _close(self, scrape: _Scrape) -> None:
        self.scrapes.pop(scrape.sock.fileno(), None)
        self._unregister(scrape.sock)
        scrape.sock.close()

    def _unregister(self, sock: socket.socket) -> None:
        try:
            self.selector.unregister(sock)
        except (KeyError, ValueError):
            pass
