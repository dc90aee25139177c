"""Compare sluice's app on sluice's server with Flask and Falcon on gunicorn and granian (issue 3).

Design: every row serves the 100-route app of ``benchmarks/framework.py``
in one framework (``benchmarks.apps:{sluice,flask,falcon}_users``) on one
server, and wrk loads ``GET /users/123`` over 16 keep-alive connections.
Everything else is ``benchmarks/server.py``'s machinery, imported: the
server command lines and labels, one worker pinned to core 0 and wrk to
core 1, a fresh server per cell checked for the expected answer, a 1 s
warm-up, interleaved rounds and medians. The sluice app on gunicorn and
granian separates what the framework costs from what the server costs.

Usage (from the repository root, inside the venv)::

    python benchmarks/framework_server.py                          # full run, table to stdout
    python benchmarks/framework_server.py --duration 2 --rounds 1  # smoke run
    python benchmarks/framework_server.py --write                  # also update benchmarks/RESULTS.md

Needs ``wrk`` and ``taskset`` on PATH and Flask, Falcon, gunicorn and granian
in the current interpreter (the project's ``dev`` and ``bench`` extras).
"""

from __future__ import annotations

import argparse
import dataclasses
import shlex
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.framework import TIMED_CASES
from benchmarks.server import CELL_ALIGN
from benchmarks.server import CELL_HEADER
from benchmarks.server import DEFAULT_THREADS
from benchmarks.server import HOST
from benchmarks.server import RESULTS_FILE
from benchmarks.server import RSS_SAMPLE_INTERVAL_S
from benchmarks.server import SCENARIOS
from benchmarks.server import WARMUP_S
from benchmarks.server import WRK_TIMEOUT
from benchmarks.server import CellSummary
from benchmarks.server import ServerSpec
from benchmarks.server import Terminated
from benchmarks.server import _names
from benchmarks.server import _select
from benchmarks.server import add_placement_arguments
from benchmarks.server import cell_columns
from benchmarks.server import check_environment
from benchmarks.server import run_guarded
from benchmarks.server import run_notes
from benchmarks.server import run_parser
from benchmarks.server import server_specs
from benchmarks.server import write_section

SCENARIO = next(s for s in SCENARIOS if s.name == "keepalive-c16")
CASE = next(c for c in TIMED_CASES if c.path == "/users/123")
EXPECTED_BODY = (CASE.text or "").encode()  # framework.py gives this case a text answer
BASELINE = "sluice-on-sluice"
GUNICORN = "gunicorn-gthread"  # sync closes every connection, so no keep-alive
DISTS = ("sluice", "flask", "werkzeug", "falcon", "gunicorn", "granian")


@dataclass(frozen=True)
class Row:
    """One framework's app on one server."""

    app: str  # as in the table
    spec: ServerSpec


def rows(threads: int) -> list[Row]:
    """Every (app, server) row, the baseline first."""
    servers = {s.name: s for s in server_specs(threads)}
    apps = {"sluice": "sluice", "flask": "Flask", "falcon": "Falcon"}
    pairs = [("sluice", "sluice"),
             ("flask", GUNICORN), ("flask", "granian"),
             ("falcon", GUNICORN), ("falcon", "granian"),
             ("sluice", GUNICORN), ("sluice", "granian")]
    return [
        Row(apps[app], dataclasses.replace(
            servers[server], name=f"{app}-on-{server}", target=f"benchmarks.apps:{app}_users",
            path=CASE.path, expected_body=EXPECTED_BODY))
        for app, server in pairs
    ]


def markdown_table(table_rows: Sequence[Row], cells: dict[tuple[str, str], CellSummary],
                   rounds: int) -> str:
    """Render the medians as a Markdown table with each row's req/s relative to the baseline."""
    base = cells.get((BASELINE, SCENARIO.name))
    base_rps = base.median_rps() if base else None
    lines = [f"| App | Server | {CELL_HEADER} | vs sluice on sluice |",
             f"|---|---|{CELL_ALIGN}|---:|"]
    for row in table_rows:
        cell = cells[(row.spec.name, SCENARIO.name)]
        rps = cell.median_rps()
        ratio = f"{rps / base_rps:.2f}×" if rps is not None and base_rps else "n/a"
        lines.append(f"| {row.app} | {row.spec.label} | {cell_columns(cell, rounds)} | {ratio} |")
    return "\n".join(lines)


def report(table_rows: Sequence[Row], cells: dict[tuple[str, str], CellSummary],
           args: argparse.Namespace, command: str, loads: tuple[float, float]) -> str:
    """The full Markdown report: setup notes and the table."""
    return "\n".join([
        "## Frameworks on servers: `GET /users/123` (`benchmarks/framework_server.py`)",
        "",
        *run_notes(command, DISTS, loads),
        "- Apps: `benchmarks.apps:{sluice,flask,falcon}_users`, the 100-route app of "
        "`benchmarks/framework.py` (50 static and 50 `/p{i}/<int:id>` routes registered "
        "alternately, then `/users/<int:id>` and `/json`); each answers "
        f"`GET {CASE.path}` with `200 {CASE.text}` (text/html in all three), "
        "checked before every cell.",
        f"- Setup: as in `benchmarks/server.py`: one worker process pinned with "
        f"`taskset -c {args.server_cpu}`, listening on {HOST}; sluice with its default "
        f"threads and access log off, gunicorn gthread with {args.threads} threads (the faster "
        "gunicorn worker there; sync closes every connection), granian's WSGI interface with "
        f"its default blocking threads. Load: `taskset -c {args.wrk_cpu} wrk -t1 "
        f"-c{SCENARIO.connections} -d{args.duration}s --timeout {WRK_TIMEOUT} --latency "
        f"http://{HOST}:PORT{CASE.path}` ({SCENARIO.label}); fresh server per cell, "
        f"{WARMUP_S}s warm-up with the same load.",
        f"- Figures are medians of {args.rounds} interleaved round(s); errors are summed over "
        "rounds (status = wrk's non-2xx/3xx count, socket = connect+read+write+timeout). "
        "Peak RSS is the largest sum of VmRSS over the server's process group, sampled "
        f"every {RSS_SAMPLE_INTERVAL_S * 1000:.0f} ms. 'vs sluice on sluice' is the row's "
        "median req/s over the first row's (below 1 is slower).",
        "",
        markdown_table(table_rows, cells, args.rounds),
    ])


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    names = [r.spec.name for r in rows(DEFAULT_THREADS)]
    parser = run_parser(__doc__)
    parser.add_argument("--rows", type=_names, default=None,
                        help=f"comma-separated subset of: {','.join(names)}")
    add_placement_arguments(parser)
    # server.py's measure() reads the gthread thread count from here, and run_all()
    # the slices per round (a fresh server per cell); both kept at their defaults.
    parser.set_defaults(threads=DEFAULT_THREADS, slices=1)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print (and optionally store) the table."""
    args = parse_args(argv)
    check_environment(args)
    by_name = {r.spec.name: r for r in rows(args.threads)}
    table_rows = [by_name[n] for n in _select("rows", args.rows, list(by_name))]
    given = sys.argv[1:] if argv is None else list(argv)
    command = shlex.join(["python", "benchmarks/framework_server.py", *given])
    try:
        cells, loads = run_guarded([r.spec for r in table_rows], [SCENARIO], args)
    except (KeyboardInterrupt, Terminated):
        print("\ninterrupted; servers stopped", file=sys.stderr)
        return 130

    text = report(table_rows, cells, args, command, loads)
    print(text)
    if args.write:
        write_section(text, owner="framework_server.py")
        print(f"\nwrote section to {RESULTS_FILE}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
