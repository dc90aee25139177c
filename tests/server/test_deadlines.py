"""Per-request deadlines (--timeout): 504, the stack in the log, DeadlineExceeded in the thread, recycling."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from sluice import App
from sluice import DeadlineExceeded
from sluice.server.worker import Worker
from tests.apps import deadline_app
from tests.client import RawClient
from tests.client import get
from tests.conftest import InProcess
from tests.live import LiveServer

pytestmark = pytest.mark.live


@pytest.fixture
def serve(in_process_worker: Callable[..., InProcess]) -> Callable[..., InProcess]:
    def factory(app: Any = deadline_app.app, threads: int = 2, **kwargs: Any) -> InProcess:
        kwargs.setdefault("request_timeout", 1.0)
        return in_process_worker(app, threads=threads, **kwargs)

    return factory


def test_a_request_blocked_past_the_timeout_gets_a_504_and_its_stack_is_logged(
    serve: Callable[..., tuple[Worker, int, threading.Thread]], caplog: pytest.LogCaptureFixture
) -> None:
    worker, port, _ = serve()
    with caplog.at_level("ERROR", logger="sluice.error"):
        with RawClient("127.0.0.1", port, timeout=5) as c:
            started = time.monotonic()
            c.send(get("/sleep?4"))
            # Another client is served on the other thread meanwhile.
            with RawClient("127.0.0.1", port, timeout=3) as other:
                assert other.request(get("/hello")).body == b"hello"
            response = c.read_response()
            elapsed = time.monotonic() - started
            assert response.status == 504
            assert b"--timeout" in response.body
            assert response.header("Connection") == "close"
            # The thread's late answer never reaches the client.
            assert c.is_closed(5)
            assert b"late" not in c.buf
    assert 1.0 <= elapsed < 3.0
    assert "GET /sleep?4 from 127.0.0.1" in caplog.text
    assert "still running after" in caplog.text
    assert "answered 504" in caplog.text
    assert "time.sleep(" in caplog.text  # the thread's stack, down to the app's line
    assert "deadline_app.py" in caplog.text


def test_python_code_past_the_timeout_is_stopped_and_its_thread_freed(
    serve: Callable[..., tuple[Worker, int, threading.Thread]],
) -> None:
    deadline_app.events.clear()
    worker, port, _ = serve(threads=1)
    with RawClient("127.0.0.1", port, timeout=5) as c:
        response = c.request(get("/spin"))
    assert response.status == 504
    deadline = time.monotonic() + 3
    while not deadline_app.events and time.monotonic() < deadline:
        time.sleep(0.01)
    assert deadline_app.events == ["spin finally"]  # DeadlineExceeded ran the finally block
    # The only thread is free again.
    with RawClient("127.0.0.1", port, timeout=3) as c:
        assert c.request(get("/hello")).body == b"hello"
    assert not worker._stuck


def test_a_response_that_began_is_cut_at_the_timeout(serve: Callable[..., tuple[Worker, int, threading.Thread]]) -> None:
    worker, port, _ = serve()
    with RawClient("127.0.0.1", port, timeout=5) as c:
        c.send(get("/begun"))
        started = time.monotonic()
        received = b""
        try:
            while data := c.sock.recv(65536):
                received += data
        except ConnectionResetError:
            pass
        elapsed = time.monotonic() - started
    assert received.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"first part;" in received
    assert b"second part" not in received and b"504" not in received
    assert elapsed < 3.0  # closed at the deadline, not when the app went on


def test_teardown_of_a_sluice_app_runs_when_the_deadline_stops_a_view(
    serve: Callable[..., tuple[Worker, int, threading.Thread]],
) -> None:
    seen: list[object] = []
    app = App(__name__)

    @app.get("/spin")
    def spin() -> str:
        end = time.monotonic() + 20
        while time.monotonic() < end:
            pass
        return "never"

    @app.teardown_request
    def teardown(exc: BaseException | None) -> None:
        seen.append(type(exc))

    worker, port, _ = serve(app=app, threads=1)
    with RawClient("127.0.0.1", port, timeout=5) as c:
        assert c.request(get("/spin")).status == 504
    deadline = time.monotonic() + 3
    while not seen and time.monotonic() < deadline:
        time.sleep(0.01)
    assert seen == [DeadlineExceeded]


def test_a_thread_that_stays_stuck_makes_a_supervised_worker_stop_to_be_replaced(
    serve: Callable[..., tuple[Worker, int, threading.Thread]], caplog: pytest.LogCaptureFixture
) -> None:
    worker, port, thread = serve(request_timeout=0.5, recycle_stuck=True)
    with caplog.at_level("ERROR", logger="sluice.error"):
        with RawClient("127.0.0.1", port, timeout=5) as c:
            assert c.request(get("/sleep?30")).status == 504
        thread.join(6)
    assert not thread.is_alive()
    assert "stuck in the app" in caplog.text and "stopping gracefully to be replaced" in caplog.text


def test_an_unsupervised_worker_only_logs_a_stuck_thread(
    serve: Callable[..., tuple[Worker, int, threading.Thread]], caplog: pytest.LogCaptureFixture
) -> None:
    worker, port, thread = serve(request_timeout=0.5)
    with caplog.at_level("ERROR", logger="sluice.error"):
        with RawClient("127.0.0.1", port, timeout=5) as c:
            assert c.request(get("/sleep?4")).status == 504
        deadline = time.monotonic() + 4
        while "stuck in the app" not in caplog.text and time.monotonic() < deadline:
            time.sleep(0.05)
        assert "run with --workers" in caplog.text
        assert thread.is_alive()
        with RawClient("127.0.0.1", port, timeout=3) as c:
            assert c.request(get("/hello")).body == b"hello"


def test_sluice_serve_timeout_answers_504(live_server: Callable[..., LiveServer]) -> None:
    server = live_server("tests.apps.deadline_app:app", "--timeout", "1")
    with RawClient(server.host, server.port, timeout=5) as c:
        response = c.request(get("/sleep?3"))
    assert response.status == 504
    server.wait_for_output(r"GET /sleep\?3 from .* still running after")
    server.wait_for_output(r"time\.sleep\(")
