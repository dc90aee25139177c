"""Fixture app for the metrics tests (tests/server/test_metrics_live.py): a plain WSGI app.

``/status/NNN`` answers with status NNN whatever the method; ``/slow?s=SECONDS``
sleeps, then answers 200; anything else answers 200 ``ok``. No framework
sits in between, so each response's status is exactly the one asked for.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

_REASONS = {200: "OK", 201: "Created", 204: "No Content", 301: "Moved Permanently", 404: "Not Found", 500: "Internal Server Error"}


def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    path = environ["PATH_INFO"]
    status = 200
    if path.startswith("/status/"):
        status = int(path[len("/status/") :])
    elif path == "/slow":
        time.sleep(float(environ.get("QUERY_STRING", "").partition("=")[2] or "1"))
    body = b"" if status in (204, 304) else b"ok\n"
    headers = [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))]
    if status == 301:
        headers.append(("Location", "/"))
    start_response(f"{status} {_REASONS.get(status, 'Other')}", headers)
    return [body]
