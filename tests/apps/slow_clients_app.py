"""A plain WSGI app for the slow-client proof: a small answer, big checkable bodies, an upload sink.

Routes (``?N`` is a byte count, default 10 MiB):

- ``GET /hello``: ``hello``;
- ``GET /big?N``: N bytes of :data:`PATTERN` as an iterator of 64 KiB
  chunks, with ``Content-Length``;
- ``GET /big-list?N``: the same bytes as one list item;
- ``POST /upload``: reads ``wsgi.input`` to its end and answers JSON
  ``{"size": n, "sha256": hex}``.

Used by ``tests/server/test_slow_clients_live.py`` and
``benchmarks/slow_clients.py``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from typing import Any

MIB = 1024 * 1024
DEFAULT_SIZE = 10 * MIB
CHUNK = 64 * 1024
# One 64 KiB block of bytes(range(256)); byte i of any body is i % 256.
PATTERN = bytes(range(256)) * (CHUNK // 256)


def body_of(size: int) -> bytes:
    """Return the ``size`` bytes every big body of this app is made of."""
    whole, rest = divmod(size, len(PATTERN))
    return PATTERN * whole + PATTERN[:rest]


def _chunks(size: int) -> Iterator[bytes]:
    whole, rest = divmod(size, CHUNK)
    for _ in range(whole):
        yield PATTERN
    if rest:
        yield PATTERN[:rest]


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """Answer the routes listed in the module docstring; anything else is 404."""
    method = environ["REQUEST_METHOD"]
    path = environ["PATH_INFO"]
    query = environ.get("QUERY_STRING", "")
    size = int(query) if query.isdigit() else DEFAULT_SIZE
    octets = ("Content-Type", "application/octet-stream")
    if method == "GET" and path == "/hello":
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "5")])
        return [b"hello"]
    if method == "GET" and path == "/big":
        start_response("200 OK", [octets, ("Content-Length", str(size))])
        return _chunks(size)
    if method == "GET" and path == "/big-list":
        start_response("200 OK", [octets, ("Content-Length", str(size))])
        return [body_of(size)]
    if method == "POST" and path == "/upload":
        stream = environ["wsgi.input"]
        digest = hashlib.sha256()
        total = 0
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
            total += len(chunk)
        answer = json.dumps({"size": total, "sha256": digest.hexdigest()}).encode()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(answer)))])
        return [answer]
    start_response("404 Not Found", [("Content-Type", "text/plain"), ("Content-Length", "9")])
    return [b"not found"]
