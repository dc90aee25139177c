"""Slow clients cost no thread: a normal client's latency beside 64 slow readers and 64 slow uploaders.

The acceptance item: "64 slow readers and 64 slow uploaders at 10 KiB/s
while a normal client is served with p99 under 50 ms; a 10 KiB/s reader gets
its whole 10 MiB body; the server's RSS stays under a stated bound."

Starts ``sluice serve tests.apps.slow_clients_app:app`` pinned to core 0
(default settings but ``--bind``) on a free loopback port; this script's
clients run on core 1 when there is one. Then:

1. baseline: sequential ``GET /hello`` on a keep-alive connection, one every
   10 ms, for ``--seconds`` or ``--requests``, whichever comes first;
2. loaded: ``--readers`` slow readers (4 KiB receive buffer set before
   connecting, ``GET /big`` = 10 MiB, read at 10 KiB/s: about 1 KiB every
   0.1 s) and ``--uploaders`` slow uploaders (``POST /upload`` announcing
   5 MiB, sent at 10 KiB/s), all driven by one thread; after 2 s the same
   hello run;
3. with ``--long``: one reader takes a whole 10 MiB ``/big`` at 10 KiB/s
   (about 17 minutes) and every byte is checked against the pattern.

The server's RSS (VmRSS, summed over its processes) and the number of its
threads waiting in a socket call are sampled every 0.2 s. Prints a markdown
table. The slow clients and the sampling are the helpers of
``tests/server/test_slow_clients_live.py``, which runs the same scenario
shorter as a test.

    python benchmarks/slow_clients.py [--seconds 20] [--requests 2000]
        [--readers 64] [--uploaders 64] [--long]
"""

from __future__ import annotations

import argparse
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.server import HOST
from benchmarks.server import REPO_ROOT
from benchmarks.server import free_port
from benchmarks.server import loopback_url
from benchmarks.server import server_env
from benchmarks.server import wait_until_ready
from tests.apps.slow_clients_app import DEFAULT_SIZE
from tests.apps.slow_clients_app import MIB
from tests.server.test_slow_clients_live import APP
from tests.server.test_slow_clients_live import RATE
from tests.server.test_slow_clients_live import HelloRun
from tests.server.test_slow_clients_live import ServerProbe
from tests.server.test_slow_clients_live import SlowCrowd
from tests.server.test_slow_clients_live import run_hellos

SETTLE_S = 2.0
# The stated RSS bound, from the server's defaults: the idle RSS, plus what
# the loop keeps in memory of each upload before it spills to a file (1 MiB),
# plus each reader's --response-buffer (256 KiB).
UPLOAD_MEMORY = 1 * 1024 * 1024
RESPONSE_BUFFER = 256 * 1024
LONG_LIMIT_S = 1500.0  # 10 MiB at 10 KiB/s is 1024 s
STOP_TIMEOUT_S = 10.0


def start(port: int, log_path: Path) -> subprocess.Popen[bytes]:
    """Start the server pinned to core 0, its output to ``log_path``."""
    argv = ["taskset", "-c", "0", sys.executable, "-m", "sluice", "serve", APP, "--bind", f"{HOST}:{port}"]
    with open(log_path, "wb") as log:
        return subprocess.Popen(
            argv, cwd=REPO_ROOT, env=server_env(), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
        )


def stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the server we started (by its PID), then SIGKILL it if it lingers."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(STOP_TIMEOUT_S)


def row(name: str, run: HelloRun, probe: ServerProbe, crowd: SlowCrowd | None) -> str:
    """One table row: hello latencies, the server's RSS and threads, the slow clients' pace."""
    served = len(run.latencies) - len(run.failures)
    ms = [run.percentile(50) * 1000, run.percentile(99) * 1000, max(run.latencies, default=0.0) * 1000]
    rates = "" if crowd is None else f"{min(crowd.rates(False) + crowd.rates(True), default=0.0) / 1024:.1f}"
    errors = "" if crowd is None else str(len(crowd.errors()))
    return (
        f"| {name} | {served} | {len(run.failures)} | {ms[0]:.1f} | {ms[1]:.1f} | {ms[2]:.1f} "
        f"| {probe.rss[0] / MIB:.1f} | {max(probe.rss) / MIB:.1f} | {max(probe.held)} | {rates} | {errors} |"
    )


