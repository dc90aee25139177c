"""Count the CPU instructions `sluice serve` spends per hello-world request (callgrind), tree against tree.

Design: on this shared VM a server's request rate wanders by tens of percent
from run to run (the host's load changes the VM's speed), so
``benchmarks/server.py`` cannot show a change of a few percent, and the CPU
time per request wanders with it. ``valgrind --tool=callgrind`` counts the
instructions the server process executes, which repeat within a fraction
of a percent for the same interpreter, code and input.

Each count starts ``sluice serve benchmarks.apps:hello --access-log off``
(``--access-log FORMAT``: an access log in that format, to a file) under
callgrind (all threads: the loop and the pool), sends N hello
requests over one keep-alive connection in batches of DEPTH pipelined
requests (DEPTH 1 is the plain keep-alive exchange: one request, one
response), stops the server with SIGTERM and reads callgrind's total. The
same run with N1 < N2 requests is subtracted, so start-up, imports and the
graceful stop cancel out: (total(N2) - total(N1)) / (N2 - N1) is the
server's instructions per request, the kernel's work excluded.
``PYTHONHASHSEED=0`` fixes str hashing.

Trees: the working tree, and each ``--baseline REV`` exported with ``git
archive`` (benchmarks/server.py ``export_revision``). Instructions are not
time (a cache miss costs more than an add): this is for A/B-ing a change
of a few percent; ``benchmarks/server.py`` stays the measure of speed.

``--server-args "..."`` adds flags to ``sluice serve`` (e.g. ``--metrics-bind
127.0.0.1:0``, which forks one worker under a master). Each process writes
its own callgrind file; when the server forked, the master's is left out
(its work is a timer, not requests) and the workers' are summed.

Usage (from the repository root, inside the venv; needs ``valgrind``)::

    python benchmarks/server_instructions.py --baseline b256420 --write

A run takes about 30 s per tree and depth (callgrind slows Python about
50x); counts of one tree run two at a time on two cores.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime as dt
import os
import platform
import re
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.server import REPO_ROOT
from benchmarks.server import export_revision
from benchmarks.server import free_port
from benchmarks.server import server_env
from benchmarks.server import tree_state
from benchmarks.server import write_section

HOST = "127.0.0.1"
APP = "benchmarks.apps:hello"
REQUEST = b"GET / HTTP/1.1\r\nHost: bench\r\n\r\n"
BODY = b"Hello, World!"
READY_TIMEOUT_S = 300.0  # a master and its worker under callgrind on a loaded VM
CLIENT_TIMEOUT_S = 300.0


def drive(port: int, requests: int, depth: int) -> None:
    """Send ``requests`` hello requests on one connection, ``depth`` at a time, and read every answer."""
    with socket.create_connection((HOST, port), timeout=CLIENT_TIMEOUT_S) as sock:
        done = 0
        pending = b""
        while done < requests:
            batch = min(depth, requests - done)
            sock.sendall(REQUEST * batch)
            got = 0
            while got < batch:
                data = sock.recv(65536)
                if not data:
                    raise RuntimeError(f"the server closed after {done + got} of {requests} responses")
                pending += data
                count = pending.count(BODY)
                if count:
                    got += count
                    pending = pending[pending.rfind(BODY) + len(BODY) :]
            done += batch


def count(
    src: Path | None,
    requests: int,
    depth: int,
    workdir: Path,
    server_args: Sequence[str] = (),
    access_log: str = "off",
) -> int:
    """Callgrind's instruction total for a server (``src``: a tree's src/, None: the working tree) answering ``requests``.

    ``server_args``: extra ``sluice serve`` flags. ``access_log``: ``off``,
    or the format (``combined``, ``json``) of an access log the server
    writes to a file in ``workdir``.
    """
    port = free_port()
    out = workdir / f"callgrind.{port}"
    log = workdir / f"server.{port}.log"
    if access_log == "off":
        log_args = ["--access-log", "off"]
    else:
        log_args = ["--access-log", str(workdir / f"access.{port}.log"), "--access-log-format", access_log]
    env = server_env((str(src),) if src is not None else ())
    env["PYTHONHASHSEED"] = "0"
    argv = [
        "valgrind", "--tool=callgrind", f"--callgrind-out-file={out}.%p",
        sys.executable, "-m", "sluice", "serve", APP,
        "--bind", f"{HOST}:{port}", *log_args, "--log-level", "info", *server_args,
    ]
    with log.open("wb") as log_file:
        proc = subprocess.Popen(argv, cwd=REPO_ROOT, env=env, stdin=subprocess.DEVNULL,
                                stdout=log_file, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + READY_TIMEOUT_S
            while b"Listening on" not in log.read_bytes():
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the server did not start: {log.read_text()[-800:]}")
                time.sleep(0.2)
            drive(port, requests, depth)
        finally:
            if proc.poll() is None:
                proc.terminate()
            try:
                proc.wait(timeout=120)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=30)
    files = sorted(workdir.glob(f"callgrind.{port}.*"))
    if len(files) > 1:
        # Forked workers under a master: the workers' counts, not the master's.
        files = [f for f in files if f.name != f"callgrind.{port}.{proc.pid}"]
    total = 0
    for path in files:
        match = re.search(r"^(?:summary|totals):\s+(\d+)", path.read_text(), re.MULTILINE)
        if match is None:
            raise RuntimeError(f"no instruction total in {path}")
        total += int(match.group(1))
    return total


def per_request(
    src: Path | None,
    low: int,
    high: int,
    depth: int,
    workdir: Path,
    server_args: Sequence[str] = (),
    access_log: str = "off",
) -> float:
    """Instructions per request: two servers, ``low`` and ``high`` requests, counted at once on two cores."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        small = pool.submit(count, src, low, depth, workdir, server_args, access_log)
        large = pool.submit(count, src, high, depth, workdir, server_args, access_log)
        return (large.result() - small.result()) / (high - low)


