"""Time one 100-route app in sluice, Flask, Falcon, Bottle, Django and Pyramid, in process (issue 3).

Design: every framework serves the same app: 50 static routes
``/static{i}`` and 50 parametrised ``/p{i}/<int:id>``, registered
alternately in the same order, then ``/users/<int:id>`` and ``/json``. A
request is made as a server makes it: a fresh PEP 3333 ``environ`` (with a
fresh ``wsgi.input``), the WSGI call with a no-op ``start_response``, the
returned iterable consumed and ``close()`` called if present. Timed cases:
the static route registered first, the one registered last,
``/users/123``, a JSON response from a dict and a 404.

Before timing, each app answers every case once (plus two check-only
requests) and the run stops if any answer has the wrong status, content
type or body, so no framework is timed answering a 404 or a 500 it should
not give. Timing is ``timeit`` (garbage collection off while timing, its
default) with frameworks interleaved: each round times every case in every
framework back to back (the framework order reversed every other round, so
a burst of load on a shared machine hits the frameworks compared alike),
and the table gives the median round in µs per request, including the
harness's own cost (reported beside the table).

"Import + build" runs each builder's source in a fresh interpreter, timed
from before the framework's import to the app being built (sluice's map
compiled by ``freeze()``, Falcon's by ``compile=True``); "first request" is
the first request after that, where frameworks that compile lazily pay for
it. The table gives medians of several interpreters, after one warm-up.

Usage (from the repository root, inside the venv), pinned to one core::

    taskset -c 0 python benchmarks/framework.py            # full run, table to stdout
    taskset -c 0 python benchmarks/framework.py --quick    # smoke run with small numbers
    taskset -c 0 python benchmarks/framework.py --write    # also update benchmarks/RESULTS.md

Needs every framework in the current interpreter: ``pip install -e '.[dev,bench]'``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import importlib.metadata
import inspect
import io
import json
import logging
import os
import platform
import shlex
import statistics
import subprocess
import sys
import timeit
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.server import load_average
from benchmarks.server import write_section

WSGIApp = Callable[..., Iterable[bytes]]

NUMBER = 5000  # requests per timed cell
REPEAT = 31  # interleaved rounds (medians; on a shared VM bursts of load slow some rounds by up to 60%)
BUILD_RUNS = 9  # fresh interpreters per framework for import + build (medians)
QUICK_NUMBER = 200
QUICK_REPEAT = 3
QUICK_BUILD_RUNS = 2
BUILD_TIMEOUT_S = 120.0


# --------------------------------------------------------------------------- #
# Cases
# --------------------------------------------------------------------------- #


@dataclass(frozen=True)
class Case:
    """One request and the answer every framework must give to it."""

    name: str
    path: str
    status: int
    text: str | None = None  # the exact text/html or text/plain body
    json: dict[str, Any] | None = None  # the decoded application/json body


TIMED_CASES = (
    Case("static first", "/static0", 200, text="static 0"),
    Case("static last", "/static49", 200, text="static 49"),
    Case("param", "/users/123", 200, text="user 123"),
    Case("json", "/json", 200, json={"hello": "world", "n": 1}),
    Case("404", "/missing/path", 404),
)
# Checked, not timed: the parametrised routes exist, and the int converter
# refuses what is not a number.
CHECK_ONLY_CASES = (
    Case("param route registered last", "/p49/7", 200, text="p49 7"),
    Case("int converter, not a number", "/users/abc", 404),
)


# --------------------------------------------------------------------------- #
# The app in each framework
#
# NOTE: each builder is self-contained (its imports inside, no module
# globals) because build_times() runs its source alone in a fresh
# interpreter.
# --------------------------------------------------------------------------- #


def make_sluice_app() -> WSGIApp:
    """Build the benchmark app in sluice, its URL map compiled."""
    from sluice import App

    def text_view(body: str) -> Callable[[], str]:
        return lambda: body

    def param_view(prefix: str) -> Callable[[int], str]:
        return lambda id: f"{prefix} {id}"

    app = App("bench")
    for i in range(50):
        app.add_url_rule(f"/static{i}", f"static{i}", text_view(f"static {i}"))
        app.add_url_rule(f"/p{i}/<int:id>", f"p{i}", param_view(f"p{i}"))
    app.add_url_rule("/users/<int:id>", "user", param_view("user"))
    app.add_url_rule("/json", "json", lambda: {"hello": "world", "n": 1})
    app.freeze()
    return app


def make_flask_app() -> WSGIApp:
    """Build the benchmark app in Flask."""
    from flask import Flask

    def text_view(body: str) -> Callable[[], str]:
        return lambda: body

    def param_view(prefix: str) -> Callable[[int], str]:
        return lambda id: f"{prefix} {id}"

    app = Flask("bench")
    for i in range(50):
        app.add_url_rule(f"/static{i}", f"static{i}", text_view(f"static {i}"))
        app.add_url_rule(f"/p{i}/<int:id>", f"p{i}", param_view(f"p{i}"))
    app.add_url_rule("/users/<int:id>", "user", param_view("user"))
    app.add_url_rule("/json", "json", lambda: {"hello": "world", "n": 1})
    return app


def make_falcon_app() -> WSGIApp:
    """Build the benchmark app in Falcon, its router compiled."""
    import falcon

    class TextResource:
        def __init__(self, body: str) -> None:
            self.body = body

        def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
            resp.content_type = falcon.MEDIA_HTML
            resp.text = self.body

    class ParamResource:
        def __init__(self, prefix: str) -> None:
            self.prefix = prefix

        def on_get(self, req: falcon.Request, resp: falcon.Response, id: int) -> None:
            resp.content_type = falcon.MEDIA_HTML
            resp.text = f"{self.prefix} {id}"

    class JSONResource:
        def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
            resp.media = {"hello": "world", "n": 1}

    app = falcon.App()
    for i in range(50):
        app.add_route(f"/static{i}", TextResource(f"static {i}"))
        app.add_route(f"/p{i}/{{id:int}}", ParamResource(f"p{i}"))
    app.add_route("/users/{id:int}", ParamResource("user"))
    app.add_route("/json", JSONResource(), compile=True)
    return app


def make_bottle_app() -> WSGIApp:
    """Build the benchmark app in Bottle."""
    import bottle

    def text_view(body: str) -> Callable[[], str]:
        return lambda: body

    def param_view(prefix: str) -> Callable[[int], str]:
        return lambda id: f"{prefix} {id}"

    app = bottle.Bottle()
    for i in range(50):
        app.route(f"/static{i}", "GET", text_view(f"static {i}"))
        app.route(f"/p{i}/<id:int>", "GET", param_view(f"p{i}"))
    app.route("/users/<id:int>", "GET", param_view("user"))
    app.route("/json", "GET", lambda: {"hello": "world", "n": 1})
    return app


def make_django_app() -> WSGIApp:
    """Build the benchmark app in Django: settings in process, no middleware, urlconf in a made-up module."""
    import sys
    import types

    import django
    from django.conf import settings
    from django.core.wsgi import get_wsgi_application
    from django.http import HttpRequest
    from django.http import HttpResponse
    from django.http import JsonResponse
    from django.urls import path

    def text_view(body: str) -> Callable[[HttpRequest], HttpResponse]:
        return lambda request: HttpResponse(body)

    def param_view(prefix: str) -> Callable[..., HttpResponse]:
        return lambda request, id: HttpResponse(f"{prefix} {id}")

    urlpatterns = []
    for i in range(50):
        urlpatterns.append(path(f"static{i}", text_view(f"static {i}")))
        urlpatterns.append(path(f"p{i}/<int:id>", param_view(f"p{i}")))
    urlpatterns.append(path("users/<int:id>", param_view("user")))
    urlpatterns.append(path("json", lambda request: JsonResponse({"hello": "world", "n": 1})))
    urls = types.ModuleType("bench_django_urls")
    urls.urlpatterns = urlpatterns
    sys.modules[urls.__name__] = urls
    settings.configure(
        DEBUG=False,
        SECRET_KEY="benchmark-only-not-secret",
        ALLOWED_HOSTS=["127.0.0.1", "localhost"],
        ROOT_URLCONF=urls.__name__,
        MIDDLEWARE=[],
    )
    django.setup()
    return get_wsgi_application()


def make_pyramid_app() -> WSGIApp:
    """Build the benchmark app in Pyramid."""
    from pyramid.config import Configurator
    from pyramid.request import Request
    from pyramid.response import Response

    def text_view(body: str) -> Callable[[Request], Response]:
        return lambda request: Response(body)

    def param_view(prefix: str) -> Callable[[Request], Response]:
        return lambda request: Response(f"{prefix} {int(request.matchdict['id'])}")

    config = Configurator()
    for i in range(50):
        config.add_route(f"static{i}", f"/static{i}")
        config.add_view(text_view(f"static {i}"), route_name=f"static{i}")
        config.add_route(f"p{i}", f"/p{i}/{{id:\\d+}}")
        config.add_view(param_view(f"p{i}"), route_name=f"p{i}")
    config.add_route("user", "/users/{id:\\d+}")
    config.add_view(param_view("user"), route_name="user")
    config.add_route("json", "/json")
    config.add_view(lambda request: {"hello": "world", "n": 1}, route_name="json", renderer="json")
    return config.make_wsgi_app()


@dataclass(frozen=True)
class Framework:
    """One framework under test."""

    name: str  # as in the table
    dist: str  # distribution whose version is reported
    make_app: Callable[[], WSGIApp]


FRAMEWORKS = (
    Framework("sluice", "sluice", make_sluice_app),
    Framework("Flask", "flask", make_flask_app),
    Framework("Falcon", "falcon", make_falcon_app),
    Framework("Bottle", "bottle", make_bottle_app),
    Framework("Django", "django", make_django_app),
    Framework("Pyramid", "pyramid", make_pyramid_app),
)


# --------------------------------------------------------------------------- #
# Requests
# --------------------------------------------------------------------------- #


def make_environ(path: str) -> dict[str, Any]:
    """Return a fresh PEP 3333 environ for ``GET path`` with an empty ``wsgi.input``."""
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


def ignore_start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
    """A ``start_response`` that keeps nothing (the timed requests)."""


def call(app: WSGIApp, path: str) -> None:
    """Make one request as a server does: call, consume the iterable, close it."""
    result = app(make_environ(path), ignore_start_response)
    for _ in result:
        pass
    close = getattr(result, "close", None)
    if close is not None:
        close()


def null_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """The least a WSGI app can do, to time the harness alone."""
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b""]


@dataclass(frozen=True)
class Answer:
    """What a client would see of one response."""

    status: str
    content_type: str
    body: bytes


def fetch(app: WSGIApp, path: str) -> Answer:
    """Make one request like :func:`call`, keeping the status, content type and body."""
    from sluice.wrappers.response import call_wsgi_app

    status, headers, body = call_wsgi_app(app, make_environ(path))
    content_type = next((v for k, v in headers if k.lower() == "content-type"), "")
    return Answer(status, content_type, body)


def mismatch(case: Case, answer: Answer) -> str | None:
    """Say how ``answer`` is wrong for ``case``, or return None if it is right."""
    if not answer.status.startswith(f"{case.status} "):
        return f"status {answer.status!r}, expected {case.status}"
    media_type = answer.content_type.split(";")[0].strip().lower()
    if case.text is not None:
        if media_type not in ("text/html", "text/plain"):
            return f"content type {answer.content_type!r}, expected text/html or text/plain"
        if answer.body != case.text.encode():
            return f"body {answer.body[:200]!r}, expected {case.text!r}"
    if case.json is not None:
        if media_type != "application/json":
            return f"content type {answer.content_type!r}, expected application/json"
        try:
            decoded = json.loads(answer.body)
        except ValueError:
            decoded = None
        if decoded != case.json:
            return f"body {answer.body[:200]!r}, expected JSON {case.json!r}"
    return None


def check_apps(apps: dict[str, WSGIApp]) -> list[str]:
    """Ask every app every case once; return one line per wrong answer."""
    problems = []
    for name, app in apps.items():
        for case in (*TIMED_CASES, *CHECK_ONLY_CASES):
            try:
                problem = mismatch(case, fetch(app, case.path))
            except Exception as exc:  # noqa: BLE001 - any failure is reported, then the run stops
                problem = f"raised {type(exc).__name__}: {exc}"
            if problem is not None:
                problems.append(f"{name}, {case.name} (GET {case.path}): {problem}")
    return problems


# --------------------------------------------------------------------------- #
# Measurements
# --------------------------------------------------------------------------- #


def time_requests(apps: dict[str, WSGIApp], number: int, repeat: int) -> dict[tuple[str, str], float]:
    """Return the median µs per request for each (framework, case), rounds interleaved.

    Within a round, each case is timed in every framework back to back, in
    an order reversed every other round, so that a burst of load from
    elsewhere on a shared machine falls on the frameworks compared alike.
    """
    rounds: dict[tuple[str, str], list[float]] = {}
    for index in range(repeat):
        order = list(apps.items()) if index % 2 == 0 else list(reversed(apps.items()))
        for case in TIMED_CASES:
            for name, app in order:
                timer = timeit.Timer(functools.partial(call, app, case.path))
                rounds.setdefault((name, case.name), []).append(timer.timeit(number))
    return {key: statistics.median(times) / number * 1e6 for key, times in rounds.items()}


def time_harness(number: int, repeat: int) -> float:
    """Return the median µs per request of the harness around :func:`null_app`."""
    timer = timeit.Timer(functools.partial(call, null_app, "/static0"))
    return statistics.median(timer.repeat(repeat, number)) / number * 1e6


_BUILD_SNIPPET = """\
from __future__ import annotations
import time
_start = time.perf_counter()
{builder}
app = {builder_name}()
_built = time.perf_counter()
import io
import sys
{make_environ}
result = app(make_environ("/static0"), lambda status, headers, exc_info=None: None)
for _ in result:
    pass
