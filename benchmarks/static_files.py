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


def measure(row: Row, name: str, data: bytes, folder: Path, workdir: Path, args: argparse.Namespace) -> float | None:
    """Start a fresh server, check the file's bytes, warm up, load once; return req/s or None."""
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
        result = parse_wrk(run_wrk(wrk_command(SCENARIO, url, args.duration, args.wrk_cpu), args.duration))
        if result.non_2xx_3xx or result.socket_errors:
            print(f"{row.name} {name}: {result.non_2xx_3xx} bad answers, {result.socket_errors} socket errors", file=sys.stderr)
        return result.requests_per_s


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
    results: dict[tuple[str, str], list[float]] = {}
    by_round: dict[tuple[str, str, int], float] = {}
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
                    rps = measure(row, name, contents[size_label], folder, workdir, args)
                    if rps is not None:
                        results.setdefault((row.name, size_label), []).append(rps)
                        by_round[(row.name, size_label, round_no)] = rps
                    print(f"round {round_no + 1} {size_label} {row.name}: {rps}", file=sys.stderr)

    def median(row: str, size: str) -> float | None:
        values = results.get((row, size))
        return statistics.median(values) if values else None

    lines = ["| server | " + " | ".join(f"{s} req/s" for s in files) + " |", "|---|" + "---:|" * len(files)]
    for row in ROWS:
        cells = [median(row.name, s) for s in files]
        lines.append(f"| {row.label} | " + " | ".join(f"{c:,.0f}" if c else "failed" for c in cells) + " |")
    ratios = []
    for sluice_row in ("sluice", "sluice-nolog"):
        for label, peer, target in (("1 MiB", "nginx", 0.8), ("4 KiB", "flask-granian", 3.0)):
            ours, theirs = median(sluice_row, label), median(peer, label)
            if ours and theirs:
                # NOTE: this machine's speed drifts within minutes; the ratio
                # inside each round (cells a few seconds apart) is steadier
                # than the ratio of medians taken over the whole run.
                paired = sorted(
                    by_round[(sluice_row, label, r)] / by_round[(peer, label, r)]
                    for r in range(args.rounds)
                    if (sluice_row, label, r) in by_round and (peer, label, r) in by_round
                )
                spread = f"; per round: median {statistics.median(paired):.2f}x, {paired[0]:.2f}x to {paired[-1]:.2f}x" if paired else ""
                ratios.append(
                    f"- {sluice_row} / {peer}, {label}: {ours / theirs:.2f}x (target at least {target}x){spread}"
                )
    command = "python " + " ".join(shlex.quote(a) for a in ["benchmarks/static_files.py", *(argv if argv is not None else sys.argv[1:])])
    body = "\n".join([
        "## Static files (issue 8)",
        "",
        f"Command: `{command}` — medians of {args.rounds} interleaved rounds of {args.duration} s, "
        f"wrk `-t1 -c16` keep-alive pinned to core {args.wrk_cpu}, each server pinned to core {args.server_cpu}.",
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
