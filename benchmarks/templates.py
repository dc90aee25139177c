"""Time a page rendered through a Jinja2 template in sluice, Falcon with Jinja2 and Flask, in process (issue 8).

Design: each framework serves ``GET /page``: a 12-row table rendered from
``benchmarks/templates/page.html`` with autoescape on (names, e-mails and
notes hold ``<``, ``&`` and quotes, so escaping has work to do), with the
same data. sluice and Flask use ``render_template`` and their own
environments; the Falcon app keeps a ``jinja2.Environment`` of its own
(the same folder, autoescape for ``.html``) and looks the template up per
request with ``get_template``, as ``render_template`` does. A request is
made as benchmarks/framework.py makes it (a fresh environ, the WSGI call,
the iterable consumed and closed), and before timing every app's answer
must be a 200 ``text/html`` with the same body, byte for byte. Rounds are
interleaved, the order reversed every other round; the table gives the
median round in µs per request.

Usage (from the repository root, inside the venv), pinned to one core::

    taskset -c 0 python benchmarks/templates.py            # full run, table to stdout
    taskset -c 0 python benchmarks/templates.py --quick    # smoke run with small numbers
    taskset -c 0 python benchmarks/templates.py --write    # also update benchmarks/RESULTS.md
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import importlib.metadata
import logging
import os
import platform
import shlex
import statistics
import sys
import timeit
from collections.abc import Callable
from collections.abc import Sequence
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.framework import WSGIApp
from benchmarks.framework import call
from benchmarks.framework import fetch
from benchmarks.framework import pinned_cpu
from benchmarks.framework import time_harness
from benchmarks.server import load_average
from benchmarks.server import write_section

HERE = Path(__file__).resolve().parent
TEMPLATE = "page.html"
PATH = "/page"
TITLE = "Invoices <Q4> & notes"
NUMBER = 5000
REPEAT = 31
QUICK_NUMBER = 200
QUICK_REPEAT = 3


def make_rows() -> list[dict[str, Any]]:
    """The 12 rows of the table: text that needs escaping, numbers, a flag."""
    names = ["Ada <Lovelace>", "Bob & Co", 'Chloé "C"', "D'Arcy", "Eve", "Frank <script>",
             "Grace & Hopper", "Heidi", "Ivan <b>", "Judy", "Mallory & Trent", "Niaj"]
    return [
        {
            "name": name,
            "email": f"user{i}@example.test",
            "note": f"note #{i}: <{i * 7}> & 'quoted'",
            "amount": i * 1234.5678,
            "status": "paid" if i % 3 else "open",
            "overdue": i % 4 == 0,
        }
        for i, name in enumerate(names, start=1)
    ]


ROWS = make_rows()


def make_sluice_app() -> WSGIApp:
    """Build the page in sluice: ``render_template`` from ``benchmarks/templates``."""
    import sluice
    from sluice import render_template

    app = sluice.App("bench_templates", root_path=str(HERE), template_folder="templates")
    app.add_url_rule(PATH, "page", lambda: render_template(TEMPLATE, title=TITLE, rows=ROWS))
    app.freeze()
    return app  # type: ignore[no-any-return]


def make_flask_app() -> WSGIApp:
    """Build the page in Flask: ``render_template`` from ``benchmarks/templates``."""
    from flask import Flask
    from flask import render_template

    app = Flask("bench_templates", root_path=str(HERE), template_folder="templates")
    app.add_url_rule(PATH, "page", lambda: render_template(TEMPLATE, title=TITLE, rows=ROWS))
    return app


def make_falcon_app() -> WSGIApp:
    """Build the page in Falcon with its own Jinja2 environment (autoescape for ``.html``)."""
    import falcon
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(HERE / "templates")),
        autoescape=jinja2.select_autoescape(["html", "htm", "xml", "xhtml", "svg"]),
    )

    class PageResource:
        def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
            resp.content_type = falcon.MEDIA_HTML
            resp.text = env.get_template(TEMPLATE).render(title=TITLE, rows=ROWS)

    app = falcon.App()
    app.add_route(PATH, PageResource(), compile=True)
    return app


def render_only_app(env: Any) -> WSGIApp:
    """A bare WSGI app that renders the page with ``env``: the template's own cost, for reference."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        body = env.get_template(TEMPLATE).render(title=TITLE, rows=ROWS).encode("utf-8")
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(body)))])
        return [body]

    return app


def make_stock_render_app() -> WSGIApp:
    """Reference: a bare WSGI app rendering with a stock ``jinja2.Environment`` (as the Falcon app's)."""
    import jinja2

    return render_only_app(jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(HERE / "templates")),
        autoescape=jinja2.select_autoescape(["html", "htm", "xml", "xhtml", "svg"]),
    ))


def make_sluice_render_app() -> WSGIApp:
    """Reference: a bare WSGI app rendering with sluice's Environment (its dict and escape fast paths)."""
    return render_only_app(getattr(make_sluice_app(), "jinja_env"))


FRAMEWORKS: dict[str, tuple[str, Callable[[], WSGIApp]]] = {
    "sluice": ("sluice", make_sluice_app),
    "Falcon+Jinja2": ("falcon", make_falcon_app),
    "Flask": ("flask", make_flask_app),
    # References, not frameworks: what the template costs without one.
    "bare WSGI + stock Jinja2 Environment": ("jinja2", make_stock_render_app),
    "bare WSGI + sluice's Environment": ("sluice", make_sluice_render_app),
}


