"""WSGI apps for the deadline tests: requests that outlive the server's ``--timeout``."""

from __future__ import annotations

import time
from collections.abc import Callable
from collections.abc import Iterator
from typing import Any

#: What the apps' ``finally`` blocks saw (a test reads it in-process).
events: list[str] = []


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
    path = environ["PATH_INFO"]
    if path == "/sleep":
        # Blocked in C: DeadlineExceeded can only come when the sleep ends.
        time.sleep(float(environ["QUERY_STRING"] or "3"))
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"late"]
    if path == "/spin":
        # Python code: DeadlineExceeded stops it at the next bytecode.
        end = time.monotonic() + 20
        try:
            while time.monotonic() < end:
                pass
        finally:
            events.append("spin finally")
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"never"]
    if path == "/begun":

        def body() -> Iterator[bytes]:
            yield b"first part;"
            time.sleep(3)
            yield b"second part"

        start_response("200 OK", [("Content-Type", "text/plain")])
        return body()
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"hello"]
