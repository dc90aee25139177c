"""Slow readers cost queued bytes, never a thread: the loop sends what a client has not taken.

Each test runs a worker in this process on a loopback port and talks to it
over real sockets. A "slow reader" sets a small receive buffer and reads
nothing until the test says so, so the server's socket fills at once and
the rest of its response must wait in the server.
"""

from __future__ import annotations

import os
import socket
import tempfile
import threading
import time
from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sluice.server.worker import Buffers
from sluice.server.worker import Timeouts
from sluice.server.worker import Worker
from sluice.server.wsgi import FileWrapper
from tests.client import RawClient
from tests.client import RawResponse
from tests.client import get
from tests.conftest import InProcess

pytestmark = pytest.mark.live

MIB = 1024 * 1024
PATTERN = bytes(range(256)) * 256  # 64 KiB
# Larger than a loopback socket's send buffer can grow (tcp_wmem: 4 MiB), so
# part of every such response waits in the server.
BIG = 8 * MIB


def body_of(size: int) -> bytes:
    whole, rest = divmod(size, len(PATTERN))
    return PATTERN * whole + PATTERN[:rest]


def make_app(file_path: Path) -> Callable[..., Any]:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        path = environ["PATH_INFO"]
        query = environ["QUERY_STRING"]
        size = int(query) if query.isdigit() else BIG
        if path == "/hello":
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [b"hello"]
        if path == "/list":
            start_response("200 OK", [("Content-Type", "application/octet-stream")])
            return [body_of(size)]
        if path == "/list-items":
            body = body_of(size)
            start_response("200 OK", [("Content-Type", "application/octet-stream")])
            return [body[i : i + 300_000] for i in range(0, size, 300_000)]

        def chunks() -> Iterator[bytes]:
            body = body_of(size)
            for i in range(0, size, 65536):
                yield body[i : i + 65536]

        if path == "/iter":
            start_response("200 OK", [("Content-Type", "application/octet-stream"), ("Content-Length", str(size))])
            return chunks()
        if path == "/chunked":
            start_response("200 OK", [("Content-Type", "application/octet-stream")])
            return chunks()
        if path == "/file":
            start_response("200 OK", [("Content-Type", "application/octet-stream")])
            return FileWrapper(open(file_path, "rb"))
        if path == "/stream":

            def drip() -> Iterator[bytes]:
                for piece in (b"first", b"second", b"third"):
                    yield piece
                    time.sleep(0.4)

            start_response("200 OK", [("Content-Type", "text/plain")])
            return drip()
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"no"]

    return app