def check_apps(apps: dict[str, WSGIApp]) -> list[str]:
    """Ask every app for the page once; return one line per wrong or differing answer."""
    problems = []
    bodies: dict[str, bytes] = {}
    for name, app in apps.items():
        answer = fetch(app, PATH)
        if not answer.status.startswith("200 "):
            problems.append(f"{name}: status {answer.status!r}")
        if answer.content_type.split(";")[0].strip().lower() != "text/html":
            problems.append(f"{name}: content type {answer.content_type!r}")
        bodies[name] = answer.body
    reference = bodies.get("sluice") or next(iter(bodies.values()))
    if b"Ada &lt;Lovelace&gt;" not in reference or reference.count(b"<tr class=") != 12:
        problems.append("the page is not the escaped 12-row table")
    for name, body in bodies.items():
        if body != reference:
            problems.append(f"{name}: body differs from sluice's ({len(body)} vs {len(reference)} bytes)")
    return problems


def time_pages(apps: dict[str, WSGIApp], number: int, repeat: int) -> dict[str, float]:
    """Return the median µs per request of each app, rounds interleaved (order reversed every other round)."""
    rounds: dict[str, list[float]] = {name: [] for name in apps}
    for index in range(repeat):
        order = list(apps.items()) if index % 2 == 0 else list(reversed(apps.items()))
        for name, app in order:
            rounds[name].append(timeit.Timer(functools.partial(call, app, PATH)).timeit(number))
    return {name: statistics.median(times) / number * 1e6 for name, times in rounds.items()}


def markdown_table(times: dict[str, float]) -> str:
    """One row per framework, then the ratios the issue sets targets for."""
    lines = ["| framework | page µs |", "|---|---:|"]
    lines += [f"| {name} | {value:.1f} |" for name, value in times.items()]
    if "sluice" in times:
        for other, target in (("Falcon+Jinja2", "target: at most 1.00x"), ("Flask", "target: at least 2x")):
            if other in times:
                if other == "Flask":
                    lines.append(f"| Flask / sluice | {times[other] / times['sluice']:.2f}x ({target}) |")
                else:
                    lines.append(f"| sluice / {other} | {times['sluice'] / times[other]:.2f}x ({target}) |")
    return "\n".join(lines)


def command_line(argv: Sequence[str]) -> str:
    """Return the command that reproduces this run, with its ``taskset`` prefix."""
    cpu = pinned_cpu()
    prefix = f"taskset -c {cpu} " if cpu is not None else ""
    return f"{prefix}python benchmarks/templates.py {shlex.join(argv)}".rstrip()


def report(times: dict[str, float], harness_us: float, args: argparse.Namespace, command: str,
           loads: tuple[float, float]) -> str:
    """Return the Markdown section: setup notes, then the table."""
    versions = ", ".join(
        f"{dist} {importlib.metadata.version(dist)}" for dist in ("sluice", "falcon", "flask", "jinja2")
    )
    return "\n".join([
        "## Templates: a 12-row table through Jinja2 in process (`benchmarks/templates.py`)",
        "",
        f"- Date: {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC",
        f"- Command: `{command}`",
        f"- Machine: nproc={os.cpu_count()}, Python {platform.python_version()} "
        f"({platform.python_implementation()}), {platform.system()} {platform.release()}; "
        f"1-min load average {loads[0]:.2f} before, {loads[1]:.2f} after the run",
        f"- Versions: {versions}",
        "- Page: `GET /page` renders `benchmarks/templates/page.html` (12 rows, 6 columns, text that "
        "needs escaping, a filter, a format, `loop.cycle`) with autoescape; sluice and Flask by "
        "`render_template`, Falcon by `env.get_template(...).render(...)` on its own Jinja2 "
        "environment. Every body was checked equal, byte for byte, before timing. The two "
        "`bare WSGI` rows are references, not frameworks: a minimal WSGI function that renders the "
        "page with a stock `jinja2.Environment` (Falcon's) or with sluice's `Environment` (which "
        "reads dict items without Jinja2's failed attribute lookup and escapes str and int without "
        "markupsafe's Python-level calls, with the same output), so the table shows how much of "
        "each figure is the template and how much the framework.",
        f"- µs per request: median of {args.repeat} interleaved round(s) of {args.number:,} requests "
        f"(`timeit`, garbage collection off); the harness alone costs {harness_us:.1f} µs of each figure.",
        "",
        markdown_table(times),
    ])


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """Parse the command line; ``--quick`` sets the small numbers unless given explicitly."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run with small numbers; refuses --write")
    parser.add_argument("--number", type=_positive, help=f"requests per timed cell (default {NUMBER})")
    parser.add_argument("--repeat", type=_positive, help=f"interleaved rounds (default {REPEAT})")
    parser.add_argument("--write", action="store_true", help="also keep the section in benchmarks/RESULTS.md")
    args = parser.parse_args(argv)
    if args.quick and args.write:
        parser.error("--write records full runs only; drop --quick")
    args.number = args.number or (QUICK_NUMBER if args.quick else NUMBER)
    args.repeat = args.repeat or (QUICK_REPEAT if args.quick else REPEAT)
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Check every app, time them, print (and with ``--write`` record) the table."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    if pinned_cpu() is None:
        print("warning: not pinned to one core; run under `taskset -c 0` for stable numbers", file=sys.stderr)
    loads_before = load_average()
    apps = {name: make() for name, (_, make) in FRAMEWORKS.items()}
    problems = check_apps(apps)
    if problems:
        print("Wrong answers; nothing timed:\n  " + "\n  ".join(problems), file=sys.stderr)
        return 1
    logging.getLogger("sluice").setLevel(logging.CRITICAL)
    harness_us = time_harness(args.number, args.repeat)
    times = time_pages(apps, args.number, args.repeat)
    text = report(times, harness_us, args, command_line(argv), (loads_before, load_average()))
    print(text)
    if args.write:
        write_section(text, owner="templates.py")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
