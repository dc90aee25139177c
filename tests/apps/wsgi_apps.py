"""Fixture WSGI apps for live server tests, named for what they exercise.

``validated`` serves the well-behaved routes wrapped in ``wsgiref.validate``;
``broken`` serves apps that break their contract on purpose (it cannot be
validated, since the validator would stop them first).
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from typing import Any
from wsgiref.validate import validator

Environ = dict[str, Any]
StartResponse = Callable[..., Any]

_ENV_KEYS = (
    "REQUEST_METHOD",
    "SCRIPT_NAME",
    "PATH_INFO",
    "QUERY_STRING",
    "CONTENT_TYPE",
    "CONTENT_LENGTH",
    "SERVER_NAME",
    "SERVER_PORT",
    "SERVER_PROTOCOL",
    "REMOTE_ADDR",
    "REMOTE_PORT",
    "RAW_URI",
    "wsgi.url_scheme",
    "wsgi.multithread",
    "wsgi.multiprocess",
    "wsgi.run_once",
    "wsgi.input_terminated",
)


def _text(start_response: StartResponse, body: bytes, status: str = "200 OK", ctype: str = "text/plain") -> list[bytes]:
    start_response(status, [("Content-Type", ctype), ("Content-Length", str(len(body)))])
    return [body]


def _read_all(environ: Environ) -> bytes:
    stream = environ["wsgi.input"]
    chunks: list[bytes] = []
    while True:
        data = stream.read(65536)
        if not data:
            return b"".join(chunks)
        chunks.append(data)


def _marker(environ: Environ, name: str) -> None:
    """Append ``name`` to the file named by the ``SLUICE_TEST_MARKERS`` env var."""
    path = os.environ.get("SLUICE_TEST_MARKERS")
    if path:
        with open(path, "a") as f:
            f.write(f"{name} {environ.get('QUERY_STRING', '')}\n")


class _Closing:
    """An iterable that records its close() calls in the marker file."""

    def __init__(self, environ: Environ, chunks: list[bytes], fail_at: int = -1, delay: float = 0.0) -> None:
        self.environ = environ
        self.chunks = chunks
        self.fail_at = fail_at
        self.delay = delay

    def __iter__(self) -> Iterator[bytes]:
        for i, chunk in enumerate(self.chunks):
            if i == self.fail_at:
                raise RuntimeError("failure in the middle of the body")
            if self.delay:
                time.sleep(self.delay)
            yield chunk

    def close(self) -> None:
        _marker(self.environ, "closed")


def _routes(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
    path = environ["PATH_INFO"]
    query = environ["QUERY_STRING"]
    if path.startswith("/echo"):
        body = _read_all(environ)
        info = {k: environ[k] for k in _ENV_KEYS if k in environ}
        info["headers"] = {k: v for k, v in environ.items() if k.startswith("HTTP_")}
        info["body"] = body.decode("latin-1")
        return _text(start_response, json.dumps(info).encode(), ctype="application/json")
    if path == "/stream":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return _Closing(environ, [b"one,", b"", b"two,", b"three"], delay=float(query or 0))
    if path == "/list":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"a", b"b", b"c"]
    if path == "/empty":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return []
    if path == "/write":
        write = start_response("200 OK", [("Content-Type", "text/plain")])
        write(b"written;")
        return [b"returned"]
    if path == "/file":
        name = os.environ.get("SLUICE_TEST_FILE", __file__)
        f = open(name, "rb")
        size = os.path.getsize(name)
        headers = [("Content-Type", "application/octet-stream")]
        if query == "length":
            headers.append(("Content-Length", str(size)))
        start_response("200 OK", headers)
        wrapped: Iterable[bytes] = environ["wsgi.file_wrapper"](f, 8192)
        return wrapped
    if path == "/status":
        code = query or "204"
        start_response(f"{code} Status", [("Content-Type", "text/plain")] if code not in ("204", "304") else [])
        return [b"dropped body"] if code not in ("204", "304") else []
    if path == "/sleep":
        time.sleep(float(query or 1))
        _marker(environ, "slept")
        return _text(start_response, b"slept")
    if path == "/read-some":
        data = environ["wsgi.input"].read(5)
        return _text(start_response, data)
    if path == "/ignore-body":
        return _text(start_response, b"ignored")
    if path == "/lines":
        stream = environ["wsgi.input"]
        lines = []
        while True:
            line = stream.readline()
            if not line:
                break
            lines.append(line)
        return _text(start_response, json.dumps([x.decode() for x in lines]).encode(), ctype="application/json")
    if path == "/close-tracked":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return _Closing(environ, [b"x" * 65536] * 64, delay=0.01)
    if path == "/exc-info":
        start_response("200 OK", [("Content-Type", "text/plain")])
        try:
            raise ValueError("replaced")
        except ValueError:
            start_response("500 Internal Server Error", [("Content-Type", "text/plain")], sys.exc_info())
        return [b"replaced by exc_info"]
    return _text(start_response, b"not found: " + path.encode("latin-1"), "404 Not Found")


validated = validator(_routes)


def broken(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
    """Apps that break the WSGI or HTTP contract, chosen by PATH_INFO."""
    path = environ["PATH_INFO"]
    if path == "/raise-before":
        raise RuntimeError("boom before start_response")
    if path == "/raise-during":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return _Closing(environ, [b"first", b"second"], fail_at=1)
    if path == "/short":
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "10")])
        return _Closing(environ, [b"12345"])
    if path == "/long":
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "5")])
        return _Closing(environ, [b"12345", b"67890"])
    if path == "/hop-by-hop":
        start_response("200 OK", [("Content-Type", "text/plain"), ("Connection", "close")])
        return [b"x"]
    if path == "/bad-header":
        start_response("200 OK", [("X-Evil", "a\r\nInjected: yes")])
        return [b"x"]
    if path == "/str-body":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return ["text, not bytes"]  # type: ignore[list-item]
    if path == "/no-start":
        return [b"body without start_response"]
    if path == "/exc-after-headers":
        start_response("200 OK", [("Content-Type", "text/plain")])

        def gen() -> Iterator[bytes]:
            yield b"sent"
            try:
                raise ValueError("late")
            except ValueError:
                start_response("500 Internal Server Error", [], sys.exc_info())
            yield b"never"

        return gen()
    return _routes(environ, start_response)
