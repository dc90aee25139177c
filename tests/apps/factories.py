"""App factories and import failures for CLI loading tests."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterable
from typing import Any


def create_app(greeting: str = "hello") -> Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]:
    """Return a WSGI app that answers ``greeting``."""
    body = greeting.encode()

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
        return [body]

    return app


not_callable = 42