getattr(result, "close", lambda: None)()
_served = time.perf_counter()
print((_built - _start) * 1e3, (_served - _built) * 1e3)
"""


def build_snippet(framework: Framework) -> str:
    """Return the program that times importing ``framework``, building its app and one request."""
    return _BUILD_SNIPPET.format(
        builder=inspect.getsource(framework.make_app),
        builder_name=framework.make_app.__name__,
        make_environ=inspect.getsource(make_environ),
    )


def run_build(framework: Framework) -> tuple[float, float]:
    """Return (import + build ms, first request ms) from one fresh interpreter.

    Raises:
        RuntimeError: the interpreter failed; the message has its stderr.
    """
    # The warm-up must be able to write bytecode caches, as an installed
    # package has them: with PYTHONDONTWRITEBYTECODE set (some shells and CI
    # images set it), an editable sluice would be compiled from source on
    # every run while the frameworks in site-packages were compiled by pip.
    env = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
    done = subprocess.run([sys.executable, "-c", build_snippet(framework)], capture_output=True,
                          text=True, timeout=BUILD_TIMEOUT_S, check=False, env=env)
    if done.returncode != 0:
        raise RuntimeError(f"building the {framework.name} app in a fresh interpreter failed "
                           f"(exit {done.returncode}):\n{done.stderr}")
    build_ms, first_ms = done.stdout.split()
    return float(build_ms), float(first_ms)


def build_times(frameworks: Sequence[Framework], runs: int) -> dict[str, tuple[float, float]]:
    """Return median (import + build ms, first request ms) per framework, runs interleaved."""
    samples: dict[str, list[tuple[float, float]]] = {f.name: [] for f in frameworks}
    for framework in frameworks:
        run_build(framework)  # warm-up: bytecode caches and page cache
    for _ in range(runs):
        for framework in frameworks:
            samples[framework.name].append(run_build(framework))
    return {
        name: (statistics.median(b for b, _ in pairs), statistics.median(f for _, f in pairs))
        for name, pairs in samples.items()
    }


# --------------------------------------------------------------------------- #
# Report
# --------------------------------------------------------------------------- #

COLUMNS = (*(f"{case.name} µs" for case in TIMED_CASES), "import + build ms", "first request ms")
# A first request takes a fraction of a millisecond: more digits, and no
# ratio, which at that size would be noise.
_RATIO_COLUMNS = len(COLUMNS) - 1


def table_rows(frameworks: Sequence[Framework], requests: dict[tuple[str, str], float],
               builds: dict[str, tuple[float, float]]) -> dict[str, list[float]]:
    """Return each framework's row of figures, in :data:`COLUMNS` order."""
    return {
        f.name: [*(requests[f.name, case.name] for case in TIMED_CASES), *builds[f.name]]
        for f in frameworks
    }


