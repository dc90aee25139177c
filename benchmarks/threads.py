"""Choose sluice's default ``--threads`` by measurement.

Serves two apps with one sluice worker pinned to core 0 and each thread
count in turn, loaded by wrk pinned to core 1:

- ``hello``: pure CPU; more threads only add GIL hand-offs;
- ``io_wait``: waits 5 ms without CPU (a database query); throughput grows
  with the threads that can wait at once.

Prints req/s (median of ``--rounds`` interleaved rounds) and, with
``--write``, keeps the table in ``benchmarks/RESULTS.md`` between
``<!-- threads.py:begin -->`` and ``<!-- threads.py:end -->``.

    python benchmarks/threads.py [--duration 5] [--rounds 3] [--write]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.server import HOST
from benchmarks.server import Scenario
from benchmarks.server import free_port
from benchmarks.server import loopback_url
from benchmarks.server import parse_wrk
from benchmarks.server import run_wrk
from benchmarks.server import running_server
from benchmarks.server import wait_until_ready
from benchmarks.server import wrk_command
from benchmarks.server import write_section

THREADS = (1, 2, 4, 8, 16, 32)
CASES = (
    ("hello", "benchmarks.apps:hello", Scenario("keepalive-c16", "keep-alive, 16 conns", 16)),
    ("io_wait (5 ms)", "benchmarks.apps:io_wait", Scenario("keepalive-c64", "keep-alive, 64 conns", 64)),
)


def measure(target: str, threads: int, scenario: Scenario, duration: int, workdir: Path) -> float | None:
    """Return req/s for one sluice configuration, or None if it failed."""
    port = free_port()
    argv = [sys.executable, "-m", "sluice", "serve", target, "--bind", f"{HOST}:{port}",
            "--threads", str(threads), "--access-log", "off", "--log-level", "warning"]
    with running_server(argv, 0, workdir / f"{target.split(':')[1]}-{threads}.log") as proc:
        if wait_until_ready(proc, port, 10.0) is not None:
            return None
        url = loopback_url(port)
        run_wrk(wrk_command(scenario, url, 1, 1), 1)
        return parse_wrk(run_wrk(wrk_command(scenario, url, duration, 1), duration)).requests_per_s


def main(argv: list[str] | None = None) -> int:
    """Run the measurement and print (and optionally write) the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args(argv)
    results: dict[tuple[str, int], list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.rounds):
            for name, target, scenario in CASES:
                for threads in THREADS:
                    rps = measure(target, threads, scenario, args.duration, Path(tmp))
                    if rps is not None:
                        results.setdefault((name, threads), []).append(rps)
    header = "| app, load | " + " | ".join(f"{t} threads" for t in THREADS) + " |"
    rows = [header, "|---|" + "---:|" * len(THREADS)]
    for name, _, scenario in CASES:
        cells = []
        for threads in THREADS:
            values = results.get((name, threads))
            cells.append(f"{statistics.median(values):,.0f}" if values else "failed")
        rows.append(f"| {name}, {scenario.label} | " + " | ".join(cells) + " |")
    table = "\n".join(rows)
    command = "python benchmarks/threads.py " + " ".join(argv if argv is not None else sys.argv[1:])
    text = (
        f"### Default thread count (`benchmarks/threads.py`)\n\n"
        f"- Date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}\n"
        f"- Command: `{command.strip()}`\n"
        f"- sluice, one worker pinned to core 0, wrk on core 1, req/s, median of {args.rounds} round(s) of {args.duration}s\n\n"
        f"{table}\n"
    )
    print(text)
    if args.write:
        write_section(text.rstrip("\n"), owner="threads.py")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
