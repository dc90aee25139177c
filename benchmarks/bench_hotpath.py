"""Microseconds per request on the server's hot path, in process, no sockets.

Measures the parser (a typical browser-like GET head) and one whole
``gateway.handle_request`` round (parse, environ, app, start_response, head
formatting) with a transport that discards bytes. Run pinned to one core:

    taskset -c 0 python benchmarks/bench_hotpath.py
"""

from __future__ import annotations

import statistics
import sys
import timeit
from collections.abc import Callable
from typing import IO
from typing import Any

from sluice.server.gateway import handle_request
from sluice.server.protocol import Connection
from sluice.server.protocol import Request
from sluice.server.wsgi import ServerInfo

REQUEST = (
    b"GET /hello?name=world HTTP/1.1\r\n"
    b"Host: 127.0.0.1:8000\r\n"
    b"User-Agent: Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/120.0\r\n"
    b"Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
    b"Accept-Language: en-US,en;q=0.5\r\n"
    b"Accept-Encoding: gzip, deflate, br\r\n"
    b"Connection: keep-alive\r\n"
    b"Cookie: session=abcdef0123456789; theme=dark\r\n"
    b"\r\n"
)
BODY = b"Hello, World!"


def hello(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    """The benchmark app."""
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "13")])
    return [BODY]


class NullTransport:
    """Discards what is sent."""

    def send(self, data: bytes) -> None:
        pass

    def sendfile(self, file: IO[bytes], offset: int, count: int) -> int:
        return count

    def recv(self) -> bytes:
        return b""


def bench_parse() -> None:
    """Parse one request head and finish the cycle."""
    conn = Connection()
    conn.receive_data(REQUEST)
    conn.next_event()


def bench_request() -> None:
    """Parse and answer one request through the gateway."""
    conn = Connection()
    conn.receive_data(REQUEST)
    request = conn.next_event()
    assert isinstance(request, Request)
    handle_request(hello, conn, request, NULL, INFO, ("127.0.0.1", 8000), ("127.0.0.1", 5000), True, True)


NULL = NullTransport()
INFO = ServerInfo()


def measure(fn: Callable[[], None], number: int = 20000, repeat: int = 7) -> float:
    """Return the median microseconds per call over ``repeat`` runs."""
    times = timeit.repeat(fn, number=number, repeat=repeat)
    return statistics.median(times) / number * 1e6


def main() -> int:
    """Print the table."""
    print(f"python {sys.version.split()[0]}")
    print("| case | µs per request (median of 7) |")
    print("|---|---|")
    print(f"| parse a 9-line GET head | {measure(bench_parse):.2f} |")
    print(f"| parse + gateway + app + head | {measure(bench_request):.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
