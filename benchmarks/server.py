"""Compare WSGI servers (sluice and peers) serving a hello-world app under wrk load.

Each server runs as a subprocess with one worker process pinned to one core
(``taskset -c 0``) on 127.0.0.1; ``wrk`` runs pinned to another core
(``taskset -c 1``).  Every (server, scenario) cell starts a fresh server, checks
that it answers ``200 Hello, World!``, warms it up for about a second, then
measures.  Rounds are interleaved (round 1 runs every server and scenario, then
round 2, ...; each round starts one server later in the list, so no server
always runs first) and the table reports medians over rounds.  The server's
CPU time over the measured run (all its processes and threads) divided by the
requests wrk completed is reported as CPU µs/req.  It leaves out time the host
steals from the VM, but a server that saturates its pinned core spends about
one CPU second per second, so the figure is close to 1e6 / req/s and moves with
the vCPU's speed as much as the rate does; the report gives the core's measured
busy fraction to show which case a run was.

``--slices K`` is for A/B runs of two or three servers: a round starts a
scenario's servers together (all on the server core, one loaded at a time)
and loads them in turn K times, reversing the order every slice, so the runs
being compared are seconds apart and the host's drift falls on both; ratios
are then taken per slice.

``--baseline REV`` (repeatable) adds a server ``sluice@REV``: the ``sluice``
spec run on that git revision's ``src/`` tree (exported with ``git archive``
into a temporary directory and put first on PYTHONPATH; the app still comes
from this tree's ``benchmarks/``).  The report then adds each baseline's
per-round ratios against the working tree's ``sluice``, taken inside each
round, and their medians.

Usage (from the repository root, inside the venv)::

    python benchmarks/server.py                       # full run, table to stdout
    python benchmarks/server.py --duration 3 --rounds 1 --servers gunicorn-sync,waitress
    python benchmarks/server.py --write               # also update benchmarks/RESULTS.md
    python benchmarks/server.py --servers sluice --baseline b256420 --scenarios keepalive-c16
    python benchmarks/server.py --servers sluice,sluice-log --scenarios keepalive-c16 --slices 8 --duration 2

Needs ``wrk`` and ``taskset`` on PATH and gunicorn, waitress and granian in the
current interpreter (the project's ``bench`` extra).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import hashlib
import http.client
import importlib.metadata
import ipaddress
import os
import platform
import re
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import types
import urllib.parse
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = REPO_ROOT / "benchmarks"
RESULTS_FILE = BENCH_DIR / "RESULTS.md"
PIPELINE_SCRIPT = BENCH_DIR / "pipeline.lua"
APP_TARGET = "benchmarks.apps:hello"
EXPECTED_BODY = b"Hello, World!"

HOST = "127.0.0.1"

STARTUP_TIMEOUT_S = 10.0  # a server that does not answer 200 within this is "failed"
WARMUP_S = 1
WRK_TIMEOUT = "2s"  # wrk's per-request timeout (its default, made explicit)
WRK_GRACE_S = 30.0  # extra wall time allowed for a wrk run beyond its duration
RSS_SAMPLE_INTERVAL_S = 0.1
STOP_TIMEOUT_S = 5.0
PIPELINE_DEPTH = 16
WAITRESS_CONNECTION_LIMIT = 1024  # waitress defaults to 100, too few for c256
DEFAULT_THREADS = 4
MAX_ROUNDS = 50


# --------------------------------------------------------------------------- #
# Servers and scenarios
# --------------------------------------------------------------------------- #


@dataclass(frozen=True)
class ServerSpec:
    """How to launch one server under test."""

    name: str
    label: str
    argv: Callable[[int, int, str], list[str]]  # (port, threads, app target) -> command line
    dist: str  # distribution whose version is reported
    target: str = APP_TARGET  # the app, as MODULE:ATTR
    path: str = "/"  # what the check and wrk request
    expected_body: bytes = EXPECTED_BODY  # what the check must get back from ``path``
    pythonpath: tuple[str, ...] = ()  # put before the repository's paths on PYTHONPATH
    revision: str | None = None  # the git revision whose src/ this spec runs; None = working tree


def _sluice_argv(port: int, threads: int, target: str) -> list[str]:
    """Command line for sluice's own server: its default threads, access log off like the peers."""
    return [sys.executable, "-m", "sluice", "serve", target,
            "--bind", f"{HOST}:{port}", "--access-log", "off", "--log-level", "warning"]


def _sluice_defaults_argv(port: int, threads: int, target: str) -> list[str]:
    """Command line for `sluice serve` with its defaults: the access log on, to stderr (the run's log file)."""
    return [sys.executable, "-m", "sluice", "serve", target, "--bind", f"{HOST}:{port}"]


def _sluice_master_argv(port: int, threads: int, target: str) -> list[str]:
    """`sluice` under its master (one worker that never retires), metrics off: the baseline of sluice-metrics."""
    return [*_sluice_argv(port, threads, target), "--max-requests", "1000000000"]


def _sluice_metrics_argv(port: int, threads: int, target: str) -> list[str]:
    """`sluice` with --metrics-bind (which runs one worker under the master)."""
    return [*_sluice_argv(port, threads, target), "--metrics-bind", f"{HOST}:0"]


def _gunicorn_sync_argv(port: int, threads: int, target: str) -> list[str]:
    """Command line for gunicorn with one sync worker."""
    return [sys.executable, "-m", "gunicorn", "--workers", "1",
            "--worker-class", "sync", "--bind", f"{HOST}:{port}", target]


def _gunicorn_gthread_argv(port: int, threads: int, target: str) -> list[str]:
    """Command line for gunicorn with one gthread worker."""
    return [sys.executable, "-m", "gunicorn", "--workers", "1",
            "--worker-class", "gthread", "--threads", str(threads),
            "--bind", f"{HOST}:{port}", target]


def _waitress_argv(port: int, threads: int, target: str) -> list[str]:
    """Command line for waitress with a raised connection limit."""
    return [sys.executable, "-m", "waitress", f"--listen={HOST}:{port}",
            f"--threads={threads}",
            f"--connection-limit={WAITRESS_CONNECTION_LIMIT}", target]


