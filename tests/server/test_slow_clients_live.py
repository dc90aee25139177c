"""Slow clients hold no thread: 64 slow readers and 64 slow uploaders beside a normal client.

Design: one thread (:class:`SlowCrowd`) drives every slow socket, non-blocking,
on a 0.1 s tick: a reader (receive buffer 4 KiB, set before connecting) takes
``rate * elapsed`` bytes in all, an uploader has sent that many body bytes in
all, so each moves about 1 KiB per tick at 10 KiB/s. The normal client sends
sequential ``GET /hello`` requests on one keep-alive connection, one every
10 ms, and records each latency. :class:`ServerProbe` samples the server's
RSS and its threads blocked on a client socket every 0.2 s from ``/proc``.
``benchmarks/slow_clients.py`` runs the same scenario longer and imports
these helpers.
"""

from __future__ import annotations

import math
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field

import pytest

from tests.apps.slow_clients_app import MIB
from tests.apps.slow_clients_app import body_of
from tests.client import RawClient
from tests.client import get
from tests.live import LiveServer

pytestmark = pytest.mark.live

APP = "tests.apps.slow_clients_app:app"
RATE = 10 * 1024  # bytes a second, each slow client
UPLOAD_SIZE = 5 * MIB
TICK = 0.1
HELLO_INTERVAL = 0.01
# Byte k of every big body is k % 256; a slice of this at offset % 256
# is what any received piece of up to 64 KiB must equal.
_REFERENCE = bytes(range(256)) * 258
_UPLOAD_BLOCK = b"u" * 65536
# x86_64 system calls a thread sits in while it waits on a client's socket:
# read, poll, select, sendto, recvfrom, sendmsg, recvmsg, pselect6, ppoll.
# An idle pool thread waits in futex; the loop (the main thread) in epoll_wait.
_SOCKET_WAITS = frozenset({0, 7, 23, 44, 45, 46, 47, 270, 271})


