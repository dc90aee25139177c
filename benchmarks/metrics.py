"""What a request's metric updates cost: prometheus_client (multiprocess and in-process) against sluice's counters.

Design: the updates one request needs are timed in a tight loop (timeit,
best of ``--repeat``), each variant in a fresh interpreter, because
``prometheus_client`` picks its value store (mmap files or plain floats)
when it is imported, from ``PROMETHEUS_MULTIPROC_DIR``:

- ``sluice``: :class:`sluice.server.metrics.ThreadStats` ``begin()``
  (queue wait, busy) and ``done()`` (method and status class, duration):
  what a pool thread does per request with ``--metrics-bind``.
- ``prometheus_client multiprocess``: the same updates with its
  multiprocess mode: ``Counter.labels(method, status).inc()``, two
  ``Histogram.observe()`` (duration, queue wait), ``Gauge.inc()`` and
  ``Gauge.dec()`` (in flight, mode ``livesum``), each value an mmap'd file.
- ``prometheus_client in-process``: the same calls with its default store
  (one process only: it cannot sum forked workers).

This VM's speed wanders by tens of percent from minute to minute, so the
variants are measured in interleaved rounds (each round runs each variant
once) and the table shows medians: of the nanoseconds, and of each round's
ratio to sluice's counters.

Prints nanoseconds per request and, with ``--write``, keeps the table in
benchmarks/RESULTS.md between ``<!-- metrics.py:begin -->`` and
``<!-- metrics.py:end -->``::

    python benchmarks/metrics.py [--number 100000] [--repeat 3] [--rounds 5] [--write]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.server import write_section

#: A hello-world request through `sluice serve` on one core (benchmarks/RESULTS.md).
REQUEST_NS = 25_000

_SLUICE = """
from sluice.server.metrics import WorkerStats
stats = WorkerStats().thread()
def one():
    stats.begin(0.00002)
    stats.done("GET", 200, 0.00003)
"""

_PROMETHEUS = """
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from sluice.server.metrics import DURATION_BUCKETS, QUEUE_WAIT_BUCKETS
registry = CollectorRegistry()
requests = Counter("sluice_requests", "", ["method", "status"], registry=registry)
duration = Histogram("sluice_request_duration_seconds", "", buckets=DURATION_BUCKETS, registry=registry)
queue = Histogram("sluice_queue_wait_seconds", "", buckets=QUEUE_WAIT_BUCKETS, registry=registry)
in_flight = Gauge("sluice_requests_in_flight", "", multiprocess_mode="livesum", registry=registry)
def one():
    in_flight.inc()
    queue.observe(0.00002)
    requests.labels("GET", "2xx").inc()
    duration.observe(0.00003)
    in_flight.dec()
"""

VARIANTS = (
    ("sluice ThreadStats (per-thread lists, summed by the master)", _SLUICE, False),
    ("prometheus_client multiprocess mode (mmap files)", _PROMETHEUS, True),
    ("prometheus_client in-process (one process only)", _PROMETHEUS, False),
)


def measure(setup: str, multiprocess: bool, number: int, repeat: int) -> float:
    """Nanoseconds per request of one variant, best of ``repeat`` runs, in a fresh interpreter."""
    code = (
        f"import timeit\n{setup}\n"
        f"print(min(timeit.repeat(one, number={number}, repeat={repeat})) / {number} * 1e9)\n"
    )
    env = dict(os.environ)
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    with tempfile.TemporaryDirectory(prefix="sluice-prom-") as tmp:
        if multiprocess:
            env["PROMETHEUS_MULTIPROC_DIR"] = tmp
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True, timeout=600)
    return float(out.stdout.strip())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--number", type=int, default=100_000, help="requests per timing run")
    parser.add_argument("--repeat", type=int, default=3, help="timing runs per round; the best is kept")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds; medians are reported")
    parser.add_argument("--write", action="store_true", help="replace this script's section in RESULTS.md")
    args = parser.parse_args(argv)
    times: dict[str, list[float]] = {name: [] for name, _, _ in VARIANTS}
    for round_number in range(1, args.rounds + 1):
        for name, setup, multiprocess in VARIANTS:
            ns = measure(setup, multiprocess, args.number, args.repeat)
            times[name].append(ns)
            print(f"round {round_number}: {name}: {ns:,.0f} ns/request", flush=True)
    command = shlex.join(["python", "benchmarks/metrics.py", *(argv if argv is not None else sys.argv[1:])])
    sluice_times = times[VARIANTS[0][0]]
    lines = [
        "## Metrics: the updates of one request (`benchmarks/metrics.py`)",
        "",
        f"- Date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC",
        f"- Command: `{command}`",
        f"- Machine: Python {platform.python_version()}, {platform.system()} {platform.release()}",
        (
            "- Per request: the requests counter (method, status class), the duration and queue-wait "
            "histograms, the in-flight/busy state; best of the timing runs, one thread, no contention."
        ),
        "",
        (
            f"| variant | ns/request (median) | share of a {REQUEST_NS / 1000:.0f} us hello-world request "
            "| / sluice, per round | median |"
        ),
        "|---|---:|---:|---|---:|",
    ]
    for name, values in times.items():
        ns = statistics.median(values)
        ratios = [value / base for value, base in zip(values, sluice_times, strict=True)]
        cells = " ".join(f"{ratio:.1f}" for ratio in ratios)
        lines.append(
            f"| {name} | {ns:,.0f} | {ns / REQUEST_NS:.1%} | {cells} | {statistics.median(ratios):.1f}x |"
        )
    body = "\n".join(lines)
    print(body)
    if args.write:
        write_section(body, owner="metrics.py")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