def _granian_argv(port: int, threads: int, target: str) -> list[str]:
    """Command line for granian's WSGI interface with default blocking threads."""
    return [sys.executable, "-m", "granian", "--interface", "wsgi",
            "--workers", "1", "--host", HOST, "--port", str(port), target]


def _git(*argv: str) -> str:
    """Output of a git command run in the repository (stripped); raise SystemExit on failure."""
    done = subprocess.run(["git", "-C", str(REPO_ROOT), *argv], capture_output=True,
                          text=True, timeout=60, check=False)
    if done.returncode != 0:
        raise SystemExit(f"git {shlex.join(argv)} failed: {done.stderr.strip()}")
    return done.stdout.strip()


def export_revision(rev: str, into: Path) -> Path:
    """Extract ``rev``'s ``src/`` tree under ``into`` (``git archive REV src | tar -x``).

    Returns:
        The exported ``src`` directory.

    Raises:
        SystemExit: ``rev`` names no commit, or the export failed.
    """
    commit = _git("rev-parse", "--verify", f"{rev}^{{commit}}")
    dest = into / commit
    dest.mkdir()
    archive = subprocess.Popen(["git", "-C", str(REPO_ROOT), "archive", commit, "src"],
                               stdout=subprocess.PIPE)
    extract = subprocess.run(["tar", "-x", "-C", str(dest)], stdin=archive.stdout,
                             timeout=60, check=False)
    if archive.stdout:
        archive.stdout.close()
    if archive.wait(timeout=60) != 0 or extract.returncode != 0:
        raise SystemExit(f"could not export {rev}'s src/ (git archive {archive.returncode}, "
                         f"tar {extract.returncode})")
    return dest / "src"


def baseline_spec(sluice: ServerSpec, rev: str, src: Path) -> ServerSpec:
    """The ``sluice`` spec run on a revision's exported ``src`` tree instead of the working tree's."""
    return dataclasses.replace(sluice, name=f"sluice@{rev}",
                               label=f"sluice@{rev} (same options, {rev}'s src/)",
                               pythonpath=(str(src),), revision=rev)


def tree_state() -> str:
    """HEAD and whether the working tree's src/ differs from it (a digest of the diff if so)."""
    head = _git("rev-parse", "--short", "HEAD")
    changed = _git("status", "--porcelain", "--untracked-files=all", "--", "src").splitlines()
    if not changed:
        return f"HEAD {head}, src/ clean"
    digest = hashlib.sha1(_git("diff", "HEAD", "--", "src").encode()).hexdigest()[:10]
    return f"HEAD {head} + {len(changed)} uncommitted src/ file(s) (diff sha1 {digest})"


def sluice_source(spec: ServerSpec) -> str:
    """Import ``sluice`` and ``benchmarks.apps`` as the spec's server would; check where from.

    Returns:
        The imported ``sluice/__init__.py`` path.

    Raises:
        SystemExit: ``sluice`` came from another tree than the spec's, or the
            app module not from this repository.
    """
    code = "import sluice, benchmarks.apps; print(sluice.__file__); print(benchmarks.apps.__file__)"
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT,
                          env=server_env(spec.pythonpath), capture_output=True, text=True,
                          timeout=60, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{spec.name}: cannot import sluice: {done.stderr.strip()[-500:]}")
    sluice_file, apps_file = (Path(line) for line in done.stdout.split())
    tree = Path(spec.pythonpath[0]) if spec.revision else REPO_ROOT / "src"
    if not sluice_file.is_relative_to(tree) or apps_file != BENCH_DIR / "apps.py":
        raise SystemExit(f"{spec.name}: imported {sluice_file} and {apps_file}, "
                         f"expected sluice under {tree} and {BENCH_DIR / 'apps.py'}")
    return str(sluice_file)


def server_specs(threads: int) -> list[ServerSpec]:
    """All servers, labelled with the worker/thread configuration used."""
    return [
        ServerSpec("sluice", "sluice (1 worker, default 8 threads, access log off)",
                   _sluice_argv, "sluice"),
        ServerSpec("sluice-log", "sluice serve defaults (access log on, to stderr)",
                   _sluice_defaults_argv, "sluice"),
        ServerSpec("sluice-master", "sluice under its master (1 worker, metrics off)",
                   _sluice_master_argv, "sluice"),
        ServerSpec("sluice-metrics", "sluice --metrics-bind (1 worker under the master)",
                   _sluice_metrics_argv, "sluice"),
        ServerSpec("gunicorn-sync", "gunicorn sync (1 worker)",
                   _gunicorn_sync_argv, "gunicorn"),
        ServerSpec("gunicorn-gthread", f"gunicorn gthread (1 worker × {threads} threads)",
                   _gunicorn_gthread_argv, "gunicorn"),
        ServerSpec("waitress", f"waitress ({threads} threads, connection-limit "
                   f"{WAITRESS_CONNECTION_LIMIT})", _waitress_argv, "waitress"),
        ServerSpec("granian", "granian wsgi (1 worker, default blocking threads)",
                   _granian_argv, "granian"),
    ]


@dataclass(frozen=True)
class Scenario:
    """One wrk load shape."""

    name: str
    label: str
    connections: int
    extra_args: tuple[str, ...] = ()
    latency_valid: bool = True  # False where wrk's percentiles are known to be wrong


SCENARIOS: list[Scenario] = [
    Scenario("keepalive-c16", "keep-alive, 16 conns", 16),
    Scenario("keepalive-c256", "keep-alive, 256 conns", 256),
    Scenario("close-c16", "Connection: close, 16 conns", 16,
             ("-H", "Connection: close")),
    # wrk 4.1 corrupts latency percentiles when pipelining: its coordinated-omission
    # correction derives the expected interval from responses, not batches, and adds
    # samples below the recorded minimum (wg/wrk#236).  Only throughput is kept.
    Scenario("pipeline-c16", f"pipelined ×{PIPELINE_DEPTH}, 16 conns", 16,
             ("-s", str(PIPELINE_SCRIPT)), latency_valid=False),
]
RATIO_SCENARIO = "keepalive-c16"


# --------------------------------------------------------------------------- #
# Results
# --------------------------------------------------------------------------- #


@dataclass
class WrkResult:
    """Numbers parsed from one wrk --latency run."""

    requests_per_s: float
    p50_ms: float | None  # None when wrk's figure is missing or meaningless
    p99_ms: float | None
    requests: int
    non_2xx_3xx: int
    socket_errors: int