def report(rows: dict[str, dict[int, float]], depths: Sequence[int], command: str, notes: Sequence[str]) -> str:
    """The Markdown section: a table of instructions per request and ratios to the working tree."""
    current = next(iter(rows.values()))
    lines = [
        "## Server instructions per request (`benchmarks/server_instructions.py`)",
        "",
        f"- Date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC",
        f"- Command: `{command}`",
        f"- Machine: Python {platform.python_version()}, {platform.system()} {platform.release()}",
        *(f"- {note}" for note in notes),
        "- `sluice serve benchmarks.apps:hello --access-log off` (or, for a row that names a format, an "
        "access log in that format to a file) under callgrind (loop and pool threads), "
        "hello requests over one keep-alive connection, DEPTH pipelined per write (1: one request, one "
        "response); the run with fewer requests subtracted, so start-up and stop cancel out.",
        "",
        "| tree | " + " | ".join(f"depth {d}: instructions/request" for d in depths) + " | "
        + " | ".join(f"depth {d}: first row / this" for d in depths) + " |",
        "|---|" + "---:|" * (2 * len(depths)),
    ]
    for name, values in rows.items():
        cells = [f"{values[d]:,.0f}" for d in depths]
        ratios = [f"{current[d] / values[d]:.3f}x" for d in depths]
        lines.append(f"| {name} | " + " | ".join(cells) + " | " + " | ".join(ratios) + " |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--baseline", action="append", default=[], metavar="REV",
                        help="also count this git revision's src/ (repeatable)")
    parser.add_argument("--requests", type=int, nargs=2, default=(1000, 5000), metavar=("N1", "N2"),
                        help="requests of the two runs subtracted (default 1000 5000)")
    parser.add_argument("--depth", type=int, action="append", default=None,
                        help="requests per write (repeatable; default 1 and 16)")
    parser.add_argument("--server-args", action="append", default=[], metavar="FLAGS",
                        help="count the working tree again with these extra `sluice serve` flags (repeatable)")
    parser.add_argument("--access-log", action="append", default=None, choices=("off", "combined", "json"),
                        help="count with the access log off or on in this format, written to a file "
                        "(repeatable; default off)")
    parser.add_argument("--write", action="store_true", help="replace this script's section in RESULTS.md")
    args = parser.parse_args(argv)
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (apt-get install valgrind)")
    low, high = args.requests
    if not 0 < low < high:
        raise SystemExit("--requests N1 N2 needs 0 < N1 < N2")
    depths = args.depth or [1, 16]
    formats = args.access_log or ["off"]
    command = shlex.join(["python", "benchmarks/server_instructions.py", *(argv if argv is not None else sys.argv[1:])])
    rows: dict[str, dict[int, float]] = {}
    with tempfile.TemporaryDirectory(prefix="sluice-instr-") as tmp:
        workdir = Path(tmp)
        trees: list[tuple[str, Path | None, list[str]]] = [("working tree", None, [])]
        for flags in args.server_args:
            trees.append((f"working tree `{flags}`", None, shlex.split(flags)))
        for rev in args.baseline:
            trees.append((rev, export_revision(rev, workdir), []))
        for tree, src, server_args in trees:
            for access_log in formats:
                name = tree if access_log == "off" else f"{tree}, access log {access_log}"
                rows[name] = {}
                for depth in depths:
                    rows[name][depth] = per_request(src, low, high, depth, workdir, server_args, access_log)
                    print(f"{name}, depth {depth}: {rows[name][depth]:,.0f} instructions/request", flush=True)
    notes = [f"Working tree: {tree_state()}", f"Requests: {low} and {high} per count"]
    body = report(rows, depths, command, notes)
    print(body)
    if args.write:
        write_section(body, owner="server_instructions.py")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
