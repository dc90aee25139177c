"""Fixture WSGI apps for the CGI gateway tests, named for what they exercise.

The ``validated_*`` apps are well-behaved apps wrapped in ``wsgiref.validate``;
the others break the WSGI contract on purpose or fail, so they cannot be
validated. An iterable's ``close()`` writes ``close() called`` to
``wsgi.errors`` so a test can count the calls.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from typing import Any
from wsgiref.validate import validator

Environ = dict[str, Any]
StartResponse = Callable[..., Callable[[bytes], object]]

REPORTED_KEYS = (
    "REQUEST_METHOD",
    "SCRIPT_NAME",
    "PATH_INFO",
    "QUERY_STRING",
    "CONTENT_TYPE",
    "CONTENT_LENGTH",
    "SERVER_NAME",
    "SERVER_PORT",
    "SERVER_PROTOCOL",
    "HTTP_HOST",
    "HTTP_X_CUSTOM",
    "HTTP_CONTENT_LENGTH",
    "HTTP_CONTENT_TYPE",
    "wsgi.version",
    "wsgi.url_scheme",
    "wsgi.multithread",
    "wsgi.multiprocess",
    "wsgi.run_once",
    "wsgi.input_terminated",
)
CLOSE_MARKER = "close() called\n"


def _text(start_response: StartResponse, body: bytes, status: str = "200 OK") -> list[bytes]:
    start_response(status, [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


class _Closing:
    """An iterable that fails at chunk ``fail_at`` and reports close() on wsgi.errors."""

    def __init__(self, environ: Environ, chunks: list[bytes], fail_at: int = -1) -> None:
        self.errors = environ["wsgi.errors"]
        self.chunks = chunks
        self.fail_at = fail_at

    def __iter__(self) -> Iterator[bytes]:
        for i, chunk in enumerate(self.chunks):
            if i == self.fail_at:
                raise RuntimeError("boom after the head")
            yield chunk

    def close(self) -> None:
        self.errors.write(CLOSE_MARKER)
        self.errors.flush()


def environ_report(environ: Environ, start_response: StartResponse) -> list[bytes]:
    """Answer ``KEY=value`` lines for :data:`REPORTED_KEYS`, values as their latin-1 bytes."""
    lines = [f"{key}={environ[key]}" if key in environ else f"{key} absent" for key in REPORTED_KEYS]
    return _text(start_response, "\n".join(lines).encode("latin-1"))


def echo(environ: Environ, start_response: StartResponse) -> list[bytes]:
    """Answer the request body, read the way QUERY_STRING names (default: 4-byte reads)."""
    stream = environ["wsgi.input"]
    mode = environ["QUERY_STRING"]
    if mode == "read":
        body = stream.read()
    elif mode == "lines":
        body = b"|".join(stream)
    elif mode == "readlines":
        body = b"|".join(stream.readlines())
    elif mode == "readlines-hint":
        body = b"|".join(stream.readlines(1))
    elif mode == "readline-limit":
        body = b"|".join([stream.readline(3), stream.readline(None), stream.readline()])
    else:
        chunks = []
        while True:
            data = stream.read(4)
            if not data:
                break
            chunks.append(data)
        body = b"".join(chunks)
    return _text(start_response, body)


def empty(environ: Environ, start_response: StartResponse) -> list[bytes]:
    """Answer 204 with no body."""
    start_response("204 No Content", [])
    return []


def uses_write(environ: Environ, start_response: StartResponse) -> list[bytes]:
    """Send part of the body through ``write()`` and the rest as the iterable."""
    write = start_response("200 OK", [("Content-Type", "text/plain")])
    write(b"one,")
    write(b"two,")
    return [b"three"]


def file_wrapper(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
    """Answer the file named by the ``SLUICE_TEST_FILE`` meta-variable via ``wsgi.file_wrapper``."""
    start_response("200 OK", [("Content-Type", "application/octet-stream")])
    result: Iterable[bytes] = environ["wsgi.file_wrapper"](open(environ["SLUICE_TEST_FILE"], "rb"), 4)
    return result


def exc_info_recovers(environ: Environ, start_response: StartResponse) -> list[bytes]:
    """Start a 200, fail, and replace it with a 503 through ``exc_info`` before any body."""
    start_response("200 OK", [("Content-Type", "text/plain"), ("X-Discarded", "yes")])
    try:
        raise ValueError("replaced")
    except ValueError:
        start_response("503 Service Unavailable", [("Content-Type", "text/plain")], sys.exc_info())
    return [b"recovered"]


def closing(environ: Environ, start_response: StartResponse) -> _Closing:
    """Answer two chunks from an iterable with ``close()``."""
    start_response("200 OK", [("Content-Type", "text/plain")])
    return _Closing(environ, [b"first,", b"second"])


def declared_length(environ: Environ, start_response: StartResponse) -> list[bytes]:
    """Declare Content-Length 11 and send the body except for HEAD."""
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "11")])
    return [] if environ["REQUEST_METHOD"] == "HEAD" else [b"hello world"]


validated_environ_report = validator(environ_report)
validated_echo = validator(echo)
validated_empty = validator(empty)
validated_uses_write = validator(uses_write)
validated_file_wrapper = validator(file_wrapper)
validated_exc_info_recovers = validator(exc_info_recovers)
validated_closing = validator(closing)
validated_declared_length = validator(declared_length)


def crash_before_headers(environ: Environ, start_response: StartResponse) -> list[bytes]:
    """Raise before calling ``start_response``."""
    raise RuntimeError("boom before the head")


def crash_after_headers(environ: Environ, start_response: StartResponse) -> _Closing:
    """Send one chunk, then raise from the iterable."""
    start_response("200 OK", [("Content-Type", "text/plain")])
    return _Closing(environ, [b"partial", b"never"], fail_at=1)


def crash_after_empty_chunk(environ: Environ, start_response: StartResponse) -> _Closing:
    """Yield only an empty chunk, then raise: the head was not sent yet."""
    start_response("200 OK", [("Content-Type", "text/plain")])
    return _Closing(environ, [b"", b"never"], fail_at=1)


def exc_info_after_headers(environ: Environ, start_response: StartResponse) -> Iterator[bytes]:
    """Send a chunk, then call ``start_response`` with ``exc_info`` (it must re-raise)."""
    start_response("200 OK", [("Content-Type", "text/plain")])
    yield b"sent"
    try:
        raise ValueError("late failure")
    except ValueError:
        start_response("500 Internal Server Error", [("Content-Type", "text/plain")], sys.exc_info())
    yield b"never"


def start_response_twice(environ: Environ, start_response: StartResponse) -> list[bytes]:
    """Call ``start_response`` twice without ``exc_info``."""
    start_response("200 OK", [("Content-Type", "text/plain")])
    start_response("404 Not Found", [("Content-Type", "text/plain")])
    return [b"x"]


def no_start_response(environ: Environ, start_response: StartResponse) -> list[bytes]:
    """Return a body without calling ``start_response``."""
    return [b"body without a status"]


def no_start_response_empty(environ: Environ, start_response: StartResponse) -> list[bytes]:
    """Return an empty body without calling ``start_response``."""
    return []


def str_body(environ: Environ, start_response: StartResponse) -> list[bytes]:
    """Yield text instead of bytes."""
    start_response("200 OK", [("Content-Type", "text/plain")])
    return ["text, not bytes"]  # type: ignore[list-item]


def bytearray_body(environ: Environ, start_response: StartResponse) -> list[bytes]:
    """Yield a bytearray, which is sent like bytes."""
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [bytearray(b"mutable bytes")]  # type: ignore[list-item]


def long_body(environ: Environ, start_response: StartResponse) -> _Closing:
    """Declare Content-Length 5 and send 10 bytes in two chunks, split where QUERY_STRING says."""
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "5")])
    if environ["QUERY_STRING"] == "mid-chunk":
        return _Closing(environ, [b"123", b"4567890"])
    return _Closing(environ, [b"12345", b"67890"])


def long_first_chunk(environ: Environ, start_response: StartResponse) -> list[bytes]:
    """Declare Content-Length 5 and send 10 bytes in one chunk."""
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "5")])
    return [b"1234567890"]


def short_body(environ: Environ, start_response: StartResponse) -> list[bytes]:
    """Declare Content-Length 10 and send 5 bytes."""
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "10")])
    return [b"12345"]


def bad_head(environ: Environ, start_response: StartResponse) -> list[bytes]:
    """Call ``start_response`` with the bad status or header QUERY_STRING names."""
    cases: dict[str, tuple[Any, Any]] = {
        "hop-by-hop": ("200 OK", [("Connection", "close")]),
        "crlf": ("200 OK", [("X-Evil", "a\r\nInjected: yes")]),
        "nul": ("200 OK", [("X-Evil", "a\x00b")]),
        "name": ("200 OK", [("Bad Name", "x")]),
        "status-header": ("200 OK", [("Status", "302 Found")]),
        "not-latin-1": ("200 OK", [("X-Name", "\u20ac")]),
        "content-length": ("200 OK", [("Content-Length", "-1")]),
        "not-tuple": ("200 OK", [["X-A", "b"]]),
        "not-list": ("200 OK", (("X-A", "b"),)),
        "status": ("OK", []),
        "status-crlf": ("200 OK\r\nX-Evil: yes", []),
    }
    status, headers = cases[environ["QUERY_STRING"]]
    start_response(status, headers)
    return [b"never sent"]