@dataclass
class RunResult:
    """One measured (server, scenario, round) cell."""

    wrk: WrkResult | None
    peak_rss_mib: float | None
    error: str | None = None
    cpu_us_per_req: float | None = None  # server CPU over the measured run / requests


@dataclass
class CellSummary:
    """Median figures for one (server, scenario) over all rounds."""

    runs: list[RunResult] = field(default_factory=list)

    def ok_runs(self) -> list[RunResult]:
        """Runs that produced wrk numbers."""
        return [r for r in self.runs if r.wrk is not None]

    def median_rps(self) -> float | None:
        """Median requests per second, or None when every round failed."""
        ok = self.ok_runs()
        return statistics.median(r.wrk.requests_per_s for r in ok if r.wrk) if ok else None

    def rps_by_round(self) -> list[float | None]:
        """Requests per second of each round, None where the round failed."""
        return [r.wrk.requests_per_s if r.wrk else None for r in self.runs]

    def cpu_by_round(self) -> list[float | None]:
        """Server CPU µs per request of each round, None where the round failed."""
        return [r.cpu_us_per_req if r.wrk else None for r in self.runs]


# --------------------------------------------------------------------------- #
# Process handling
# --------------------------------------------------------------------------- #


class Terminated(Exception):
    """Raised from the SIGTERM/SIGHUP handler so cleanup code runs."""


_live_servers: list[subprocess.Popen[bytes]] = []


def _on_signal(signum: int, frame: types.FrameType | None) -> None:
    """Turn SIGTERM/SIGHUP into an exception so ``finally`` blocks kill servers."""
    raise Terminated(signal.Signals(signum).name)


def free_port() -> int:
    """Ask the kernel for a currently unused TCP port on the loopback address."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def loopback_url(port: int, path: str = "/") -> str:
    """Build the target URL for ``path`` and refuse anything that is not 127.0.0.1."""
    url = f"http://{HOST}:{port}{path}"
    host = urllib.parse.urlsplit(url).hostname
    if host != "127.0.0.1" or not ipaddress.ip_address(host).is_loopback:
        raise RuntimeError(f"refusing to load a non-loopback target: {url}")
    return url


def server_env(first: Sequence[str] = ()) -> dict[str, str]:
    """Environment for server processes: ``first``, then the repo root and src/, importable.

    Args:
        first: paths that win over the repository's own (a baseline's src/ tree,
            so ``sluice`` comes from there while ``benchmarks.apps`` still comes
            from the repository root).
    """
    env = dict(os.environ)
    paths = [*first, str(REPO_ROOT), str(REPO_ROOT / "src")]
    if env.get("PYTHONPATH"):
        paths.append(env["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(paths)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def session_cpu_seconds(sid: int) -> float:
    """CPU time (user + system) used so far by the live processes of session ``sid``.

    A server started by :func:`running_server` leads its own session, so
    this counts it and every process it forked (granian's and nginx's
    workers), all threads included. NOTE: on a shared VM the rate a server
    reaches moves with the host's load by tens of percent within minutes;
    CPU time per request leaves out stolen time, but on one pinned,
    saturated core it is the inverse of the rate and moves with the vCPU's
    speed just as much (benchmarks/server.py keep-alive runs, 2026-12-03).
    """
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        # After "pid (comm)": state ppid pgrp session ... utime(14) stime(15).
        if int(fields[3]) == sid:
            total += int(fields[11]) + int(fields[12])
    return total / ticks


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the server's process group, then SIGKILL it if it lingers."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        pass
    # Kill the whole group regardless: workers may outlive a dead master.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=STOP_TIMEOUT_S)
    if proc in _live_servers:
        _live_servers.remove(proc)


def stop_all_servers() -> None:
    """Kill every server process group this script started and has not reaped."""
    for proc in list(_live_servers):
        stop_server(proc)


@contextlib.contextmanager
def running_server(argv: list[str], cpu: int, log_path: Path,
                   env: dict[str, str] | None = None) -> Iterator[subprocess.Popen[bytes]]:
    """Start ``argv`` pinned to ``cpu`` in its own process group; always kill it.

    ``env`` defaults to :func:`server_env`'s.
    """
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            ["taskset", "-c", str(cpu), *argv],
            cwd=REPO_ROOT, env=server_env() if env is None else env, stdin=subprocess.DEVNULL,
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
    _live_servers.append(proc)
    try:
        yield proc
    finally:
        stop_server(proc)


def wait_until_ready(proc: subprocess.Popen[bytes], port: int, timeout: float,
                     path: str = "/", expected_body: bytes = EXPECTED_BODY) -> str | None:
    """Poll until ``GET path`` answers 200 with ``expected_body``; return an error or None."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return f"exited with status {proc.returncode} before answering"
        conn = http.client.HTTPConnection(HOST, port, timeout=1.0)
        try:
            conn.request("GET", path)
            resp = conn.getresponse()
            body = resp.read()
            if resp.status == 200 and body == expected_body:
                return None
            last = f"answered {resp.status} {body[:60]!r}"
        except (OSError, http.client.HTTPException) as exc:
            last = f"{type(exc).__name__}: {exc}"
        finally:
            conn.close()
        time.sleep(0.1)
    return f"not ready after {timeout:.0f}s ({last})"


def log_tail(path: Path, lines: int = 8) -> str:
    """Last few lines of a server log, indented for stderr."""
    try:
        text = path.read_text(errors="replace").rstrip().splitlines()[-lines:]
    except OSError:
        return ""
    return "\n".join(f"      | {line}" for line in text)


# --------------------------------------------------------------------------- #
# RSS sampling
# --------------------------------------------------------------------------- #


def _group_pids(pgid: int) -> list[int]:
    """PIDs whose process group is ``pgid`` (the server and all its children)."""
    pids: list[int] = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue
        # Fields after the parenthesised command: state ppid pgrp ...
        rest = stat[stat.rfind(b")") + 2:].split()
        if len(rest) > 2 and int(rest[2]) == pgid:
            pids.append(int(entry.name))
    return pids


