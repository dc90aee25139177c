"""Server memory while 8 clients download 10 MiB list bodies at once, and after: tree against tree.

The issue measured on the code before it: eight concurrent 10 MiB responses
raised the server's RSS from 27 to 114 MiB, and it stayed there (the head was
joined to the whole first chunk: one copy per response, and the freed copies
kept by the allocator). This starts ``sluice serve`` on an app whose
``/big`` returns ``[b"x" * 10 MiB]`` (a new, touched body per request), sends
8 ``GET /big`` at once from readers that take about 3 MiB/s each, samples the
server's RSS every 0.1 s, and reads it again 1 s after the last byte.

Usage (from the repository root, inside the venv)::

    python benchmarks/list_body_memory.py --baseline b256420 --write
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.server import REPO_ROOT
from benchmarks.server import export_revision
from benchmarks.server import server_env
from benchmarks.server import tree_state
from benchmarks.server import write_section

HOST = "127.0.0.1"
SIZE = 10 * 1024 * 1024
CLIENTS = 8
APP_SOURCE = '''
def app(environ, start_response):
    if environ["PATH_INFO"] == "/big":
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        return [b"x" * %d]
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
''' % SIZE


def rss_mib(pid: int) -> float:
    """VmRSS of a process in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def read_slowly(port: int, got: list[int]) -> None:
    """``GET /big`` with Connection: close, read 64 KiB every 20 ms; append the bytes received."""
    with socket.create_connection((HOST, port), timeout=60) as sock:
        sock.sendall(b"GET /big HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
        total = 0
        while data := sock.recv(65536):
            total += len(data)
            time.sleep(0.02)
    got.append(total)


def measure(src: Path | None, workdir: Path) -> tuple[float, float, float]:
    """(RSS before, peak, 1 s after) in MiB for one tree (``src`` None: the working tree)."""
    (workdir / "list_body_app.py").write_text(APP_SOURCE)
    env = server_env(((str(src),) if src is not None else ()))
    env["PYTHONPATH"] = f"{env['PYTHONPATH']}{os.pathsep}{workdir}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "sluice", "serve", "list_body_app:app", "--bind", f"{HOST}:0", "--access-log", "off"],
        cwd=REPO_ROOT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert proc.stderr is not None
        port = 0
        deadline = time.monotonic() + 30
        while not port:
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("the server did not start")
            match = re.search(r"Listening on http://127\.0\.0\.1:(\d+)", proc.stderr.readline())
            if match:
                port = int(match.group(1))
        time.sleep(0.5)
        before = peak = rss_mib(proc.pid)
        got: list[int] = []
        readers = [threading.Thread(target=read_slowly, args=(port, got)) for _ in range(CLIENTS)]
        for reader in readers:
            reader.start()
        deadline = time.monotonic() + 120
        while any(r.is_alive() for r in readers) and time.monotonic() < deadline:
            peak = max(peak, rss_mib(proc.pid))
            time.sleep(0.1)
        for reader in readers:
            reader.join(5)
        if len(got) != CLIENTS or min(got) < SIZE:
            raise RuntimeError(f"incomplete downloads (bytes per client): {got}")
        time.sleep(1.0)
        return before, peak, rss_mib(proc.pid)
    finally:
        proc.terminate()
        proc.wait(30)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--baseline", action="append", default=[], metavar="REV", help="also measure this revision's src/")
    parser.add_argument("--write", action="store_true", help="replace this script's section in RESULTS.md")
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory(prefix="sluice-listmem-") as tmp:
        workdir = Path(tmp)
        trees: list[tuple[str, Path | None]] = [("working tree", None)]
        trees += [(rev, export_revision(rev, workdir)) for rev in args.baseline]
        for name, src in trees:
            before, peak, after = measure(src, workdir)
            rows.append(f"| {name} | {before:.1f} | {peak:.1f} | {after:.1f} |")
            print(rows[-1], flush=True)
    command = "python benchmarks/list_body_memory.py" + "".join(f" --baseline {rev}" for rev in args.baseline)
    command += " --write" if args.write else ""
    body = "\n".join([
        "## Memory of 8 concurrent 10 MiB list bodies (`benchmarks/list_body_memory.py`)",
        "",
        f"- Date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC; command: `{command}`",
        f"- Working tree: {tree_state()}",
        "- `sluice serve` (access log off) on an app whose `/big` returns `[b\"x\" * 10 MiB]`; 8 clients fetch it at once, "
        "each reading 64 KiB every 20 ms; the server's VmRSS before, its peak (every 0.1 s) and 1 s after the last byte.",
        "",
        "| tree | RSS before (MiB) | peak (MiB) | 1 s after (MiB) |",
        "|---|---:|---:|---:|",
        *rows,
    ])
    print(body)
    if args.write:
        write_section(body, owner="list_body_memory.py")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
