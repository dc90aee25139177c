"""Static files over keep-alive: sluice's static view vs nginx and Flask's static route on granian (issue 8).

Design: each row serves the same folder; wrk loads ``GET /static/<file>``
over 16 keep-alive connections (``benchmarks/server.py``'s ``keepalive-c16``
scenario and machinery, imported: one server pinned to core 0, wrk to core
1, a fresh server per cell checked for the file's exact bytes, a 1 s
warm-up, interleaved rounds, medians). Rows: ``sluice serve`` with its
defaults (access log on, as users run it), sluice with the access log off,
nginx (1 worker process, ``sendfile on``, ``access_log off``) and Flask's
static route on granian (1 worker). Files: 1 MiB and 4 KiB of random bytes.

Usage (from the repository root, inside the venv)::

    python benchmarks/static_files.py                          # full run, table to stdout
    python benchmarks/static_files.py --duration 2 --rounds 1  # smoke run
    python benchmarks/static_files.py --write                  # also update benchmarks/RESULTS.md

Needs ``wrk``, ``taskset`` and ``nginx`` on PATH (or /usr/sbin), and Flask and
granian in the current interpreter.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.server import HOST
from benchmarks.server import SCENARIOS
from benchmarks.server import WARMUP_S
from benchmarks.server import free_port
from benchmarks.server import log_tail
from benchmarks.server import loopback_url
from benchmarks.server import parse_wrk
from benchmarks.server import run_wrk
from benchmarks.server import session_cpu_seconds
from benchmarks.server import running_server
from benchmarks.server import wait_until_ready
from benchmarks.server import write_section
from benchmarks.server import wrk_command

SCENARIO = next(s for s in SCENARIOS if s.name == "keepalive-c16")
FILES = {"1 MiB": ("big.bin", 1024 * 1024), "4 KiB": ("small.bin", 4096)}
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


@dataclass(frozen=True)
class Row:
    """One server serving the static folder."""

    name: str
    label: str


ROWS = [
    Row("sluice", "sluice serve (defaults: access log on)"),
    Row("sluice-nolog", "sluice serve --access-log off"),
    Row("nginx", "nginx (1 worker process, sendfile on, access_log off)"),
    Row("flask-granian", "Flask static route on granian (1 worker)"),
]


def _argv(row: Row, port: int, folder: Path, workdir: Path) -> list[str]:
    if row.name.startswith("sluice"):
        argv = [sys.executable, "-m", "sluice", "serve", "benchmarks.static_apps:sluice_static", "--bind", f"{HOST}:{port}"]
        return argv + (["--access-log", "off"] if row.name == "sluice-nolog" else [])
    if row.name == "nginx":
        conf = workdir / f"nginx-{port}.conf"
        user = "user root;\n" if os.geteuid() == 0 else ""
        conf.write_text(
            f"{user}daemon off;\nworker_processes 1;\npid {workdir}/nginx-{port}.pid;\nerror_log {workdir}/nginx-error.log;\n"
            "events { worker_connections 1024; }\n"
            f"http {{\n  access_log off;\n  sendfile on;\n  client_body_temp_path {workdir}/body;\n"
            f"  proxy_temp_path {workdir}/proxy;\n  fastcgi_temp_path {workdir}/fcgi;\n  uwsgi_temp_path {workdir}/uwsgi;\n"
            f"  scgi_temp_path {workdir}/scgi;\n  default_type application/octet-stream;\n"
            f"  server {{\n    listen {HOST}:{port};\n    location /static/ {{ alias {folder}/; }}\n  }}\n}}\n"
        )
        return [NGINX, "-c", str(conf), "-p", str(workdir)]
    return [sys.executable, "-m", "granian", "--interface", "wsgi", "--workers", "1",
            "--host", HOST, "--port", str(port), "benchmarks.static_apps:flask_static"]


def measure(row: Row, name: str, data: bytes, folder: Path, workdir: Path, args: argparse.Namespace) -> tuple[float, float] | None:
    """Start a fresh server, check the file's bytes, warm up, load once.

    Returns:
        ``(requests per second, server CPU microseconds per request)``, or
        None when the server failed.
    """
    port = free_port()
    path = f"/static/{name}"
    url = loopback_url(port, path)
    log_path = workdir / f"{row.name}-{name}-{port}.log"
    os.environ["SLUICE_BENCH_STATIC"] = str(folder)
    with running_server(_argv(row, port, folder, workdir), args.server_cpu, log_path) as proc:
        problem = wait_until_ready(proc, port, 20.0, path, data)
        if problem:
            print(f"{row.name} {name}: {problem}\n{log_tail(log_path)}", file=sys.stderr)
            return None
        run_wrk(wrk_command(SCENARIO, url, WARMUP_S, args.wrk_cpu), WARMUP_S)
        cpu_before = session_cpu_seconds(proc.pid)
        result = parse_wrk(run_wrk(wrk_command(SCENARIO, url, args.duration, args.wrk_cpu), args.duration))
        cpu = session_cpu_seconds(proc.pid) - cpu_before
        if result.non_2xx_3xx or result.socket_errors:
            print(f"{row.name} {name}: {result.non_2xx_3xx} bad answers, {result.socket_errors} socket errors", file=sys.stderr)
        return result.requests_per_s, cpu / max(result.requests, 1) * 1e6


# (sluice row, file size, peer row, target ratio)
TARGETS = [
    (ours, label, peer, target)
    for ours in ("sluice", "sluice-nolog")
    for label, peer, target in (("1 MiB", "nginx", 0.8), ("4 KiB", "flask-granian", 3.0))
]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run (default 5)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    parser.add_argument("--server-cpu", type=int, default=0)
    parser.add_argument("--wrk-cpu", type=int, default=1)
    parser.add_argument("--write", action="store_true", help="update benchmarks/RESULTS.md")
    parser.add_argument("--size", action="append", choices=list(FILES), help="only this file size (repeatable; default both)")
    args = parser.parse_args(argv)
    files = {label: FILES[label] for label in (args.size or FILES)}
    # (row, size, round) -> (req/s, CPU us per request)
    cells: dict[tuple[str, str, int], tuple[float, float]] = {}
    with tempfile.TemporaryDirectory(prefix="sluice-static-bench-") as tmp:
        workdir = Path(tmp)
        folder = workdir / "static"
        folder.mkdir()
        contents = {}
        for size_label, (name, size) in files.items():
            contents[size_label] = os.urandom(size)
            (folder / name).write_bytes(contents[size_label])
        os.chmod(tmp, 0o755)
        for round_no in range(args.rounds):
            for size_label, (name, _) in files.items():
                for row in ROWS:
                    cell = measure(row, name, contents[size_label], folder, workdir, args)
                    if cell is not None:
                        cells[(row.name, size_label, round_no)] = cell
                    shown = f"{cell[0]:.0f} req/s, {cell[1]:.1f} CPU us/request" if cell else "failed"
                    print(f"round {round_no + 1} {size_label} {row.name}: {shown}", file=sys.stderr)

    def median(row: str, size: str, index: int) -> float | None:
        values = [cell[index] for (r, s, _), cell in cells.items() if r == row and s == size]
        return statistics.median(values) if values else None

    def paired(ours: str, peer: str, size: str, index: int) -> list[float]:
        """Per-round ratios, ours over the peer's (rates) or the peer's over ours (CPU per request)."""
        out = []
        for r in range(args.rounds):
            a, b = cells.get((ours, size, r)), cells.get((peer, size, r))
            if a and b:
                out.append(a[0] / b[0] if index == 0 else b[1] / a[1])
        return sorted(out)

    header = " | ".join(f"{s} req/s | {s} CPU µs/req" for s in files)
    lines = [f"| server | {header} |", "|---|" + "---:|" * (2 * len(files))]
    for row in ROWS:
        shown = []
        for size in files:
            rate, cpu = median(row.name, size, 0), median(row.name, size, 1)
            shown += [f"{rate:,.0f}" if rate else "failed", f"{cpu:.1f}" if cpu else "failed"]
        lines.append(f"| {row.label} | " + " | ".join(shown) + " |")
    ratios = []
    for ours, size, peer, target in TARGETS:
        by_rate, by_cpu = paired(ours, peer, size, 0), paired(ours, peer, size, 1)
        if by_rate and by_cpu:
            ratios.append(
                f"- {ours} / {peer}, {size} (target at least {target}x): by rate, median per round "
                f"{statistics.median(by_rate):.2f}x ({by_rate[0]:.2f}x to {by_rate[-1]:.2f}x); "
                f"by CPU time per request {statistics.median(by_cpu):.2f}x ({by_cpu[0]:.2f}x to {by_cpu[-1]:.2f}x)"
            )
    command = "python " + " ".join(shlex.quote(a) for a in ["benchmarks/static_files.py", *(argv if argv is not None else sys.argv[1:])])
    body = "\n".join([
        "## Static files (issue 8)",
        "",
        f"Command: `{command}` — medians of {args.rounds} interleaved rounds of {args.duration} s, "
        f"wrk `-t1 -c16` keep-alive pinned to core {args.wrk_cpu}, each server pinned to core {args.server_cpu}. "
        "CPU µs/req: the server's CPU time (all its processes and threads, user and system) during the "
        "measured run over the requests wrk completed; on one saturated core its inverse is the rate the "
        "server can reach, and it moves far less than the rate with the host's load. Ratios are taken "
        "inside each round (cells seconds apart), then the median over rounds.",
        "",
        *lines,
        "",
        *ratios,
    ])
    print(body)
    if args.write:
        write_section(body, owner="static_files.py")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