def _vmrss_kib(pid: int) -> int:
    """VmRSS of one process in KiB (0 if it is gone or a zombie)."""
    try:
        with open(f"/proc/{pid}/status", "rb") as fh:
            for line in fh:
                if line.startswith(b"VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class RssSampler:
    """Background thread recording the peak summed VmRSS of a process group."""

    def __init__(self, pgid: int, interval: float = RSS_SAMPLE_INTERVAL_S) -> None:
        """Prepare to sample process group ``pgid`` every ``interval`` seconds."""
        self.pgid = pgid
        self.interval = interval
        self.peak_kib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> None:
        """Take one sample and keep the maximum."""
        total = sum(_vmrss_kib(pid) for pid in _group_pids(self.pgid))
        self.peak_kib = max(self.peak_kib, total)

    def _run(self) -> None:
        """Sample until stopped."""
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self.interval)

    def __enter__(self) -> RssSampler:
        """Start sampling."""
        self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        """Stop sampling and take a final sample."""
        self._stop.set()
        self._thread.join(timeout=5)
        self._sample()

    @property
    def peak_mib(self) -> float:
        """Peak summed VmRSS in MiB."""
        return self.peak_kib / 1024


# --------------------------------------------------------------------------- #
# wrk
# --------------------------------------------------------------------------- #

_UNIT_MS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}
_VALUE_RE = r"([\d.]+)(us|ms|s|m|h)"


def wrk_command(scenario: Scenario, url: str, duration_s: int, cpu: int) -> list[str]:
    """The pinned wrk command line for one scenario."""
    cmd = ["taskset", "-c", str(cpu), "wrk", "-t1", f"-c{scenario.connections}",
           f"-d{duration_s}s", "--timeout", WRK_TIMEOUT, "--latency",
           *scenario.extra_args, url]
    if "-s" in scenario.extra_args:
        cmd += ["--", str(PIPELINE_DEPTH)]
    return cmd


def _latency_ms(text: str, pct: str) -> float | None:
    """Read one percentile line from wrk's latency distribution (None if zero)."""
    match = re.search(rf"^\s*{re.escape(pct)}%\s+{_VALUE_RE}\s*$", text, re.M)
    if not match:
        raise ValueError(f"no {pct}% line in wrk output")
    value = float(match.group(1)) * _UNIT_MS[match.group(2)]
    # A real request never takes 0 us; wrk prints 0 when its histogram is broken.
    return value if value > 0 else None


def parse_wrk(text: str, latency_valid: bool = True) -> WrkResult:
    """Extract throughput, p50/p99 latency and error counts from wrk output."""
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", text, re.M)
    total = re.search(r"^\s*(\d+) requests in ", text, re.M)
    if not rps or not total:
        raise ValueError("no Requests/sec line in wrk output")
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    status = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    return WrkResult(
        requests_per_s=float(rps.group(1)),
        p50_ms=_latency_ms(text, "50") if latency_valid else None,
        p99_ms=_latency_ms(text, "99") if latency_valid else None,
        requests=int(total.group(1)),
        non_2xx_3xx=int(status.group(1)) if status else 0,
        socket_errors=sum(int(g) for g in sock.groups()) if sock else 0,
    )


def run_wrk(cmd: list[str], duration_s: float) -> str:
    """Run wrk with a hard wall-clock bound and return its stdout."""
    done = subprocess.run(cmd, capture_output=True, text=True,
                          timeout=duration_s + WRK_GRACE_S, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"wrk exited {done.returncode}: {done.stderr.strip()[:200]}")
    return done.stdout


# --------------------------------------------------------------------------- #
# Measurement
# --------------------------------------------------------------------------- #


def measure(spec: ServerSpec, scenario: Scenario, args: argparse.Namespace,
            workdir: Path, round_no: int) -> RunResult:
    """Start a fresh server, verify, warm up, load it once and stop it."""
    port = free_port()
    url = loopback_url(port, spec.path)
    log_path = workdir / f"{spec.name}-{scenario.name}-r{round_no}.log"
    argv = spec.argv(port, args.threads, spec.target)
    with running_server(argv, args.server_cpu, log_path, server_env(spec.pythonpath)) as proc:
        problem = wait_until_ready(proc, port, STARTUP_TIMEOUT_S, spec.path, spec.expected_body)
        if problem:
            return RunResult(None, None, f"failed to start: {problem}\n{log_tail(log_path)}")
        with RssSampler(proc.pid) as sampler:
            try:
                run_wrk(wrk_command(scenario, url, WARMUP_S, args.wrk_cpu), WARMUP_S)
            except (RuntimeError, subprocess.TimeoutExpired) as exc:
                return RunResult(None, sampler.peak_mib, f"load failed: {exc}")
            return load_once(proc, scenario, url, args, sampler, log_path)


def load_once(proc: subprocess.Popen[bytes], scenario: Scenario, url: str, args: argparse.Namespace,
              sampler: RssSampler, log_path: Path) -> RunResult:
    """One measured wrk run of ``args.duration`` seconds against a running, warmed-up server."""
    try:
        cpu_before = session_cpu_seconds(proc.pid)
        out = run_wrk(wrk_command(scenario, url, args.duration, args.wrk_cpu), args.duration)
        cpu_s = session_cpu_seconds(proc.pid) - cpu_before
        result = parse_wrk(out, scenario.latency_valid)
    except (RuntimeError, ValueError, subprocess.TimeoutExpired) as exc:
        return RunResult(None, sampler.peak_mib, f"load failed: {exc}")
    if proc.poll() is not None:
        return RunResult(None, sampler.peak_mib, f"server died during the run\n{log_tail(log_path)}")
    if result.requests == 0:
        return RunResult(None, sampler.peak_mib, "no requests completed")
    return RunResult(result, sampler.peak_mib, cpu_us_per_req=cpu_s / result.requests * 1e6)


