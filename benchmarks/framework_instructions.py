"""Count the CPU instructions one in-process request costs, per framework and case (callgrind).

Design: on a shared VM, timings wander by 5-10% from run to run, so a
change worth 1-2% cannot be seen in ``benchmarks/framework.py``'s µs
table. ``valgrind --tool=callgrind`` counts the instructions a program
executes, which repeat exactly for the same interpreter, code and input.
Each count runs a fresh interpreter under callgrind that builds the app of
``benchmarks/framework.py``, checks its answers to every case, makes 50
warm-up requests and then N requests through the same harness (fresh
environ, WSGI call, iterable consumed, ``close()``); the same run with 0
requests is subtracted, so interpreter start, imports, build and warm-up
cancel out. ``PYTHONHASHSEED=0`` fixes str hashing, which otherwise moves
the count by about 1% (dict and set layouts). The harness's own
instructions are included, the same for every framework.

Instructions are not time (a cache miss costs more than an add), so this
is for A/B-ing a change of a few percent, commit against commit; the µs
table of ``framework.py`` stays the measure of speed.

Usage (from the repository root, inside the venv; needs ``valgrind``)::

    python benchmarks/framework_instructions.py                       # sluice and Falcon
    python benchmarks/framework_instructions.py --frameworks sluice   # one framework
    python benchmarks/framework_instructions.py --write               # also update RESULTS.md

A run takes about 15 s per framework and case (callgrind slows Python about
50x).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.framework import TIMED_CASES
from benchmarks.framework import Framework
from benchmarks.framework import frameworks_named
from benchmarks.server import write_section

REQUESTS = 2000
WARM_UP = 50
TIMEOUT_S = 600.0
_COLLECTED = re.compile(r"Collected : (\d+)")


def child(framework_name: str, path: str, requests: int) -> int:
    """Build the app, check its answers, warm up, then make ``requests`` requests (run under callgrind)."""
    from benchmarks.framework import call
    from benchmarks.framework import check_apps

    framework = frameworks_named([framework_name])[0]
    app = framework.make_app()
    problems = check_apps({framework.name: app})  # the same work in both runs, so it cancels out
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 1
    for _ in range(WARM_UP):
        call(app, path)
    for _ in range(requests):
        call(app, path)
    return 0


def instructions(framework: Framework, path: str, requests: int) -> int:
    """Total instructions of one child run under callgrind.

    Raises:
        RuntimeError: the child failed (a wrong answer, a crash); the
            message has its output.
    """
    command = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
               sys.executable, __file__, "--child", framework.name, path, str(requests)]
    env = dict(os.environ, PYTHONHASHSEED="0")
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=TIMEOUT_S, check=False)
    found = _COLLECTED.search(done.stderr)
    if done.returncode != 0 or found is None:
        raise RuntimeError(f"{framework.name} {path} under callgrind failed (exit {done.returncode}):\n"
                           f"{done.stdout}{done.stderr[-2000:]}")
    return int(found.group(1))


def per_request(framework: Framework, path: str, requests: int) -> int:
    """Instructions per request: (run with ``requests`` - run with 0) / ``requests``."""
    return round((instructions(framework, path, requests) - instructions(framework, path, 0)) / requests)


def report(frameworks: Sequence[Framework], counts: dict[tuple[str, str], int], requests: int, command: str) -> str:
    """The RESULTS.md section: setup, then one row per framework and a ratio row against the first."""
    names = [case.name for case in TIMED_CASES]
    lines = [
        "## Frameworks: instructions per request in process (`benchmarks/framework_instructions.py`)",
        "",
        f"- Date: {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC",
        f"- Command: `{command}`",
        f"- Machine: Python {platform.python_version()} ({platform.python_implementation()}), "
        f"{platform.system()} {platform.release()}, {platform.machine()}",
        "- Count: `valgrind --tool=callgrind` instructions of a fresh interpreter making "
        f"{requests:,} requests (after {WARM_UP} warm-up ones) through `benchmarks/framework.py`'s harness, "
        "minus the same run with 0 requests, divided by the requests; `PYTHONHASHSEED=0`. "
        "Exact from run to run; instructions, not time.",
        "",
        "| framework | " + " | ".join(names) + " |",
        "|---|" + "---:|" * len(names),
    ]
    for framework in frameworks:
        cells = [f"{counts[framework.name, case.path]:,}" for case in TIMED_CASES]
        lines.append(f"| {framework.name} | " + " | ".join(cells) + " |")
    first = frameworks[0]
    for other in frameworks[1:]:
        ratios = [counts[first.name, c.path] / counts[other.name, c.path] for c in TIMED_CASES]
        lines.append(f"| {first.name} / {other.name} | " + " | ".join(f"{r:.2f}x" for r in ratios) + " |")
    return "\n".join(lines)


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--frameworks", default="sluice,Falcon",
                        help="comma-separated, the first compared with the others (default sluice,Falcon)")
    parser.add_argument("--requests", type=int, default=REQUESTS,
                        help=f"requests per counted run (default {REQUESTS})")
    parser.add_argument("--write", action="store_true", help="also keep the section in benchmarks/RESULTS.md")
    parser.add_argument("--child", nargs=3, metavar=("FRAMEWORK", "PATH", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.requests < 1:
        parser.error("--requests must be at least 1")
    wanted = [name for name in args.frameworks.split(",") if name]
    if not wanted:
        parser.error("--frameworks: name at least one framework")
    try:
        args.frameworks = frameworks_named(wanted)
    except ValueError as exc:
        parser.error(str(exc))
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Count every framework and case, print (and with ``--write`` record) the table."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    if args.child:
        name, path, requests = args.child
        return child(name, path, int(requests))
    if shutil.which("valgrind") is None:
        print("valgrind is not installed (Debian: apt-get install valgrind)", file=sys.stderr)
        return 2
    counts: dict[tuple[str, str], int] = {}
    for framework in args.frameworks:
        for case in TIMED_CASES:
            counts[framework.name, case.path] = per_request(framework, case.path, args.requests)
            print(f"{framework.name} {case.name}: {counts[framework.name, case.path]:,}", file=sys.stderr)
    command = f"python benchmarks/framework_instructions.py {shlex.join(argv)}".rstrip()
    text = report(args.frameworks, counts, args.requests, command)
    print(text)
    if args.write:
        write_section(text, owner="framework_instructions.py")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
