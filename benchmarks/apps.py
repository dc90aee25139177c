"""WSGI applications that the benchmark scripts serve.

Every server under test loads these by import string (``benchmarks.apps:hello``),
so the work done per request is identical across servers.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

HELLO_BODY = b"Hello, World!"
_HELLO_HEADERS = [
    ("Content-Type", "text/plain"),
    ("Content-Length", str(len(HELLO_BODY))),
]


def hello(
    environ: dict[str, Any], start_response: Callable[..., Any]
) -> Iterable[bytes]:
    """Answer every request with a fixed plain-text ``Hello, World!``."""
    start_response("200 OK", list(_HELLO_HEADERS))
    return [HELLO_BODY]


IO_WAIT_SECONDS = 0.005


def io_wait(
    environ: dict[str, Any], start_response: Callable[..., Any]
) -> Iterable[bytes]:
    """Answer after a 5 ms wait that holds no CPU, like a typical database query."""
    time.sleep(IO_WAIT_SECONDS)
    start_response("200 OK", list(_HELLO_HEADERS))
    return [HELLO_BODY]