def measure_together(specs: Sequence[ServerSpec], scenario: Scenario, args: argparse.Namespace,
                     workdir: Path, round_no: int) -> dict[str, list[RunResult]]:
    """Start every server at once, then load them in turn, ``args.slices`` runs each (``--slices``).

    All servers are pinned to the server core, each on its own port; one is
    loaded while the others idle. Slice i loads them in order, slice i+1 in
    reverse order (A B, B A, A B, ...), so the servers' runs of one slice are
    back to back, seconds apart: a change of the host's speed between
    rounds, or across a slice, falls on both alike (NOTE: on this shared VM
    a server's rate moves by tens of percent between runs a few seconds
    apart, which per-round cells ten seconds apart cannot separate from a
    change of a few percent).

    Returns:
        Each server's results, one per slice, in slice order.
    """
    results: dict[str, list[RunResult]] = {spec.name: [] for spec in specs}
    with contextlib.ExitStack() as stack:
        live = []
        for spec in specs:
            port = free_port()
            log_path = workdir / f"{spec.name}-{scenario.name}-r{round_no}.log"
            argv = spec.argv(port, args.threads, spec.target)
            proc = stack.enter_context(
                running_server(argv, args.server_cpu, log_path, server_env(spec.pythonpath)))
            live.append((spec, proc, loopback_url(port, spec.path), log_path, port))
        for spec, proc, url, log_path, port in live:
            problem = wait_until_ready(proc, port, STARTUP_TIMEOUT_S, spec.path, spec.expected_body)
            if problem:
                failed = RunResult(None, None, f"failed to start: {problem}\n{log_tail(log_path)}")
                return {name: [failed] * args.slices for name in results}
        samplers = {spec.name: stack.enter_context(RssSampler(proc.pid)) for spec, proc, *_ in live}
        for spec, proc, url, log_path, port in live:
            try:
                run_wrk(wrk_command(scenario, url, WARMUP_S, args.wrk_cpu), WARMUP_S)
            except (RuntimeError, subprocess.TimeoutExpired) as exc:
                failed = RunResult(None, None, f"{spec.name}: warm-up failed: {exc}")
                return {name: [failed] * args.slices for name in results}
        for slice_no in range(args.slices):
            for spec, proc, url, log_path, port in (live if slice_no % 2 == 0 else live[::-1]):
                results[spec.name].append(
                    load_once(proc, scenario, url, args, samplers[spec.name], log_path))
    return results


def run_all(servers: Sequence[ServerSpec], scenarios: Sequence[Scenario],
            args: argparse.Namespace) -> dict[tuple[str, str], CellSummary]:
    """Interleaved rounds: each round runs every server on every scenario."""
    cells = {(s.name, sc.name): CellSummary() for s in servers for sc in scenarios}
    total = args.rounds * len(servers) * len(scenarios)
    step = 0
    with tempfile.TemporaryDirectory(prefix="sluice-bench-") as tmp:
        for round_no in range(1, args.rounds + 1):
            # Rotate the order each round so that no server always runs first.
            shift = (round_no - 1) % len(servers)
            ordered = [*servers[shift:], *servers[:shift]]
            for scenario in scenarios:
                if args.slices > 1:
                    step += len(ordered)
                    print(f"[{step}/{total}] round {round_no}: {', '.join(s.name for s in ordered)} "
                          f"/ {scenario.name}, {args.slices} slices ...", file=sys.stderr, flush=True)
                    together = measure_together(ordered, scenario, args, Path(tmp), round_no)
                    for spec in ordered:
                        cells[(spec.name, scenario.name)].runs.extend(together[spec.name])
                        rates = " ".join(f"{r.wrk.requests_per_s / 1000:.1f}k" if r.wrk else "failed"
                                         for r in together[spec.name])
                        print(f"    {spec.name}: {rates}", file=sys.stderr, flush=True)
                    continue
                for spec in ordered:
                    step += 1
                    print(f"[{step}/{total}] round {round_no}: {spec.name} / {scenario.name} ...",
                          end=" ", file=sys.stderr, flush=True)
                    run = measure(spec, scenario, args, Path(tmp), round_no)
                    cells[(spec.name, scenario.name)].runs.append(run)
                    if run.wrk:
                        print(f"{run.wrk.requests_per_s:,.0f} req/s, "
                              f"{run.cpu_us_per_req or 0:.1f} CPU µs/req, "
                              f"p99 {_fmt_ms(run.wrk.p99_ms)} ms, "
                              f"peak {run.peak_rss_mib or 0:.1f} MiB",
                              file=sys.stderr, flush=True)
                    else:
                        print(f"FAILED: {run.error}", file=sys.stderr, flush=True)
    return cells


# --------------------------------------------------------------------------- #
# Reporting
# --------------------------------------------------------------------------- #


def _fmt_ms(value: float | None) -> str:
    """Milliseconds with sensible precision, or n/a."""
    if value is None:
        return "n/a"
    return f"{value:.2f}" if value < 100 else f"{value:.0f}"


def _median_or_none(values: Sequence[float | None]) -> float | None:
    """Median of the values that exist."""
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


CELL_HEADER = "req/s | p50 ms | p99 ms | errors | peak RSS MiB | CPU µs/req"
CELL_ALIGN = "---:|---:|---:|---|---:|---:"


def cell_columns(cell: CellSummary, rounds: int) -> str:
    """One cell's medians as the Markdown columns under ``CELL_HEADER``."""
    ok = cell.ok_runs()
    if not ok:
        return f"failed | – | – | {len(cell.runs)}/{rounds} rounds failed | – | –"
    wrks = [r.wrk for r in ok if r.wrk]
    status = sum(w.non_2xx_3xx for w in wrks)
    sock = sum(w.socket_errors for w in wrks)
    errors = f"{status} status / {sock} socket"
    if len(ok) < len(cell.runs):
        errors += f"; {len(cell.runs) - len(ok)}/{rounds} rounds failed"
    rss = [r.peak_rss_mib for r in ok if r.peak_rss_mib is not None]
    rss_text = f"{statistics.median(rss):.1f}" if rss else "–"
    cpu = _median_or_none([r.cpu_us_per_req for r in ok])
    cpu_text = f"{cpu:.1f}" if cpu is not None else "–"
    return (f"{statistics.median(w.requests_per_s for w in wrks):,.0f} "
            f"| {_fmt_ms(_median_or_none([w.p50_ms for w in wrks]))} "
            f"| {_fmt_ms(_median_or_none([w.p99_ms for w in wrks]))} "
            f"| {errors} | {rss_text} | {cpu_text}")


def markdown_table(servers: Sequence[ServerSpec], scenarios: Sequence[Scenario],
                   cells: dict[tuple[str, str], CellSummary], rounds: int) -> str:
    """Render the medians as a Markdown table."""
    rows = [f"| Scenario | Server | {CELL_HEADER} |", f"|---|---|{CELL_ALIGN}|"]
    for scenario in scenarios:
        for spec in servers:
            cell = cells[(spec.name, scenario.name)]
            rows.append(f"| {scenario.label} | {spec.label} | {cell_columns(cell, rounds)} |")
    return "\n".join(rows)