def markdown_table(rows: dict[str, list[float]]) -> str:
    """Return the table: one row per framework, then the Flask / sluice and sluice / Falcon ratios."""
    lines = ["| framework | " + " | ".join(COLUMNS) + " |", "|---|" + "---:|" * len(COLUMNS)]
    for name, values in rows.items():
        cells = [f"{v:.1f}" for v in values[:_RATIO_COLUMNS]] + [f"{v:.2f}" for v in values[_RATIO_COLUMNS:]]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    for slower, faster in (("Flask", "sluice"), ("sluice", "Falcon")):
        if slower in rows and faster in rows:
            pairs = zip(rows[slower][:_RATIO_COLUMNS], rows[faster][:_RATIO_COLUMNS])
            ratios = [f"{s / f:.2f}x" for s, f in pairs] + [""] * (len(COLUMNS) - _RATIO_COLUMNS)
            lines.append(f"| {slower} / {faster} | " + " | ".join(ratios) + " |")
    return "\n".join(lines)


def pinned_cpu() -> int | None:
    """Return the one CPU this process may run on, or None if it is not pinned."""
    cpus = os.sched_getaffinity(0)
    return next(iter(cpus)) if len(cpus) == 1 else None


def command_line(argv: Sequence[str]) -> str:
    """Return the command that reproduces this run, with its ``taskset`` prefix."""
    cpu = pinned_cpu()
    prefix = f"taskset -c {cpu} " if cpu is not None else ""
    return f"{prefix}python benchmarks/framework.py {shlex.join(argv)}".rstrip()