@dataclass
class SlowClient:
    """One slow socket and what went through it."""

    sock: socket.socket
    uploads: bool
    moved: int = 0
    head: bytes = b""
    status: int = 0
    length: int = -1
    body: int = 0
    mismatch_at: int = -1
    error: str = ""
    done: bool = False
    closed: bool = False

    def take(self, data: bytes) -> None:
        """Account for ``data`` received by a reader: the head, then pattern-checked body bytes."""
        if self.status == 0:
            self.head += data
            if b"\r\n\r\n" not in self.head:
                return
            head, _, data = self.head.partition(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            self.status = int(lines[0].split(" ")[1])
            for line in lines[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    self.length = int(value)
        start = self.body % 256
        if self.mismatch_at < 0 and data != _REFERENCE[start : start + len(data)]:
            self.mismatch_at = self.body
        self.body += len(data)
        if self.body == self.length:
            self.done = True


class SlowCrowd:
    """Slow readers and slow uploaders at ``rate`` bytes a second each, all driven by one thread.

    Args:
        port: the server's loopback port.
        readers: clients that send ``GET reader_path`` and read at the rate.
        uploaders: clients that send ``POST /upload`` with a ``upload_size``
            Content-Length and then its body at the rate.
        rate: bytes a second for each client.
        reader_path: what the readers ask for.
        upload_size: the Content-Length the uploaders announce.
        max_seconds: the thread stops by itself after this long.
    """

    def __init__(
        self,
        port: int,
        readers: int,
        uploaders: int,
        rate: int = RATE,
        reader_path: str = "/big",
        upload_size: int = UPLOAD_SIZE,
        max_seconds: float = 60.0,
    ) -> None:
        self.port = port
        self.rate = rate
        self.max_seconds = max_seconds
        self.clients: list[SlowClient] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="slow-crowd", daemon=True)
        self._requests = [(False, get(reader_path))] * readers + [
            (
                True,
                b"POST /upload HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/octet-stream\r\n"
                + f"Content-Length: {upload_size}\r\n\r\n".encode(),
            )
        ] * uploaders
        self.upload_size = upload_size
        self.started = 0.0
        self.stopped = 0.0

    def start(self) -> None:
        """Connect every client, send its request head and start the thread."""
        for uploads, head in self._requests:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            if not uploads:
                # Before connect, so the window the server sees is small from the start.
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.settimeout(5.0)
            sock.connect(("127.0.0.1", self.port))
            sock.sendall(head)
            sock.setblocking(False)
            self.clients.append(SlowClient(sock, uploads))
        self.started = time.monotonic()
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread and close every socket."""
        self._stop.set()
        self._thread.join(10)
        self.stopped = self.stopped or time.monotonic()
        for client in self.clients:
            if not client.closed:
                client.closed = True
                client.sock.close()

    def _run(self) -> None:
        deadline = self.started + self.max_seconds
        while not self._stop.wait(TICK):
            now = time.monotonic()
            if now > deadline:
                break
            due_total = int(self.rate * (now - self.started))
            for client in self.clients:
                if not client.closed:
                    self._step(client, due_total - client.moved)
        self.stopped = time.monotonic()

    def _step(self, client: SlowClient, due: int) -> None:
        try:
            if client.uploads:
                self._step_upload(client, due)
            else:
                # A 4 KiB receive buffer gives a few KiB per call: take what
                # is due in several (bounded), so a late tick catches up.
                for _ in range(64):
                    if due <= 0:
                        break
                    data = client.sock.recv(min(due, 65536))
                    if not data:
                        self._fail(client, "closed by the server")
                        return
                    due -= len(data)
                    client.moved += len(data)
                    client.take(data)
                    if client.done:
                        client.closed = True
                        client.sock.close()
                        return
        except BlockingIOError:
            pass
        except OSError as exc:
            self._fail(client, f"{type(exc).__name__}: {exc}")

    def _step_upload(self, client: SlowClient, due: int) -> None:
        # Anything the server sends before the whole body went is an early answer.
        try:
            early = client.sock.recv(4096)
        except BlockingIOError:
            early = None
        if early is not None:
            line = early.split(b"\r\n", 1)[0].decode("latin-1")
            self._fail(client, f"answered before the body was sent: {line!r}" if early else "closed by the server")
            return
        due = min(due, self.upload_size - client.moved, len(_UPLOAD_BLOCK))
        if due > 0:
            client.moved += client.sock.send(_UPLOAD_BLOCK[:due])

    @staticmethod
    def _fail(client: SlowClient, error: str) -> None:
        client.error = f"after {client.moved} bytes: {error}"
        client.closed = True
        client.sock.close()

    def errors(self) -> list[str]:
        """Return one line per client that was cut, answered early, or got wrong bytes."""
        lines = []
        for i, client in enumerate(self.clients):
            kind = "uploader" if client.uploads else "reader"
            if client.error:
                lines.append(f"{kind} {i}: {client.error}")
            if client.mismatch_at >= 0:
                lines.append(f"{kind} {i}: wrong body byte at offset {client.mismatch_at}")
            if not client.uploads and client.status not in (0, 200):
                lines.append(f"{kind} {i}: status {client.status}")
        return lines

    def rates(self, uploads: bool) -> list[float]:
        """Return the bytes a second each reader (or uploader) moved while the crowd ran."""
        elapsed = max((self.stopped or time.monotonic()) - self.started, 1e-9)
        return [c.moved / elapsed for c in self.clients if c.uploads == uploads]


def _pids_of(pid: int) -> list[int]:
    """Return ``pid`` and its child processes (a master's workers)."""
    pids = [pid]
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                ppid = int(f.read().rsplit(b")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if ppid == pid:
            pids.append(int(entry))
    return pids


def rss_bytes(pid: int) -> int:
    """Return the summed VmRSS of ``pid`` and its children, in bytes."""
    total = 0
    for p in _pids_of(pid):
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
        except OSError:
            continue
    return total


def threads_on_sockets(pid: int) -> int:
    """Return how many non-main threads of ``pid`` and its children wait in a socket call now."""
    count = 0
    for p in _pids_of(pid):
        try:
            tids = os.listdir(f"/proc/{p}/task")
        except OSError:
            continue
        for tid in tids:
            if tid == str(p):
                continue
            try:
                with open(f"/proc/{p}/task/{tid}/syscall") as f:
                    first = f.read().split()[0]
            except (OSError, IndexError):
                continue
            if first.isdigit() and int(first) in _SOCKET_WAITS:
                count += 1
    return count


class ServerProbe:
    """Sample a server's RSS and its threads waiting on sockets every ``interval`` seconds.

    Args:
        pid: the server's process id.
        interval: seconds between samples.
        max_seconds: the sampling thread stops by itself after this long.
    """

    def __init__(self, pid: int, interval: float = 0.2, max_seconds: float = 120.0) -> None:
        self.pid = pid
        self.interval = interval
        self.max_seconds = max_seconds
        self.rss: list[int] = []
        self.held: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="server-probe", daemon=True)

    def start(self) -> None:
        """Take a first sample and start sampling."""
        self._sample()
        self._thread.start()

    def stop(self) -> None:
        """Stop sampling (after one last sample)."""
        self._stop.set()
        self._thread.join(5)
        self._sample()

    def _sample(self) -> None:
        self.rss.append(rss_bytes(self.pid))
        self.held.append(threads_on_sockets(self.pid))

    def _run(self) -> None:
        deadline = time.monotonic() + self.max_seconds
        while not self._stop.wait(self.interval) and time.monotonic() < deadline:
            self._sample()


@dataclass
class HelloRun:
    """Latencies of a normal client's sequential ``GET /hello`` requests."""

    latencies: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def percentile(self, p: float) -> float:
        """Return the nearest-rank ``p``-th percentile latency in seconds (``inf`` if none)."""
        if not self.latencies:
            return math.inf
        ordered = sorted(self.latencies)
        return ordered[max(math.ceil(p / 100 * len(ordered)) - 1, 0)]


def run_hellos(
    port: int, seconds: float, max_requests: int, min_requests: int = 0, timeout: float = 2.0
) -> HelloRun:
    """Send sequential ``GET /hello`` on a keep-alive connection, one every 10 ms, for ``seconds``.

    Stops after ``max_requests``; goes on past ``seconds`` (up to three times
    as long) until ``min_requests`` were sent. A connection that fails is
    replaced; the failure is recorded with a latency of ``timeout``.
    """
    run = HelloRun()
    started = time.monotonic()
    client: RawClient | None = None
    sent = 0
    try:
        while sent < max_requests:
            elapsed = time.monotonic() - started
            if elapsed >= seconds and (sent >= min_requests or elapsed >= 3 * seconds):
                break
            sent += 1
            began = time.monotonic()
            try:
                if client is None:
                    client = RawClient("127.0.0.1", port, timeout=timeout)
                response = client.request(get("/hello"))
            except OSError as exc:
                run.failures.append(f"{type(exc).__name__}: {exc}")
                run.latencies.append(max(time.monotonic() - began, timeout))
                if client is not None:
                    client.close()
                    client = None
                continue
            run.latencies.append(time.monotonic() - began)
            if response.status != 200 or response.body != b"hello":
                run.failures.append(f"{response.status} {response.body[:60]!r}")
            if response.header("Connection") == "close":
                client.close()
                client = None
            pause = began + HELLO_INTERVAL - time.monotonic()
            if pause > 0:
                time.sleep(pause)
    finally:
        if client is not None:
            client.close()
    return run


# Measured at 27.5 MiB peak (23.7 MiB idle) on 2026-12-03, 2 cores; 42 MiB is
# 1.5x that. NOTE: the bound holds for this test's 6 s only: the loop keeps
# each upload's first 1 MiB in memory (Buffers.request_memory) before it spills to
# a file, so 64 uploaders at 10 KiB/s add about 0.6 MiB a second until
# 1 MiB each (benchmarks/slow_clients.py measured a 92 MiB peak over 150 s).
RSS_BOUND_MIB = 42


def test_slow_readers_and_uploaders_leave_a_normal_client_p99_under_50ms(
    live_server: Callable[..., LiveServer],
) -> None:
    server = live_server(APP)
    warm = run_hellos(server.port, seconds=0.3, max_requests=20)
    assert not warm.failures
    probe = ServerProbe(server.proc.pid)
    crowd = SlowCrowd(server.port, readers=64, uploaders=64, max_seconds=30)
    probe.start()
    try:
        crowd.start()
        time.sleep(1.0)  # every reader's response is queued, every upload started
        hellos = run_hellos(server.port, seconds=5.0, max_requests=2000, min_requests=200)
    finally:
        crowd.stop()
        probe.stop()
    held = max(probe.held)
    report = (
        f"{len(hellos.latencies)} hellos, p50 {hellos.percentile(50) * 1000:.1f} ms, "
        f"p99 {hellos.percentile(99) * 1000:.1f} ms, max {max(hellos.latencies, default=0) * 1000:.1f} ms; "
        f"RSS peak {max(probe.rss) / MIB:.1f} MiB; up to {held} threads on client sockets; "
        f"server output:\n{server.output[-3000:]}"
    )
    assert not crowd.errors(), "\n".join(crowd.errors()[:10]) + "\n" + report
    assert len(hellos.latencies) >= 200, report
    assert not hellos.failures, f"{hellos.failures[:5]}\n{report}"
    assert hellos.percentile(99) < 0.050, report
    assert max(probe.rss) < RSS_BOUND_MIB * MIB, report
    # Each slow client kept its 10 KiB/s: the server took and gave at their pace.
    assert min(crowd.rates(uploads=False) + crowd.rates(uploads=True)) > 0.8 * RATE, report


@pytest.mark.parametrize("path", ["/big", "/big-list"])
def test_a_slow_reader_with_long_pauses_gets_its_whole_body(
    live_server: Callable[..., LiveServer], path: str
) -> None:
    # 3 MiB is more than the kernel holds for a 4 KiB receive buffer, so most
    # of the body waits in the server's queue through both pauses.
    size = 3 * MIB
    server = live_server(APP)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.settimeout(5.0)
    sock.connect(("127.0.0.1", server.port))
    client = RawClient.__new__(RawClient)
    client.sock = sock
    client.buf = b""
    with client:
        client.send(get(f"{path}?{size}"))
        received = bytearray()
        started = time.monotonic()
        for part in range(3):
            if part:
                time.sleep(1.2)  # takes nothing for longer than a second
            part_from = len(received)
            target = min(part_from + MIB, size + 4096)
            part_started = time.monotonic()
            while len(received) < target and time.monotonic() - started < 15:
                data = sock.recv(65536)
                if not data:
                    break
                received += data
                # About 1 MiB/s: wait until this part's pace allows the bytes taken.
                ahead = (len(received) - part_from) / MIB - (time.monotonic() - part_started)
                if ahead > 0:
                    time.sleep(ahead)
        client.buf = bytes(received)
        response = client.read_response()
    assert response.status == 200
    assert response.header("Content-Length") == str(size)
    assert response.body == body_of(size)
    assert "too slowly" not in server.output
