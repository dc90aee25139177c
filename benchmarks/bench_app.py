"""Microseconds per request through the whole app, in process: sluice vs Flask.

Each app has 100 routes (50 static, 50 with an int parameter) registered in
the same order; a request is a fresh environ, the WSGI call, the iterable
consumed and ``close()`` called, as a server does. Cases: the static route
registered first, the one registered last, ``/users/<int:id>``, a JSON
response from a dict, and a 404. Run pinned to one core:

    taskset -c 0 python benchmarks/bench_app.py

A first measurement toward ``benchmarks/framework.py`` (issue 3), which
adds Falcon, Bottle, Django and Pyramid.
"""

from __future__ import annotations

import io
import statistics
import sys
import timeit
from collections.abc import Callable
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

CASES = {
    "static first": "/static0",
    "static last": "/static49",
    "param": "/users/123",
    "json": "/json",
    "404": "/missing/path",
}


def make_environ(path: str) -> dict[str, Any]:
    """A minimal PEP 3333 environ for GET ``path``."""
    return {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "127.0.0.1:8000",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }


def sluice_app() -> Callable[..., Any]:
    """The benchmark app in sluice."""
    from sluice import App

    app = App("bench")
    for i in range(50):
        app.add_url_rule(f"/static{i}", f"static{i}", lambda i=i: f"static {i}")
        app.add_url_rule(f"/p{i}/<int:id>", f"p{i}", lambda id, i=i: f"p{i} {id}")
    app.add_url_rule("/users/<int:id>", "user", lambda id: f"user {id}")
    app.add_url_rule("/json", "json", lambda: {"hello": "world", "n": 1})
    return app


def flask_app() -> Callable[..., Any]:
    """The same app in Flask."""
    from flask import Flask

    app = Flask("bench")
    for i in range(50):
        app.add_url_rule(f"/static{i}", f"static{i}", lambda i=i: f"static {i}")
        app.add_url_rule(f"/p{i}/<int:id>", f"p{i}", lambda id, i=i: f"p{i} {id}")
    app.add_url_rule("/users/<int:id>", "user", lambda id: f"user {id}")
    app.add_url_rule("/json", "json", lambda: {"hello": "world", "n": 1})
    return app


def call(app: Callable[..., Any], path: str) -> None:
    """One request as a server makes it."""
    result = app(make_environ(path), lambda status, headers, exc_info=None: None)
    for _ in result:
        pass
    close = getattr(result, "close", None)
    if close is not None:
        close()


def measure(app: Callable[..., Any], path: str, number: int = 5000, repeat: int = 7) -> float:
    """Median microseconds per request."""
    call(app, path)
    times = timeit.repeat(lambda: call(app, path), number=number, repeat=repeat)
    return statistics.median(times) / number * 1e6


def main() -> int:
    """Print the table."""
    import logging

    logging.getLogger("sluice").setLevel(logging.CRITICAL)
    apps = {"sluice": sluice_app(), "Flask": flask_app()}
    print("| app | " + " | ".join(CASES) + " |")
    print("|---|" + "---:|" * len(CASES))
    results: dict[str, list[float]] = {}
    for name, app in apps.items():
        results[name] = [measure(app, path) for path in CASES.values()]
        print(f"| {name} | " + " | ".join(f"{v:.1f}" for v in results[name]) + " |")
    ratios = [f"{f / s:.1f}x" for s, f in zip(results["sluice"], results["Flask"])]
    print("| Flask / sluice | " + " | ".join(ratios) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
