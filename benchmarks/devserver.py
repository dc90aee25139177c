"""``sluice run`` beside Werkzeug's stat reloader: idle CPU for an app of 1,500 modules, reload latency, requests during reloads.

Usage::

    python benchmarks/devserver.py                  # print the table
    python benchmarks/devserver.py --write          # also update benchmarks/RESULTS.md
    python benchmarks/devserver.py --idle-seconds 10 --idle-windows 1 --edits 3   # a quick look

Issue 10's acceptance items for ``sluice run``: idle CPU under 1% of a core
for an app of 1,500 modules, a change served within 2 s of the save, and no
request refused or dropped during reloads. The issue measured Werkzeug's
reloader, which stats every file once a second, at 1.6-1.8% of a core.

The script generates, in a temporary folder, a package ``proj`` of
``--packages`` subpackages of ``--modules`` modules each (30 x 50 = 1,500
modules of a few functions and a class; the packages import all their
modules), and two thin entry modules over it: ``app.py`` (``from sluice
import App``) and ``flask_app.py`` (``from flask import Flask``). Both serve
``/`` (the ``VERSION`` string of ``proj/pkg00/mod00.py``) and ``/modules``
(the serving process's pid, ``len(sys.modules)``, how many of them are
``proj``'s and, for Flask, how many files Werkzeug's stat loop checks). The
tree is byte-compiled first, so both servers start from ``.pyc`` files.

Each server in turn, pinned to ``--server-cpu`` with ``taskset`` (this
script and its clients run on another core when there is one):

- ``sluice run app:app --bind 127.0.0.1:0`` (every other setting at its
  default; the port is read from the ``Listening on http://HOST:PORT`` line);
- Werkzeug's stat reloader as ``flask --app flask_app run --reload`` runs it
  (a launcher imports the app, then calls ``run_simple(..., threaded=True,
  use_reloader=True, reloader_type="stat")``: Werkzeug would pick watchdog
  if it were installed), on a free port picked here.

1. Idle CPU: once ``/`` answers and ``--settle`` seconds have passed, the
   utime + stime of every process of the server's tree (``/proc/PID/stat``;
   children from ``/proc/PID/task/*/children``) over ``--idle-windows``
   windows of ``--idle-seconds``, as a share of one core. /proc counts in
   10 ms ticks: one tick in a 30 s window is 0.03%.
2. Reload latency: ``--edits`` times, the new ``VERSION`` is written into
   ``proj/pkg00/mod00.py`` in place (as an editor saves); then ``/`` is
   polled on fresh connections every ``--poll-interval`` until the new
   version is served. The time from just before the write to the answer is
   the latency. ``--pause`` seconds pass between an answer and the next edit.
3. Requests during the edits: two client threads send ``GET /`` on fresh
   connections, one every ``--client-interval`` each, from before the first
   edit to after the last, and count answers by kind: 200, refused
   (ECONNREFUSED), reset or other error, other status. "During a reload"
   counts those begun between a save and the answer with the new version.

Each server is stopped by its PID (SIGTERM, SIGKILL after a timeout):
``sluice run``'s master; for Werkzeug the serving child first (its parent
exits when the child does, as Ctrl-C does in a terminal). Then every process
seen in the tree is checked to be gone. Only 127.0.0.1 is contacted, and
every loop is bounded in count and time.
"""

from __future__ import annotations

import argparse
import compileall
import http.client
import os
import platform
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.server import HOST
from benchmarks.server import REPO_ROOT
from benchmarks.server import free_port
from benchmarks.server import loopback_url
from benchmarks.server import write_section

_TICK = os.sysconf("SC_CLK_TCK")
START_TIMEOUT_S = 60.0  # 1,500 modules to import before the first answer
STOP_TIMEOUT_S = 15.0
REQUEST_TIMEOUT_S = 10.0
CLIENT_MAX_REQUESTS = 50_000  # per client thread
_LISTENING = re.compile(r"Listening on http://127\.0\.0\.1:(\d+)")
VERSION_FILE = Path("proj") / "pkg00" / "mod00.py"