def report(frameworks: Sequence[Framework], rows: dict[str, list[float]], harness_us: float,
           args: argparse.Namespace, command: str, loads: tuple[float, float]) -> str:
    """Return the Markdown section: setup notes, then the table."""
    versions = ", ".join(f"{f.name} {importlib.metadata.version(f.dist)}" for f in frameworks)
    return "\n".join([
        "## Frameworks: whole-app requests in process (`benchmarks/framework.py`)",
        "",
        f"- Date: {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC",
        f"- Command: `{command}`",
        f"- Machine: nproc={os.cpu_count()}, Python {platform.python_version()} "
        f"({platform.python_implementation()}), {platform.system()} {platform.release()}; "
        f"1-min load average {loads[0]:.2f} before, {loads[1]:.2f} after the run",
        f"- Versions: {versions}",
        "- App: 50 static `/static{i}` and 50 `/p{i}/<int:id>` routes registered alternately, "
        "then `/users/<int:id>` and `/json`; no middleware (Django: `MIDDLEWARE = []`). "
        "Every answer's status, content type and body was checked before timing.",
        "- Request: a fresh PEP 3333 environ and `wsgi.input`, the WSGI call, the iterable "
        "consumed and closed. Cases: `/static0`, `/static49`, `/users/123`, `/json` "
        "(a dict as JSON), `/missing/path` (404).",
        f"- µs per request: median of {args.repeat} interleaved round(s) of {args.number:,} "
        f"requests (`timeit`, garbage collection off). The harness alone (environ, call, "
        f"consume, close around a minimal WSGI app) costs {harness_us:.1f} µs of each figure.",
        f"- Import + build ms: a fresh interpreter from before the framework's import to the "
        f"app built (sluice `freeze()`, Falcon `compile=True`); first request ms: the request "
        f"after that, where lazy compilation is paid. Medians of {args.build_runs} interpreter(s) "
        "after one warm-up.",
        "",
        markdown_table(rows),
    ])