def ratio_lines(servers: Sequence[ServerSpec],
                cells: dict[tuple[str, str], CellSummary]) -> list[str]:
    """sluice's keep-alive c16 throughput relative to each peer."""
    if (("sluice", RATIO_SCENARIO)) not in cells:
        return []
    ours = cells[("sluice", RATIO_SCENARIO)].median_rps()
    lines = []
    for spec in servers:
        if (spec.name == "sluice" or spec.revision is not None
                or (spec.name, RATIO_SCENARIO) not in cells):
            continue
        theirs = cells[(spec.name, RATIO_SCENARIO)].median_rps()
        if ours is None or theirs is None or theirs == 0:
            value = "n/a (a server failed)"
        else:
            value = f"{ours / theirs:.2f}×"
        lines.append(f"- sluice / {spec.label}: {value}")
    return lines


def round_ratios(numerators: Sequence[float | None],
                 denominators: Sequence[float | None]) -> list[float | None]:
    """Each round's ``numerator / denominator``, None where either side failed."""
    return [n / d if n is not None and d else None
            for n, d in zip(numerators, denominators, strict=True)]


def _fmt_ratios(ratios: Sequence[float | None]) -> tuple[str, str]:
    """Per-round ratios as text (– for a failed round) and their median (n/a if none)."""
    rounds = " ".join("–" if r is None else f"{r:.2f}" for r in ratios)
    median = _median_or_none(ratios)
    return rounds, "n/a" if median is None else f"{median:.2f}×"


def baseline_lines(servers: Sequence[ServerSpec], scenarios: Sequence[Scenario],
                   cells: dict[tuple[str, str], CellSummary]) -> list[str]:
    """The working tree's sluice against each baseline revision, ratios taken per round.

    Returns:
        A Markdown table (scenario × baseline), or no lines without baselines.
    """
    baselines = [s for s in servers if s.revision is not None]
    if not baselines or not any(s.name == "sluice" for s in servers):
        return []
    rows = ["| Scenario | Baseline | req/s current/baseline, per round | median "
            "| CPU µs/req current/baseline, per round | median |",
            "|---|---|---|---:|---|---:|"]
    for scenario in scenarios:
        ours = cells[("sluice", scenario.name)]
        for spec in baselines:
            theirs = cells[(spec.name, scenario.name)]
            rps, rps_median = _fmt_ratios(round_ratios(ours.rps_by_round(),
                                                       theirs.rps_by_round()))
            cpu, cpu_median = _fmt_ratios(round_ratios(ours.cpu_by_round(),
                                                       theirs.cpu_by_round()))
            rows.append(f"| {scenario.label} | {spec.name} | {rps} | {rps_median} "
                        f"| {cpu} | {cpu_median} |")
    return ["", "Current tree (`sluice`) against each baseline revision: ratios taken "
            "inside each round or `--slices` slice (the two runs of a scenario back to back), then "
            "their median. req/s above 1 means the current tree is faster; CPU µs/req below 1 "
            "means it spends less CPU per request.", "", *rows]


def access_log_lines(servers: Sequence[ServerSpec], scenarios: Sequence[Scenario],
                     cells: dict[tuple[str, str], CellSummary], slices: int = 1) -> list[str]:
    """``sluice serve`` defaults (access log on) against ``sluice`` (log off), ratios taken per round (or slice).

    Returns:
        A Markdown table (one row per scenario), or no lines unless both ran.
    """
    names = {s.name for s in servers}
    if not {"sluice", "sluice-log"} <= names:
        return []
    per = "per slice" if slices > 1 else "per round"
    rows = [f"| Scenario | req/s log on / off, {per} | median "
            f"| CPU µs/req log off / on, {per} | median |",
            "|---|---|---:|---|---:|"]
    for scenario in scenarios:
        off, on = cells[("sluice", scenario.name)], cells[("sluice-log", scenario.name)]
        rps, rps_median = _fmt_ratios(round_ratios(on.rps_by_round(), off.rps_by_round()))
        cpu, cpu_median = _fmt_ratios(round_ratios(off.cpu_by_round(), on.cpu_by_round()))
        rows.append(f"| {scenario.label} | {rps} | {rps_median} | {cpu} | {cpu_median} |")
    where = ("slice (the two servers' runs back to back, in alternating order)" if slices > 1
             else "round (the two cells ran back to back)")
    return ["", f"The access log's cost (`sluice-log` against `sluice`): ratios taken inside each "
            f"{where}, then their median; 1 means the log costs nothing.",
            "", *rows]


def connection_scaling_lines(servers: Sequence[ServerSpec], scenarios: Sequence[Scenario],
                             cells: dict[tuple[str, str], CellSummary]) -> list[str]:
    """Each sluice tree's keep-alive c256 / c16 req/s, ratios taken per round."""
    names = {s.name for s in scenarios}
    if not {"keepalive-c16", "keepalive-c256"} <= names:
        return []
    lines = []
    for spec in servers:
        if spec.name != "sluice" and spec.revision is None:
            continue
        rounds, median = _fmt_ratios(round_ratios(
            cells[(spec.name, "keepalive-c256")].rps_by_round(),
            cells[(spec.name, "keepalive-c16")].rps_by_round()))
        lines.append(f"- {spec.name}: {rounds} (median {median})")
    return ["", "Keep-alive with 256 connections relative to 16 (req/s c256 / c16 per round, "
            "then the median):", "", *lines]


def _dist_version(dist: str) -> str:
    """Installed version of a distribution, or '?'."""
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "?"


def _wrk_version() -> str:
    """First line of ``wrk -v``."""
    done = subprocess.run(["wrk", "-v"], capture_output=True, text=True, timeout=10, check=False)
    first = (done.stdout or done.stderr).strip().splitlines()
    return first[0].split(" [")[0] if first else "wrk ?"