def long_read(port: int) -> str:
    """Read one whole 10 MiB ``/big`` at 10 KiB/s; return a line saying how it went."""
    crowd = SlowCrowd(port, readers=1, uploaders=0, max_seconds=LONG_LIMIT_S)
    crowd.start()
    client = crowd.clients[0]
    next_report = 60.0
    try:
        while not client.closed and time.monotonic() - crowd.started < LONG_LIMIT_S:
            time.sleep(1.0)
            elapsed = time.monotonic() - crowd.started
            if elapsed >= next_report:
                print(f"  long read: {client.body / MIB:.2f} MiB after {elapsed:.0f} s", file=sys.stderr)
                next_report += 60.0
    finally:
        crowd.stop()
    taken = crowd.stopped - crowd.started
    whole = client.done and client.body == DEFAULT_SIZE and client.status == 200
    checked = "every byte matched the pattern" if client.mismatch_at < 0 else f"first wrong byte at {client.mismatch_at}"
    verdict = "whole body" if whole else f"INCOMPLETE: {client.body} of {DEFAULT_SIZE} bytes, {client.error or 'no error'}"
    return (
        f"- Long read: one reader, 4 KiB receive buffer, `GET /big` (10 MiB) at {RATE // 1024} KiB/s: "
        f"{verdict}, {checked}, in {taken:.0f} s ({client.body / max(taken, 1e-9) / 1024:.2f} KiB/s)."
    )


def main(argv: list[str] | None = None) -> int:
    """Run the baseline and loaded phases (and the long read); print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="longest hello run per phase")
    parser.add_argument("--requests", type=int, default=2000, help="most hello requests per phase")
    parser.add_argument("--readers", type=int, default=64)
    parser.add_argument("--uploaders", type=int, default=64)
    parser.add_argument("--long", action="store_true", help="also read a whole 10 MiB body at 10 KiB/s (~17 min)")
    args = parser.parse_args(argv)
    if not 0 < args.seconds <= 600 or not 0 < args.requests <= 100_000:
        parser.error("--seconds must be in (0, 600] and --requests in (0, 100000]")
    if os.cpu_count() and (os.cpu_count() or 1) > 1 and 1 in os.sched_getaffinity(0):
        os.sched_setaffinity(0, {1})  # before any thread starts, so all of them inherit it
    load_before = os.getloadavg()[0]
    lines = []
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        loopback_url(port)  # refuses anything but 127.0.0.1
        log_path = Path(tmp) / "server.log"
        proc = start(port, log_path)
        try:
            error = wait_until_ready(proc, port, 15.0, path="/hello", expected_body=b"hello")
            if error is not None:
                print(f"server not ready: {error}\n{log_path.read_text()[-2000:]}", file=sys.stderr)
                return 1
            run_hellos(port, seconds=1.0, max_requests=50)  # warm-up
            probe = ServerProbe(proc.pid, max_seconds=args.seconds * 3 + 30)
            probe.start()
            baseline = run_hellos(port, args.seconds, args.requests)
            probe.stop()
            lines.append(row("no slow clients (baseline)", baseline, probe, None))
            probe = ServerProbe(proc.pid, max_seconds=args.seconds * 3 + 30)
            crowd = SlowCrowd(port, args.readers, args.uploaders, max_seconds=args.seconds * 3 + 30)
            probe.start()
            try:
                crowd.start()
                time.sleep(SETTLE_S)
                loaded = run_hellos(port, args.seconds, args.requests)
            finally:
                crowd.stop()
                probe.stop()
            name = f"{args.readers} slow readers + {args.uploaders} slow uploaders at {RATE // 1024} KiB/s"
            lines.append(row(name, loaded, probe, crowd))
            rss_idle, rss_peak = probe.rss[0], max(probe.rss)
            for line in crowd.errors()[:10]:
                print(f"  slow client: {line}", file=sys.stderr)
            long_line = long_read(port) if args.long else ""
        finally:
            stop(proc)
        log = log_path.read_text(errors="replace")
    load_after = os.getloadavg()[0]
    given = sys.argv[1:] if argv is None else argv
    print(
        f"- Command: `python benchmarks/slow_clients.py{''.join(' ' + a for a in given)}` "
        f"(server: `taskset -c 0 python -m sluice serve {APP} --bind 127.0.0.1:PORT`)"
    )
    print(
        f"- Machine: nproc={os.cpu_count()}, Python {platform.python_version()}, Linux {platform.release()}; "
        f"1-min load average {load_before:.2f} before, {load_after:.2f} after"
    )
    print(
        f"- Server log: {log.count('[WARNING]')} warnings ({log.count('too slowly')} slow clients cut), "
        f"{log.count('[ERROR]')} errors"
    )
    bound = rss_idle + args.uploaders * UPLOAD_MEMORY + args.readers * RESPONSE_BUFFER
    verdict = "within" if rss_peak < bound else "OVER"
    print(
        f"- RSS bound: idle {rss_idle / MIB:.1f} MiB + {args.uploaders} x 1 MiB of upload in memory + "
        f"{args.readers} x 256 KiB --response-buffer = {bound / MIB:.1f} MiB; loaded peak {rss_peak / MIB:.1f} MiB, {verdict}"
    )
    print()
    print(
        "| phase | hellos 200 | failed | p50 ms | p99 ms | max ms | server RSS before (MiB) "
        "| server RSS peak (MiB) | threads on client sockets (peak) | slowest slow client (KiB/s) | slow-client errors |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for line in lines:
        print(line)
    if long_line:
        print()
        print(long_line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