def frameworks_named(names: Sequence[str]) -> list[Framework]:
    """The frameworks called ``names`` (any case), in that order.

    Raises:
        ValueError: a name is not one of :data:`FRAMEWORKS`.
    """
    known = {f.name.lower(): f for f in FRAMEWORKS}
    unknown = [name for name in names if name.lower() not in known]
    if unknown:
        raise ValueError(f"unknown framework(s) {', '.join(unknown)}; choose from "
                         + ", ".join(f.name for f in FRAMEWORKS))
    return [known[name.lower()] for name in names]


def _positive(value: str) -> int:
    """Parse a whole number of at least 1 (argparse type)."""
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse the command line; ``--quick`` sets the small numbers unless given explicitly."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help=f"smoke run: {QUICK_NUMBER} requests × {QUICK_REPEAT} rounds, "
                             f"{QUICK_BUILD_RUNS} builds; refuses --write")
    parser.add_argument("--number", type=_positive, help=f"requests per timed cell (default {NUMBER})")
    parser.add_argument("--repeat", type=_positive, help=f"interleaved rounds (default {REPEAT})")
    parser.add_argument("--build-runs", type=_positive,
                        help=f"fresh interpreters per framework for import + build (default {BUILD_RUNS})")
    parser.add_argument("--frameworks", type=lambda v: [n for n in v.split(",") if n],
                        help="comma-separated subset, e.g. sluice,Falcon (default: all)")
    parser.add_argument("--write", action="store_true",
                        help="also keep the section in benchmarks/RESULTS.md")
    args = parser.parse_args(argv)
    if args.quick and args.write:
        parser.error("--write records full runs only; drop --quick")
    args.number = args.number or (QUICK_NUMBER if args.quick else NUMBER)
    args.repeat = args.repeat or (QUICK_REPEAT if args.quick else REPEAT)
    args.build_runs = args.build_runs or (QUICK_BUILD_RUNS if args.quick else BUILD_RUNS)
    try:
        args.frameworks = frameworks_named(args.frameworks or [f.name for f in FRAMEWORKS])
    except ValueError as exc:
        parser.error(str(exc))
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Check every app, time them, print (and with ``--write`` record) the table."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    frameworks: list[Framework] = args.frameworks
    if pinned_cpu() is None:
        print("warning: not pinned to one core; run under `taskset -c 0` for stable numbers",
              file=sys.stderr)
    loads_before = load_average()
    apps = {f.name: f.make_app() for f in frameworks}
    problems = check_apps(apps)
    if problems:
        print("Wrong answers; nothing timed:\n  " + "\n  ".join(problems), file=sys.stderr)
        return 1
    # After the check, so that a 500 there still shows its logged traceback.
    logging.getLogger("sluice").setLevel(logging.CRITICAL)
    harness_us = time_harness(args.number, args.repeat)
    requests = time_requests(apps, args.number, args.repeat)
    builds = build_times(frameworks, args.build_runs)
    rows = table_rows(frameworks, requests, builds)
    text = report(frameworks, rows, harness_us, args, command_line(argv),
                  (loads_before, load_average()))
    print(text)
    if args.write:
        write_section(text, owner="framework.py")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
