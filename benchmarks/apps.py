"""WSGI applications that the benchmark scripts serve.

Every server under test loads these by import string (``benchmarks.apps:hello``),
so the work done per request is identical across servers.

``sluice_users``, ``flask_users`` and ``falcon_users`` are the 100-route app
of ``benchmarks/framework.py`` in each framework (``/users/123`` answers
``user 123``). They are built on first access, so a server that loads one
imports only its own framework.
"""

from __future__ import annotations

import importlib
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


# Lazily built framework apps: attribute name -> builder in benchmarks.framework.
_FRAMEWORK_APPS = {
    "sluice_users": "make_sluice_app",
    "flask_users": "make_flask_app",
    "falcon_users": "make_falcon_app",
}


def __getattr__(name: str) -> Any:
    """Build one of the framework apps on first access (PEP 562) and keep it."""
    builder = _FRAMEWORK_APPS.get(name)
    if builder is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    # NOTE: imported here, not at the top, so that serving ``hello`` loads no framework.
    framework = importlib.import_module("benchmarks.framework")
    app = getattr(framework, builder)()
    globals()[name] = app
    return app