MODULE = '''\
"""Module {package}.{name} of a generated app: a few small functions and a class."""

from __future__ import annotations

VERSION = "{version}"
WEIGHT = {weight}


def scale(value: int) -> int:
    return value * WEIGHT


def describe(name: str) -> str:
    return f"{{name}}: {{WEIGHT}}"


def total(values: list[int]) -> int:
    return sum(scale(value) for value in values)


class Record:
    def __init__(self, key: str) -> None:
        self.key = key

    def label(self) -> str:
        return describe(self.key)
'''

SLUICE_APP = '''\
"""The sluice entry of the generated app."""

import os
import sys

import proj
from sluice import App

app = App(__name__)


@app.get("/")
def index():
    return proj.pkg00.mod00.VERSION


@app.get("/modules")
def modules():
    own = sum(1 for name in sys.modules if name == "proj" or name.startswith("proj."))
    return f"{os.getpid()} {len(sys.modules)} {own} 0"
'''

FLASK_APP = '''\
"""The Flask entry of the generated app."""

import os
import sys

import proj
from flask import Flask
from werkzeug._reloader import _find_stat_paths

app = Flask(__name__)


@app.get("/")
def index():
    return proj.pkg00.mod00.VERSION


@app.get("/modules")
def modules():
    own = sum(1 for name in sys.modules if name == "proj" or name.startswith("proj."))
    return f"{os.getpid()} {len(sys.modules)} {own} {len(_find_stat_paths(set(), set()))}"
'''

# What `flask --app flask_app run --reload` does (flask/cli.py run_command),
# with the stat reloader named rather than picked.
FLASK_LAUNCHER = '''\
"""Run flask_app as `flask --app flask_app run --reload --port PORT` does, with Werkzeug's stat reloader."""

import os
import sys

# Werkzeug walks every sys.path folder outside the Python installation for
# .py files; keep it to what a Flask project has (its folder and the
# installation), not the editable sluice checkout of the benchmark's venv.
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [
    p for p in sys.path
    if os.path.abspath(p or ".") == HERE or os.path.abspath(p).startswith((sys.prefix, sys.base_prefix))
]

from werkzeug.serving import run_simple  # noqa: E402

from flask_app import app  # noqa: E402

run_simple("127.0.0.1", int(sys.argv[1]), app, use_reloader=True, use_debugger=False,
           threaded=True, reloader_type="stat")
'''


def make_project(root: Path, packages: int, modules: int) -> None:
    """Write the generated app (``proj`` and both entry modules) below ``root`` and byte-compile it."""
    top = root / "proj"
    top.mkdir()
    pkg_names = [f"pkg{p:02d}" for p in range(packages)]
    (top / "__init__.py").write_text("".join(f"from . import {name}\n" for name in pkg_names))
    for p, package in enumerate(pkg_names):
        folder = top / package
        folder.mkdir()
        names = [f"mod{m:02d}" for m in range(modules)]
        (folder / "__init__.py").write_text("".join(f"from . import {name}\n" for name in names))
        for m, name in enumerate(names):
            text = MODULE.format(package=package, name=name, version="v0", weight=p * modules + m)
            (folder / f"{name}.py").write_text(text)
    (root / "app.py").write_text(SLUICE_APP)
    (root / "flask_app.py").write_text(FLASK_APP)
    (root / "flask_run.py").write_text(FLASK_LAUNCHER)
    compileall.compile_dir(str(root), quiet=1)


def import_seconds(root: Path, module: str, cpu: int, times: int = 3) -> float:
    """Median time to import ``module`` (the whole app) in a fresh interpreter pinned to ``cpu``."""
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    runs = []
    for _ in range(times):
        out = subprocess.run(["taskset", "-c", str(cpu), sys.executable, "-c", code], cwd=root, env=_env(),
                             capture_output=True, text=True, timeout=START_TIMEOUT_S, check=True).stdout
        runs.append(float(out.split()[-1]))
    return statistics.median(runs)


def write_version(root: Path, version: str) -> None:
    """Save a new ``VERSION`` into the served module in place, as an editor does."""
    text = MODULE.format(package="pkg00", name="mod00", version=version, weight=0)
    with open(root / VERSION_FILE, "w") as f:
        f.write(text)


# -- processes ---------------------------------------------------------------------


