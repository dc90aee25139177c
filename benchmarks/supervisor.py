"""Per-process cost of ``sluice serve --workers N``: RSS of the master and each worker, master CPU.

Usage::

    python benchmarks/supervisor.py                 # print the table
    python benchmarks/supervisor.py --write         # also update benchmarks/RESULTS.md

Serves ``benchmarks.apps:hello`` on 127.0.0.1 with ``--workers 1`` (one
process, no master) and ``--workers 2``, reads VmRSS from ``/proc``, and the
master's CPU time (utime + stime) over an idle window and over a ``wrk``
run (hello world, keep-alive). On a 2-core machine wrk shares the cores with
the workers, so the request rates are recorded, not compared.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.server import write_section  # noqa: E402

_TICK = os.sysconf("SC_CLK_TCK")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _pss_mib(pid: int) -> float:
    """Proportional set size: shared pages divided among the processes sharing them."""
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


def _children(pid: int) -> list[int]:
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    return [int(p) for p in text.split()]


def _wait_ready(url: str, workers: int, proc: subprocess.Popen[str], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        if workers == 1 or len(_children(proc.pid)) >= workers:
            try:
                with socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1])), timeout=1):
                    time.sleep(0.5)  # every worker imported and reported ready
                    return
            except OSError:
                pass
        time.sleep(0.05)
    raise RuntimeError("server did not start")


def measure(workers: int, seconds: int, preload: bool = False) -> dict[str, object]:
    """Serve hello world with ``workers`` (and ``--preload``) and return RSS, master CPU and the wrk rate."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    cmd = [sys.executable, "-m", "sluice", "serve", "benchmarks.apps:hello", "-w", str(workers),
           "-b", f"127.0.0.1:{port}", "--access-log", "off", "--log-level", "warning"] + (["--preload"] if preload else [])
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True)
    try:
        _wait_ready(url, workers, proc)
        master = proc.pid
        before = _cpu_seconds(master)
        time.sleep(seconds)
        idle_cpu = (_cpu_seconds(master) - before) / seconds
        rss_idle = [_rss_mib(master)] + [_rss_mib(p) for p in _children(master)]
        pss_idle = [_pss_mib(master)] + [_pss_mib(p) for p in _children(master)]
        before = _cpu_seconds(master)
        out = subprocess.run(["wrk", "-t2", "-c32", f"-d{seconds}s", url + "/"],
                             capture_output=True, text=True, check=True).stdout
        load_cpu = (_cpu_seconds(master) - before) / seconds
        rss_load = [_rss_mib(master)] + [_rss_mib(p) for p in _children(master)]
        match = re.search(r"Requests/sec:\s+([\d.]+)", out)
        rate = float(match.group(1)) if match else 0.0
    finally:
        proc.terminate()
        proc.wait(30)
    return {"workers": f"{workers}, --preload" if preload else workers, "idle_cpu": idle_cpu, "load_cpu": load_cpu,
            "rss_idle": rss_idle, "pss_idle": pss_idle, "rss_load": rss_load, "rate": rate}


def render(rows: list[dict[str, object]], seconds: int) -> str:
    """The Markdown section for RESULTS.md."""
    lines = [
        "## Supervisor: per-process cost of `--workers N`",
        "",
        f"`python benchmarks/supervisor.py --write` ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
        f"{os.cpu_count()} cores). `benchmarks.apps:hello`; idle window and `wrk -t2 -c32 -d{seconds}s` "
        "(keep-alive) each; RSS from /proc VmRSS; master CPU is utime+stime of the master "
        "process divided by the window, read in 10 ms ticks (0.00% is under one tick in the window). "
        "RSS counts pages shared copy-on-write with the master in every process; PSS divides them among "
        "the sharers, so the PSS column adds up to the real total. Request rates move a lot between runs "
        "on this shared 2-core machine (wrk runs on the same cores): recorded, not compared. "
        "With `--workers 1` there is no master: the one process serves.",
        "",
        "| workers | process | RSS idle (MiB) | PSS idle (MiB) | RSS after load (MiB) | master CPU idle | master CPU under load | req/s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        rss_idle = row["rss_idle"]
        rss_load = row["rss_load"]
        pss_idle = row["pss_idle"]
        assert isinstance(rss_idle, list) and isinstance(rss_load, list) and isinstance(pss_idle, list)
        names = ["server (single process)"] if row["workers"] == 1 else ["master"] + [
            f"worker {i}" for i in range(1, len(rss_idle))
        ]
        for i, name in enumerate(names):
            cpu = "" if row["workers"] == 1 or i else f"{row['idle_cpu']:.2%} | {row['load_cpu']:.2%}"
            cpu_cells = cpu if cpu else " | "
            rate = f"{row['rate']:.0f}" if i == 0 else ""
            load_rss = rss_load[i] if i < len(rss_load) else 0.0
            lines.append(f"| {row['workers']} | {name} | {rss_idle[i]:.1f} | {pss_idle[i]:.1f} | {load_rss:.1f} | {cpu_cells} | {rate} |")
    lines += [
        "",
        "The workers share the master's listening sockets (one accept queue) rather than each binding its "
        "own with `SO_REUSEPORT`: a shared queue keeps the connections waiting for a retiring, reloading "
        "or killed worker for the others (zero failed requests on SIGHUP), where a per-worker "
        "`SO_REUSEPORT` queue is reset with its worker; `SO_REUSEPORT`'s even spread across workers was "
        "not measured here (on 2 cores wrk competes with the workers).",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5, help="length of the idle and the load window")
    parser.add_argument("--write", action="store_true", help="update benchmarks/RESULTS.md")
    args = parser.parse_args(argv)
    rows = [measure(1, args.seconds), measure(2, args.seconds), measure(2, args.seconds, preload=True)]
    body = render(rows, args.seconds)
    print(body)
    if args.write:
        write_section(body, owner="supervisor")
    return 0


if __name__ == "__main__":
    sys.exit(main())