def load_average() -> float:
    """1-minute load average (a busy machine makes the numbers noisy)."""
    try:
        return float(Path("/proc/loadavg").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return float("nan")


def _cpu_model() -> str:
    """CPU model name from /proc/cpuinfo."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def run_notes(command: str, dists: Sequence[str], loads: tuple[float, float]) -> list[str]:
    """The report's first bullets: date, command, machine and versions of ``dists`` and wrk."""
    versions = ", ".join(f"{d} {_dist_version(d)}" for d in dict.fromkeys(dists))
    return [
        f"- Date: {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC",
        f"- Command: `{command}`",
        f"- Machine: nproc={os.cpu_count()}, {_cpu_model()}, "
        f"Python {platform.python_version()} ({platform.python_implementation()}), "
        f"{platform.system()} {platform.release()}; 1-min load average "
        f"{loads[0]:.2f} before, {loads[1]:.2f} after the run",
        f"- Versions: {versions}, {_wrk_version()}",
    ]


def report(servers: Sequence[ServerSpec], scenarios: Sequence[Scenario],
           cells: dict[tuple[str, str], CellSummary], args: argparse.Namespace,
           command: str, loads: tuple[float, float], sources: dict[str, str]) -> str:
    """The full Markdown report: setup notes, table, ratios.

    Args:
        sources: per sluice spec, the description of the tree it ran and the
            ``sluice/__init__.py`` it imported (see :func:`sluice_source`).
    """
    names = {s.name for s in servers}
    # CPU seconds per wall second of the measured run: near 1 when the server saturates its core.
    busy_fractions = [r.cpu_us_per_req * r.wrk.requests_per_s / 1e6
                      for cell in cells.values() for r in cell.ok_runs()
                      if r.wrk and r.cpu_us_per_req is not None]
    busy = (f"{min(busy_fractions):.2f}–{max(busy_fractions):.2f}"
            if busy_fractions else "n/a")
    lines = [
        "## WSGI servers: hello world (`benchmarks/server.py`)",
        "",
        *run_notes(command, [s.dist for s in servers], loads),
        f"- Setup: app `{APP_TARGET}`; each server has one worker process pinned with "
        f"`taskset -c {args.server_cpu}`, listening on {HOST}; load from "
        f"`taskset -c {args.wrk_cpu} wrk -t1 -d{args.duration}s --timeout {WRK_TIMEOUT} "
        f"--latency`. Fresh server per cell, checked for `200 Hello, World!`, "
        f"{WARMUP_S}s warm-up with the same load."
        + (f" With `--slices {args.slices}`, the servers of a scenario run at once (one loaded, "
           f"the others idle) and each round loads them in turn {args.slices} times, order "
           "reversed every slice (A B, B A, ...); a cell's figures are over all slices."
           if args.slices > 1 else ""),
        *([f"- Waitress runs with `--connection-limit={WAITRESS_CONNECTION_LIMIT}` "
           "(its default of 100 would refuse part of the 256-connection load)."]
          if "waitress" in names else []),
        *(["- granian uses its default blocking-thread count for WSGI."]
          if "granian" in names else []),
        f"- Figures are medians of {args.rounds} interleaved round(s); errors are summed over "
        "rounds (status = wrk's non-2xx/3xx count, socket = connect+read+write+timeout). "
        "Peak RSS is the largest sum of VmRSS over the server's process group, "
        f"sampled every {RSS_SAMPLE_INTERVAL_S * 1000:.0f} ms (shared pages of forked "
        "workers are counted once per process).",
        *(["- gunicorn's sync worker does not do keep-alive: it closes the connection after "
           "every response, so its keep-alive and pipelined rows are really per-connection."]
          if "gunicorn-sync" in names else []),
        f"- Pipelined: `pipeline.lua` sends {PIPELINE_DEPTH} requests per write and req/s "
        "counts every response. Latency is n/a there: wrk 4.1's percentiles are wrong "
        "with pipelining (it records one sample per batch but derives its coordinated-"
        "omission correction from the per-response rate; wg/wrk#236).",
        "- CPU µs/req: the server's CPU time (user + system, every process and thread of "
        "its session, from /proc) over the measured wrk run, divided by the requests wrk "
        f"completed. The server's core was busy {busy} of a measured run (CPU seconds per "
        "second); where that is near 1, CPU µs/req is close to 1e6 / req/s: it leaves out "
        "stolen time but moves with the vCPU's speed (the host's load) as much as the rate "
        "does.",
        *(f"- `{name}` ran {text}" for name, text in sources.items()),
        "",
        markdown_table(servers, scenarios, cells, args.rounds),
        *baseline_lines(servers, scenarios, cells),
        *access_log_lines(servers, scenarios, cells, args.slices),
        *connection_scaling_lines(servers, scenarios, cells),
    ]
    ratios = ratio_lines(servers, cells)
    if ratios:
        lines += ["", f"sluice throughput relative to peers ({RATIO_SCENARIO}, "
                  "median req/s ratio; >1 means sluice is faster):", "", *ratios]
    return "\n".join(lines)


def write_section(body: str, path: Path = RESULTS_FILE, owner: str = "server.py") -> None:
    """Replace (or append) ``owner``'s marked section in RESULTS.md.

    Each benchmark script keeps its table between ``<!-- OWNER:begin -->``
    and ``<!-- OWNER:end -->``, so scripts never overwrite each other.
    """
    begin, end_marker = f"<!-- {owner}:begin -->", f"<!-- {owner}:end -->"
    section = f"{begin}\n{body}\n{end_marker}"
    text = path.read_text() if path.exists() else "# Benchmark results\n"
    start, end = text.find(begin), text.find(end_marker)
    if start != -1 and end > start:
        text = text[:start] + section + text[end + len(end_marker):]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    path.write_text(text)


# --------------------------------------------------------------------------- #
# CLI
# --------------------------------------------------------------------------- #


def _duration(value: str) -> int:
    """Parse ``10`` or ``10s`` into whole seconds (1..3600)."""
    seconds = int(value[:-1] if value.endswith("s") else value)
    if not 1 <= seconds <= 3600:
        raise argparse.ArgumentTypeError("duration must be 1..3600 seconds")
    return seconds


def _int_between(low: int, high: int) -> Callable[[str], int]:
    """argparse type accepting integers in ``low..high``."""
    def parse(value: str) -> int:
        """Parse and range-check one integer."""
        number = int(value)
        if not low <= number <= high:
            raise argparse.ArgumentTypeError(f"must be {low}..{high}")
        return number
    return parse


def _names(value: str) -> list[str]:
    """Split a comma-separated filter."""
    return [part.strip() for part in value.split(",") if part.strip()]


def _select(kind: str, wanted: list[str] | None, available: list[str]) -> list[str]:
    """Validate a filter against the known names, keeping the canonical order."""
    if not wanted:
        return available
    unknown = sorted(set(wanted) - set(available))
    if unknown:
        raise SystemExit(f"unknown {kind}: {', '.join(unknown)} (known: {', '.join(available)})")
    return [name for name in available if name in wanted]


def run_parser(doc: str | None) -> argparse.ArgumentParser:
    """A parser with the run options every wrk benchmark takes: --duration and --rounds."""
    parser = argparse.ArgumentParser(description=(doc or "").splitlines()[0])
    parser.add_argument("--duration", type=_duration, default=10,
                        help="seconds per measured wrk run (default 10)")
    parser.add_argument("--rounds", type=_int_between(1, MAX_ROUNDS), default=3,
                        metavar="N", help="interleaved rounds; medians are reported (default 3)")
    return parser


def add_placement_arguments(parser: argparse.ArgumentParser) -> None:
    """Add --server-cpu, --wrk-cpu and --write (the options that close every wrk benchmark's list)."""
    parser.add_argument("--server-cpu", type=int, default=0, help="core for servers (default 0)")
    parser.add_argument("--wrk-cpu", type=int, default=1, help="core for wrk (default 1)")
    parser.add_argument("--write", action="store_true",
                        help="replace this script's section in benchmarks/RESULTS.md")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    server_names = [s.name for s in server_specs(DEFAULT_THREADS)]
    parser = run_parser(__doc__)
    parser.add_argument("--servers", type=_names, default=None,
                        help=f"comma-separated subset of: {','.join(server_names)}")
    parser.add_argument("--scenarios", type=_names, default=None,
                        help=f"comma-separated subset of: {','.join(s.name for s in SCENARIOS)}")
    parser.add_argument("--threads", type=_int_between(1, 256), default=DEFAULT_THREADS,
                        metavar="N",
                        help="threads for gunicorn gthread and waitress (default 4); sluice runs its default")
    parser.add_argument("--slices", type=_int_between(1, MAX_ROUNDS), default=1, metavar="K",
                        help="run a scenario's servers at once and load them in turn K times per "
                             "round, order reversed each slice (default 1: a fresh server per cell); "
                             "per-round ratios become per-slice ones")
    parser.add_argument("--baseline", action="append", default=[], metavar="REV",
                        help="also run sluice on git revision REV's src/ as server sluice@REV "
                             "and report per-round ratios against the working tree "
                             "(repeatable; needs sluice among --servers)")
    add_placement_arguments(parser)
    return parser.parse_args(argv)


def check_environment(args: argparse.Namespace) -> None:
    """Fail early when tools or cores are missing."""
    for tool in ("wrk", "taskset"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} not found on PATH")
    cpus = os.sched_getaffinity(0)
    for cpu in (args.server_cpu, args.wrk_cpu):
        if cpu not in cpus:
            raise SystemExit(f"core {cpu} is not available (have {sorted(cpus)})")
    if args.server_cpu == args.wrk_cpu:
        print("warning: server and wrk share a core", file=sys.stderr)
    if not PIPELINE_SCRIPT.exists():
        raise SystemExit(f"missing {PIPELINE_SCRIPT}")


def run_guarded(servers: Sequence[ServerSpec], scenarios: Sequence[Scenario],
                args: argparse.Namespace,
                ) -> tuple[dict[tuple[str, str], CellSummary], tuple[float, float]]:
    """Run every round from wrk's core and always stop the servers.

    Returns:
        The cells, and the 1-minute load average before and after.

    Raises:
        KeyboardInterrupt, Terminated: the run was interrupted (servers are stopped).
    """
    # Keep this script's own sampling off the server's core.
    os.sched_setaffinity(0, {args.wrk_cpu})
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGHUP, _on_signal)
    load_before = load_average()
    if load_before > 1.0:
        print(f"warning: 1-min load average is {load_before:.2f}; other work on this "
              "machine will skew the results", file=sys.stderr)
    try:
        cells = run_all(servers, scenarios, args)
    finally:
        stop_all_servers()
    return cells, (load_before, load_average())


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print (and optionally store) the table."""
    args = parse_args(argv)
    check_environment(args)
    specs = {s.name: s for s in server_specs(args.threads)}
    servers = [specs[n] for n in _select("servers", args.servers, list(specs))]
    if args.baseline and specs["sluice"] not in servers:
        raise SystemExit("--baseline compares against the sluice server: add sluice to --servers")
    by_name = {s.name: s for s in SCENARIOS}
    scenarios = [by_name[n] for n in _select("scenarios", args.scenarios, list(by_name))]
    given = sys.argv[1:] if argv is None else list(argv)
    command = shlex.join(["python", "benchmarks/server.py", *given])
    with tempfile.TemporaryDirectory(prefix="sluice-baselines-") as tmp:
        for rev in dict.fromkeys(args.baseline):
            src = export_revision(rev, Path(tmp))
            servers.append(baseline_spec(specs["sluice"], rev, src))
        sources: dict[str, str] = {}
        state = tree_state() if "sluice" in {s.name for s in servers} else ""
        for spec in servers:
            if spec.revision is not None:
                commit = _git("log", "-1", "--format=%h %s", spec.revision)
                if len(commit) > 80:
                    commit = commit[:79] + "…"
                sources[spec.name] = (f"commit {commit}; imported `{sluice_source(spec)}` "
                                      "(a temporary export)")
            elif spec.name == "sluice":
                sources[spec.name] = f"the working tree, {state}; imported `{sluice_source(spec)}`"
        try:
            cells, loads = run_guarded(servers, scenarios, args)
        except (KeyboardInterrupt, Terminated):
            print("\ninterrupted; servers stopped", file=sys.stderr)
            return 130
    if "sluice" in sources and tree_state() != state:
        sources["sluice"] += f"; NOTE: src/ changed during the run (now {tree_state()})"

    text = report(servers, scenarios, cells, args, command, loads, sources)
    print(text)
    if args.write:
        write_section(text)
        print(f"\nwrote section to {RESULTS_FILE}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