class Served:
    def __init__(self, worker: Worker, port: int, thread: threading.Thread) -> None:
        self.worker = worker
        self.port = port
        self.thread = thread

    def queued(self) -> int:
        """Connections with response bytes queued in the server."""
        return sum(1 for c in list(self.worker.conns.values()) if c.outbox is not None and c.outbox.items)

    def wait_queued(self, count: int, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while self.queued() < count:
            assert time.monotonic() < deadline, f"{self.queued()} of {count} responses queued"
            time.sleep(0.01)


@pytest.fixture
def serve(tmp_path: Path, in_process_worker: Callable[..., InProcess]) -> Callable[..., Served]:
    file_path = tmp_path / "big.bin"
    file_path.write_bytes(body_of(BIG))

    def factory(threads: int = 1, timeouts: Timeouts | None = None, buffers: Buffers | None = None) -> Served:
        worker, port, thread = in_process_worker(make_app(file_path), threads=threads, timeouts=timeouts, buffers=buffers)
        return Served(worker, port, thread)

    return factory


def slow_reader(port: int, request: bytes, timeout: float = 10.0) -> RawClient:
    """A connection with a small receive buffer that sent ``request`` and reads nothing yet."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.settimeout(timeout)
    sock.connect(("127.0.0.1", port))
    client = RawClient.__new__(RawClient)
    client.sock = sock
    client.buf = b""
    client.send(request)
    return client


def spool_files() -> int:
    """Open descriptors of this process on unnamed temporary files."""
    count = 0
    tmp = os.path.realpath(tempfile.gettempdir())
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith(tmp) and target.endswith("(deleted)"):
            count += 1
    return count


def timed_hello(port: int) -> tuple[RawResponse, float]:
    started = time.monotonic()
    with RawClient("127.0.0.1", port, timeout=3) as c:
        response = c.request(get("/hello"))
    return response, time.monotonic() - started


@pytest.mark.parametrize("path", ["/list", "/list-items", "/iter", "/chunked", "/file"])
def test_slow_readers_hold_no_thread_and_get_their_whole_body(serve: Callable[..., Served], path: str) -> None:
    # One thread, four clients that take nothing: before, the first held the
    # only thread until its write timeout and nobody else was answered.
    served = serve(threads=1)
    readers = [slow_reader(served.port, get(f"{path}?{BIG}")) for _ in range(4)]
    try:
        served.wait_queued(4)
        for _ in range(5):
            response, elapsed = timed_hello(served.port)
            assert response.status == 200 and response.body == b"hello"
            assert elapsed < 2.0
        for reader in readers:
            response = reader.read_response()
            assert response.status == 200
            assert response.chunked == (path == "/chunked")
            assert response.body == body_of(BIG)
        assert served.queued() == 0
    finally:
        for reader in readers:
            reader.close()


def test_a_reader_that_pauses_past_the_grace_period_gets_the_whole_response(
    serve: Callable[..., Served], caplog: pytest.LogCaptureFixture
) -> None:
    served = serve(timeouts=Timeouts(write=0.2, min_send_rate=2000))
    with caplog.at_level("WARNING", logger="sluice.error"):
        reader = slow_reader(served.port, get(f"/iter?{BIG}"))
        with reader:
            served.wait_queued(1)
            time.sleep(1.0)  # five grace periods, taking nothing
            response = reader.read_response()
    assert response.status == 200 and response.body == body_of(BIG)
    assert "too slowly" not in caplog.text


def test_iterator_bodies_past_the_memory_limit_spool_to_a_temporary_file(serve: Callable[..., Served]) -> None:
    before = spool_files()
    served = serve(threads=1, buffers=Buffers(response_memory=64 * 1024))
    readers = [slow_reader(served.port, get(f"/iter?{BIG}")) for _ in range(3)]
    try:
        served.wait_queued(3)
        # The thread is free: every iterator was pulled to its end.
        assert timed_hello(served.port)[0].status == 200
        assert spool_files() - before >= 3
        for reader in readers:
            assert reader.read_response().body == body_of(BIG)
    finally:
        for reader in readers:
            reader.close()
    deadline = time.monotonic() + 5
    while spool_files() > before and time.monotonic() < deadline:
        time.sleep(0.02)
    assert spool_files() <= before  # closed with their connections


def test_a_list_body_is_queued_without_spooling(serve: Callable[..., Served]) -> None:
    before = spool_files()
    served = serve(threads=1, buffers=Buffers(response_memory=64 * 1024))
    with slow_reader(served.port, get(f"/list?{BIG}")) as reader:
        served.wait_queued(1)
        assert spool_files() <= before  # the app's own bytes, kept as they are
        assert reader.read_response().body == body_of(BIG)


def test_a_full_spool_makes_the_thread_wait_and_the_response_still_arrives_whole(
    serve: Callable[..., Served],
) -> None:
    served = serve(threads=1, buffers=Buffers(response_memory=16 * 1024, response_spool=64 * 1024))
    with slow_reader(served.port, get(f"/iter?{BIG}")) as reader:
        served.wait_queued(1)
        time.sleep(0.3)
        assert served.worker._busy_count() == 1  # the producer waits for room
        response = reader.read_response()
    assert response.body == body_of(BIG)


def test_a_reader_below_the_rate_is_cut_and_frees_a_waiting_thread(
    serve: Callable[..., Served], caplog: pytest.LogCaptureFixture
) -> None:
    served = serve(
        threads=1,
        timeouts=Timeouts(write=0.3, min_send_rate=100_000),
        buffers=Buffers(response_memory=16 * 1024, response_spool=64 * 1024),
    )
    with caplog.at_level("WARNING", logger="sluice.error"):
        reader = slow_reader(served.port, get(f"/iter?{8 * MIB}"))
        with reader:
            served.wait_queued(1)
            deadline = time.monotonic() + 5
            while "took the response too slowly" not in caplog.text and time.monotonic() < deadline:
                time.sleep(0.05)
            assert "took the response too slowly" in caplog.text
            response, elapsed = timed_hello(served.port)
            assert response.status == 200 and elapsed < 2.0
            # The cut is a reset: the reader never gets the whole body.
            got = 0
            try:
                while data := reader.sock.recv(65536):
                    got += len(data)
            except ConnectionResetError:
                pass
            assert got < 8 * MIB


def test_a_request_pipelined_behind_a_queued_response_is_answered_after_it(serve: Callable[..., Served]) -> None:
    served = serve(threads=1)
    with slow_reader(served.port, get(f"/iter?{BIG}") + get("/hello") + get(f"/list?{MIB}")) as reader:
        served.wait_queued(1)
        assert timed_hello(served.port)[0].status == 200
        first = reader.read_response()
        second = reader.read_response()
        third = reader.read_response()
    assert first.body == body_of(BIG)
    assert second.body == b"hello"
    assert third.body == body_of(MIB)


def test_a_queued_response_with_connection_close_ends_with_the_close(serve: Callable[..., Served]) -> None:
    served = serve(threads=1)
    request = f"GET /chunked?{BIG} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n".encode()
    with slow_reader(served.port, request) as reader:
        served.wait_queued(1)
        response = reader.read_response()
        assert response.header("Connection") == "close"
        assert response.body == body_of(BIG)
        assert reader.sock.recv(1) == b""  # closed after the last byte


def test_a_streamed_response_still_streams(serve: Callable[..., Served]) -> None:
    served = serve(threads=1)
    with RawClient("127.0.0.1", served.port) as c:
        started = time.monotonic()
        c.send(get("/stream"))
        while b"first" not in c.buf:
            assert c._fill()
        first_at = time.monotonic() - started
        response = c.read_response()
        total = time.monotonic() - started
    assert response.body == b"firstsecondthird"
    assert first_at < 0.35 < 0.8 < total


def test_a_reader_that_goes_away_while_queued_leaves_nothing_behind(serve: Callable[..., Served]) -> None:
    before = spool_files()
    served = serve(threads=1, buffers=Buffers(response_memory=64 * 1024))
    readers = [slow_reader(served.port, get(f"/iter?{BIG}")) for _ in range(3)]
    served.wait_queued(3)
    for reader in readers:
        reader.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")
        reader.close()  # a reset
    deadline = time.monotonic() + 5
    while (served.worker.conns or spool_files() > before) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not served.worker.conns
    assert spool_files() <= before
    assert timed_hello(served.port)[0].status == 200


def test_a_graceful_stop_sends_queued_responses_before_it_ends(serve: Callable[..., Served]) -> None:
    served = serve(threads=1)
    with slow_reader(served.port, get(f"/iter?{BIG}")) as reader:
        served.wait_queued(1)
        served.worker.stop()
        time.sleep(0.3)
        assert served.thread.is_alive()  # still sending
        response = reader.read_response()
        assert response.body == body_of(BIG)
        assert response.header("Connection") is None  # its head went out before the stop
    served.thread.join(5)
    assert not served.thread.is_alive()