def _stat_fields(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except (OSError, ValueError):
        return None


def cpu_ticks(pid: int) -> int | None:
    """utime + stime of ``pid`` in clock ticks (all its threads), or None when it is gone."""
    fields = _stat_fields(pid)
    # After "pid (comm)": state(3) ppid(4) ... utime(14) stime(15) ... starttime(22).
    return None if fields is None else int(fields[11]) + int(fields[12])


def start_time(pid: int) -> int | None:
    """When ``pid`` started (ticks since boot), to tell it from a later process given the same pid."""
    fields = _stat_fields(pid)
    return None if fields is None or fields[0] == "Z" else int(fields[19])


def inotify_watches(pid: int) -> int:
    """How many inotify watches ``pid`` holds (``inotify wd:`` lines of its fds' fdinfo)."""
    count = 0
    try:
        fds = os.listdir(f"/proc/{pid}/fdinfo")
    except OSError:
        return 0
    for fd in fds:
        try:
            count += Path(f"/proc/{pid}/fdinfo/{fd}").read_text().count("inotify wd:")
        except OSError:
            continue
    return count


def children(pid: int) -> list[int]:
    """The direct children of ``pid``, forked by any of its threads."""
    found: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for task in tasks:
        try:
            found += [int(c) for c in Path(f"/proc/{pid}/task/{task}/children").read_text().split()]
        except OSError:
            continue
    return found


def process_tree(pid: int) -> list[int]:
    """``pid`` and all its descendants (bounded: a tree of at most 64 processes)."""
    tree = [pid]
    i = 0
    while i < len(tree) and len(tree) < 64:
        tree += children(tree[i])
        i += 1
    return tree


@dataclass
class Server:
    """One server under test: its process, port, log, and every process seen in its tree."""

    name: str
    proc: subprocess.Popen[bytes]
    port: int
    log_path: Path
    seen: dict[int, int] = field(default_factory=dict)  # pid -> start time

    def note_tree(self) -> list[int]:
        """Record the tree's processes (for the check after the stop) and return their pids."""
        tree = process_tree(self.proc.pid)
        for pid in tree:
            started = start_time(pid)
            if started is not None:
                self.seen.setdefault(pid, started)
        return tree

    def log(self) -> str:
        """What the server wrote so far."""
        return self.log_path.read_text(errors="replace")


def start_sluice(root: Path, cpu: int) -> Server:
    """Start ``sluice run app:app --bind 127.0.0.1:0`` in ``root`` and read its port from the log."""
    log_path = root / "sluice.log"
    argv = ["taskset", "-c", str(cpu), sys.executable, "-m", "sluice", "run", "app:app", "--bind", f"{HOST}:0"]
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(argv, cwd=root, env=_env(), stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
    server = Server("sluice run", proc, 0, log_path)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline and proc.poll() is None:
        match = _LISTENING.search(server.log())
        if match:
            server.port = int(match.group(1))
            return server
        time.sleep(0.02)
    stop(server)
    raise RuntimeError(f"sluice run did not report its port:\n{server.log()[-3000:]}")


def start_werkzeug(root: Path, cpu: int) -> Server:
    """Start the Flask launcher (Werkzeug's stat reloader) in ``root`` on a free loopback port."""
    log_path = root / "werkzeug.log"
    port = free_port()
    argv = ["taskset", "-c", str(cpu), sys.executable, "flask_run.py", str(port)]
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(argv, cwd=root, env=_env(), stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
    return Server("Werkzeug stat reloader", proc, port, log_path)


def _env() -> dict[str, str]:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    env.pop("PYTHONPATH", None)  # the app comes from its folder, sluice and Flask from the venv
    env.pop("FLASK_DEBUG", None)
    return env


def stop(server: Server) -> list[int]:
    """Stop the server by PID; return the pids of its tree still running afterwards (then killed).

    ``sluice run`` gets SIGTERM on its master. Werkzeug's reloader parent
    does not pass SIGTERM on (Ctrl-C reaches the whole process group in a
    terminal), so its serving child gets SIGTERM first, then the parent if
    it is still there.
    """
    proc = server.proc
    if proc.poll() is None:
        server.note_tree()
        first = children(proc.pid) if server.name.startswith("Werkzeug") else []
        for pid in [*first, proc.pid]:
            _signal_ours(server, pid, signal.SIGTERM)
            if pid != proc.pid:
                _wait_gone(server, pid, STOP_TIMEOUT_S)
        try:
            proc.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(STOP_TIMEOUT_S)
    left = [pid for pid, started in server.seen.items() if start_time(pid) == started]
    for pid in left:
        _signal_ours(server, pid, signal.SIGKILL)
    return left


def _signal_ours(server: Server, pid: int, sig: int) -> None:
    # Only a process recorded in this server's tree, and the same one (start time).
    if pid in server.seen and start_time(pid) == server.seen[pid]:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


def _wait_gone(server: Server, pid: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and start_time(pid) == server.seen.get(pid):
        time.sleep(0.02)


# -- HTTP --------------------------------------------------------------------------


def get(port: int, path: str = "/", timeout: float = REQUEST_TIMEOUT_S) -> tuple[int, bytes]:
    """One ``GET`` on a fresh connection to 127.0.0.1."""
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def classify(exc: BaseException) -> str:
    """The kind of a failed request: refused, reset or other."""
    if isinstance(exc, ConnectionRefusedError):
        return "refused"
    if isinstance(exc, (ConnectionResetError, BrokenPipeError, http.client.RemoteDisconnected)):
        return "reset"
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return "timeout"
    return type(exc).__name__


def wait_serving(server: Server, body: bytes, timeout: float = START_TIMEOUT_S) -> None:
    """Poll ``/`` until it answers 200 with ``body``, or raise."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise RuntimeError(f"{server.name} exited with {server.proc.returncode}:\n{server.log()[-3000:]}")
        try:
            status, got = get(server.port, timeout=2.0)
            if status == 200 and got == body:
                return
            last = f"{status} {got[:80]!r}"
        except (OSError, http.client.HTTPException) as exc:
            last = classify(exc)
        time.sleep(0.05)
    raise RuntimeError(f"{server.name} did not serve {body!r} within {timeout:.0f} s ({last}):\n{server.log()[-3000:]}")


class Clients:
    """Threads sending ``GET /`` on fresh connections until stopped (or a count or time limit)."""

    def __init__(self, port: int, threads: int, interval: float, max_seconds: float) -> None:
        self.port = port
        self.interval = interval
        self.max_seconds = max_seconds
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.records: list[tuple[float, float, str]] = []  # start, end, outcome
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(threads)]

    def start(self) -> None:
        """Start the client threads."""
        for thread in self.threads:
            thread.start()

    def stop(self) -> None:
        """Stop the client threads and wait for them (each is inside one bounded request at most)."""
        self.stopping.set()
        for thread in self.threads:
            thread.join(REQUEST_TIMEOUT_S + 5)

    def _run(self) -> None:
        deadline = time.monotonic() + self.max_seconds
        for _ in range(CLIENT_MAX_REQUESTS):
            if self.stopping.is_set() or time.monotonic() > deadline:
                return
            began = time.monotonic()
            try:
                status, _ = get(self.port)
                outcome = "ok" if status == 200 else f"status {status}"
            except (OSError, http.client.HTTPException) as exc:
                outcome = classify(exc)
            with self.lock:
                self.records.append((began, time.monotonic(), outcome))
            self.stopping.wait(self.interval)


# -- measurements ------------------------------------------------------------------


def modules_info(server: Server) -> tuple[int, int, int, int]:
    """The serving process's pid, len(sys.modules), the app's own modules, Werkzeug's stat paths."""
    status, body = get(server.port, "/modules")
    if status != 200:
        raise RuntimeError(f"/modules answered {status}: {body[:200]!r}")
    pid, total, own, stat_paths = (int(x) for x in body.split())
    return pid, total, own, stat_paths


def measure_idle(server: Server, seconds: float) -> tuple[float, dict[int, float], float]:
    """CPU of the server's tree over one idle window: share of a core, per pid, and the 1-min load after."""
    tree = server.note_tree()
    before = {pid: cpu_ticks(pid) for pid in tree}
    started = time.monotonic()
    time.sleep(seconds)
    elapsed = time.monotonic() - started
    after_tree = server.note_tree()
    if sorted(after_tree) != sorted(tree):
        print(f"  note: {server.name}'s processes changed during the idle window: {tree} -> {after_tree}",
              file=sys.stderr)
    per_pid: dict[int, float] = {}
    for pid, ticks in before.items():
        now = cpu_ticks(pid)
        if ticks is not None and now is not None:
            per_pid[pid] = (now - ticks) / _TICK / elapsed
    return sum(per_pid.values()), per_pid, os.getloadavg()[0]


@dataclass
class Reloads:
    """What happened over the edits: latencies, the polls' errors, the clients' answers."""

    latencies: list[float] = field(default_factory=list)
    missed: int = 0  # edits whose version was not served within the timeout
    poll_errors: Counter[str] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)
    during: Counter[str] = field(default_factory=Counter)  # requests begun inside a reload window
    longest_request: float = 0.0


def measure_reloads(server: Server, root: Path, edits: int, pause: float, poll_interval: float,
                    timeout: float, client_interval: float) -> Reloads:
    """Edit the served module ``edits`` times while two clients send requests; see the module docstring."""
    result = Reloads()
    windows: list[tuple[float, float]] = []
    clients = Clients(server.port, 2, client_interval, max_seconds=edits * (timeout + pause) + 30)
    clients.start()
    try:
        time.sleep(pause)
        for n in range(1, edits + 1):
            version = f"v{n}".encode()
            saved = time.monotonic()
            write_version(root, f"v{n}")
            deadline = saved + timeout
            served = None
            while time.monotonic() < deadline:
                server.note_tree()
                try:
                    status, body = get(server.port, timeout=max(0.1, min(REQUEST_TIMEOUT_S, deadline - time.monotonic())))
                    if status == 200 and body == version:
                        served = time.monotonic()
                        break
                    if status != 200:
                        result.poll_errors[f"status {status}"] += 1
                except (OSError, http.client.HTTPException) as exc:
                    result.poll_errors[classify(exc)] += 1
                time.sleep(poll_interval)
            if served is None:
                result.missed += 1
                windows.append((saved, deadline))
                print(f"  {server.name}: v{n} not served within {timeout:.0f} s", file=sys.stderr)
            else:
                result.latencies.append(served - saved)
                print(f"  {server.name}: v{n} served {served - saved:.3f} s after the save", file=sys.stderr)
                windows.append((saved, served))
            time.sleep(pause)
    finally:
        clients.stop()
    for began, ended, outcome in clients.records:
        result.outcomes[outcome] += 1
        result.longest_request = max(result.longest_request, ended - began)
        if any(start <= began <= end for start, end in windows):
            result.during[outcome] += 1
    return result


@dataclass
class Run:
    """All the numbers of one server."""

    name: str
    idle: list[float]
    roles: dict[str, float]  # role -> share of a core, averaged over the windows
    loads: list[float]
    modules: tuple[int, int, int, int]
    import_s: float
    watches: int
    reloads: Reloads
    left: list[int]
    log_counts: dict[str, int]


def run_server(kind: str, root: Path, args: argparse.Namespace) -> Run:
    """Start one server, measure idle CPU and reloads, stop it, check nothing is left."""
    write_version(root, "v0")
    import_s = import_seconds(root, "app" if kind == "sluice" else "flask_app", args.server_cpu)
    server = start_sluice(root, args.server_cpu) if kind == "sluice" else start_werkzeug(root, args.server_cpu)
    left: list[int] = []
    try:
        loopback_url(server.port)
        wait_serving(server, b"v0")
        modules = modules_info(server)
        print(f"{server.name}: serving on port {server.port}, pid {modules[0]} imported "
              f"{modules[1]} modules ({modules[2]} of the app); settling {args.settle:.0f} s", file=sys.stderr)
        time.sleep(args.settle)
        idle: list[float] = []
        loads: list[float] = []
        role_sums: Counter[str] = Counter()
        for window in range(args.idle_windows):
            total, per_pid, load = measure_idle(server, args.idle_seconds)
            idle.append(total)
            loads.append(load)
            for pid, share in per_pid.items():
                role_sums[_role(server, pid, modules[0])] += share / args.idle_windows
            print(f"  idle window {window + 1}: {total:.3%} of a core (1-min load {load:.2f})", file=sys.stderr)
        watches = sum(inotify_watches(pid) for pid in server.note_tree())
        reloads = measure_reloads(server, root, args.edits, args.pause, args.poll_interval,
                                  args.reload_timeout, args.client_interval)
    finally:
        left = stop(server)
    log = server.log()
    if kind == "sluice":
        counts = {"reloads logged": len(re.findall(r"Detected a change in", log)),
                  "workers started": len(set(re.findall(r"worker (\d+) \(generation \d+\) ready", log)))}
    else:
        counts = {"reloads logged": len(re.findall(r"Detected change in", log)),
                  "workers started": log.count("Restarting with stat")}
    counts["tracebacks"] = log.count("Traceback")
    return Run(server.name, idle, dict(role_sums), loads, modules, import_s, watches, reloads, left, counts)


def _role(server: Server, pid: int, serving: int) -> str:
    if server.name.startswith("Werkzeug"):
        return "reloader parent" if pid == server.proc.pid else "server + stat loop"
    if pid == server.proc.pid:
        return "master"
    return "worker" if pid == serving else "watcher"


# -- report ------------------------------------------------------------------------


def _latency(reloads: Reloads) -> str:
    if not reloads.latencies:
        return "none served"
    text = f"{statistics.median(reloads.latencies):.2f} s / {max(reloads.latencies):.2f} s"
    return text + (f" ({reloads.missed} not served in time)" if reloads.missed else "")


def _answers(counts: Counter[str]) -> str:
    ok = counts["ok"]
    refused = counts["refused"]
    non200 = sum(n for kind, n in counts.items() if kind.startswith("status "))
    other = sum(counts.values()) - ok - refused - non200
    return f"{ok} / {refused} / {other} / {non200}"


def _errors(counts: Counter[str]) -> str:
    bad = {kind: n for kind, n in counts.items() if kind != "ok"}
    return ", ".join(f"{kind} {n}" for kind, n in sorted(bad.items())) or "none"


def render(runs: list[Run], args: argparse.Namespace, command: str, load_before: float) -> str:
    """The Markdown section for RESULTS.md."""
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT, capture_output=True,
                          text=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "src"], cwd=REPO_ROOT, capture_output=True,
                           text=True).stdout.strip()
    loads = ", ".join(f"{load:.2f}" for run in runs for load in run.loads)
    names = [run.name for run in runs]
    count = args.packages * args.modules
    rows: list[tuple[str, list[str]]] = [
        (f"idle CPU, % of one core, whole tree ({args.idle_windows} x {args.idle_seconds:.0f} s)",
         [" / ".join(f"{share:.2%}" for share in run.idle) for run in runs]),
        ("idle CPU by process", [", ".join(f"{role} {share:.2%}" for role, share in sorted(run.roles.items()))
                                 for run in runs]),
        ("modules in the serving process: `sys.modules` / the app's own",
         [f"{run.modules[1]:,} / {run.modules[2]:,}" for run in runs]),
        ("files the reloader stats each second / inotify watches held", [
            f"{run.modules[3]:,} / {run.watches:,}" for run in runs]),
        ("importing the entry module in a fresh interpreter (median of 3)",
         [f"{run.import_s:.2f} s" for run in runs]),
        (f"reload latency save -> new version served, median / max ({args.edits} edits)",
         [_latency(run.reloads) for run in runs]),
        ("client requests during the edits: ok / refused / reset or other / non-200",
         [_answers(run.reloads.outcomes) for run in runs]),
        ("... of them begun during a reload (save -> served)", [_answers(run.reloads.during) for run in runs]),
        ("longest client request", [f"{run.reloads.longest_request:.2f} s" for run in runs]),
        ("latency polls that failed", [_errors(run.reloads.poll_errors) for run in runs]),
        ("reloads logged / serving processes started", [
            f"{run.log_counts['reloads logged']} / {run.log_counts['workers started']}" for run in runs]),
        ("tracebacks in the log", [str(run.log_counts["tracebacks"]) for run in runs]),
        ("processes left after the stop", [str(len(run.left)) for run in runs]),
    ]
    lines = [
        "## Development server (`sluice run`)",
        "",
        f"- Date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; tree {head}"
        f"{', src/ modified' if dirty else ', src/ clean'}",
        f"- Command: `{command}`",
        f"- Machine: nproc={os.cpu_count()}, Python {platform.python_version()}, Linux {platform.release()}; "
        f"1-min load average {load_before:.2f} before, {loads} after each idle window "
        "(other engineers' tests ran on this machine: idle CPU of a few ticks moves between windows)",
        f"- App: a generated package of {args.packages} x {args.modules} = {count:,} modules (a few functions "
        "and a class each, all imported by the entry module), byte-compiled first; `/` returns the `VERSION` "
        "of one of them. Servers pinned with `taskset -c "
        f"{args.server_cpu}`; the clients run on the other core. `sluice run app:app --bind 127.0.0.1:0` "
        "with every other default (access log to its log file); Werkzeug as `flask --app flask_app run "
        "--reload` runs it (`run_simple(threaded=True, use_reloader=True, reloader_type=\"stat\")`, the "
        "editable sluice checkout taken off `sys.path` so it scans only the project and the app's imports).",
        f"- Edits: the new version written in place into the served module, then `/` polled on fresh "
        f"connections every {args.poll_interval * 1000:.0f} ms; {args.pause:.1f} s between an answer and the "
        f"next edit. Meanwhile 2 clients send `GET /` on fresh connections, one every "
        f"{args.client_interval * 1000:.0f} ms each.",
        "",
        "| | " + " | ".join(names) + " |",
        "|---|" + "---|" * len(names),
    ]
    lines += [f"| {label} | " + " | ".join(cells) + " |" for label, cells in rows]
    lines.append("")
    for run in runs:
        each = " ".join(f"{seconds:.2f}" for seconds in run.reloads.latencies)
        lines.append(f"- {run.name}, each edit's latency (s): {each or 'none'}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Measure both servers and print (and with ``--write`` record) the table."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--packages", type=int, default=30, help="subpackages of the generated app")
    parser.add_argument("--modules", type=int, default=50, help="modules in each subpackage")
    parser.add_argument("--settle", type=float, default=5.0, help="seconds between the first answer and the idle window")
    parser.add_argument("--idle-seconds", type=float, default=30.0, help="length of each idle window")
    parser.add_argument("--idle-windows", type=int, default=2, help="idle windows per server")
    parser.add_argument("--edits", type=int, default=10, help="saves of the served module per server")
    parser.add_argument("--pause", type=float, default=1.0, help="seconds between a served edit and the next")
    parser.add_argument("--poll-interval", type=float, default=0.01, help="seconds between latency polls")
    parser.add_argument("--reload-timeout", type=float, default=30.0, help="longest wait for an edit to be served")
    parser.add_argument("--client-interval", type=float, default=0.01, help="each client's pause between requests")
    parser.add_argument("--server-cpu", type=int, default=0, help="core the servers are pinned to")
    parser.add_argument("--servers", default="sluice,werkzeug", help="comma-separated: sluice, werkzeug")
    parser.add_argument("--write", action="store_true", help="update benchmarks/RESULTS.md")
    args = parser.parse_args(argv)
    kinds = [k.strip() for k in args.servers.split(",") if k.strip()]
    if any(k not in ("sluice", "werkzeug") for k in kinds) or not kinds:
        parser.error("--servers takes sluice and/or werkzeug")
    if not (1 <= args.packages <= 100 and 1 <= args.modules <= 100 and 0 < args.idle_seconds <= 600
            and 1 <= args.idle_windows <= 10 and 1 <= args.edits <= 100 and 0 < args.reload_timeout <= 120
            and 0.001 <= args.poll_interval <= 1 and 0.001 <= args.client_interval <= 1
            and 0 <= args.pause <= 10 and 0 <= args.settle <= 60):
        parser.error("a setting is out of range (see --help)")
    if (os.cpu_count() or 1) > 1:
        others = os.sched_getaffinity(0) - {args.server_cpu}
        if others:
            os.sched_setaffinity(0, others)  # before any thread starts, so the clients inherit it
    load_before = os.getloadavg()[0]
    runs: list[Run] = []
    with tempfile.TemporaryDirectory(prefix="sluice-devserver-") as tmp:
        root = Path(tmp)
        make_project(root, args.packages, args.modules)
        for kind in kinds:
            runs.append(run_server(kind, root, args))
    given = sys.argv[1:] if argv is None else list(argv)
    command = "python benchmarks/devserver.py" + "".join(f" {a}" for a in given)
    body = render(runs, args, command, load_before)
    print(body)
    if args.write:
        write_section(body, owner="devserver.py")
        print("\nwrote section to benchmarks/RESULTS.md", file=sys.stderr)
    return 0 if all(not run.left for run in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
