"""A plain WSGI app that shows the request id the server gave it and logs while it runs.

Every log record of ``tests.requestid`` goes to stderr as ``APPLOG <request_id>
<message>``: one in the app call, one while its body is iterated, one in the
body's ``close()``. The body is ``environ["sluice.request_id"]``.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from collections.abc import Iterator
from typing import Any

log = logging.getLogger("tests.requestid")


class _Body:
    """A body that logs as it is iterated and closed (on the pool thread, after the app returned)."""

    def __init__(self, data: bytes, path: str) -> None:
        self.data = data
        self.path = path

    def __iter__(self) -> Iterator[bytes]:
        log.info("iter %s", self.path)
        yield self.data

    def close(self) -> None:
        log.info("close %s", self.path)


def _setup() -> None:
    if not log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("APPLOG %(request_id)s %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
    """``/boom`` raises, ``/own`` sets its own X-Request-ID, ``/sleep`` sleeps 5 s; anything else is 200."""
    _setup()
    path = environ["PATH_INFO"]
    log.info("call %s", path)
    if path == "/boom":
        raise RuntimeError("boom")
    if path == "/sleep":
        time.sleep(5)
    body = environ["sluice.request_id"].encode("ascii")
    headers = [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))]
    if path == "/own":
        headers.append(("X-Request-ID", "chosen-by-the-app"))
    start_response("200 OK", headers)
    return _Body(body, path)
