"""Health and readiness probes (--health-path, --ready-path), answered by the server without the app."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from sluice.server.listeners import bind
from tests.apps import deadline_app
from tests.client import RawClient
from tests.client import get
from tests.conftest import InProcess
from tests.live import LiveServer

pytestmark = pytest.mark.live


@pytest.fixture
def probed(in_process_worker: Callable[..., InProcess]) -> Callable[..., InProcess]:
    def factory(**kwargs: Any) -> InProcess:
        return in_process_worker(deadline_app.app, threads=2, health_path="/healthz", ready_path="/readyz", **kwargs)

    return factory


def test_probes_are_answered_by_the_server_not_the_app(live_server: Callable[..., LiveServer]) -> None:
    # The app answers "hello" for every other path: "ok" and "ready" come from the server.
    server = live_server("tests.apps.deadline_app:app", "--health-path", "/healthz", "--ready-path", "/readyz")
    with RawClient(server.host, server.port) as c:
        health = c.request(get("/healthz"))
        ready = c.request(get("/readyz"))
        other = c.request(get("/healthz/x"))
        head = c.request(b"HEAD /healthz HTTP/1.1\r\nHost: a\r\n\r\n", head_request=True)
        query = c.request(get("/readyz?verbose=1"))
    assert (health.status, health.body) == (200, b"ok\n")
    assert (ready.status, ready.body) == (200, b"ready\n")
    assert health.header("Cache-Control") == "no-store"
    assert health.header("Content-Type") == "text/plain; charset=utf-8"
    assert other.body == b"hello"  # only the exact path is a probe
    assert head.status == 200 and head.body == b"" and head.header("Content-Length") == "3"
    assert query.body == b"ready\n"  # the query does not matter


def test_a_probe_with_another_method_is_405(probed: Callable[..., Any]) -> None:
    worker, port, _ = probed()
    with RawClient("127.0.0.1", port) as c:
        response = c.request(b"POST /healthz HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi")
        assert response.status == 405
        assert response.header("Allow") == "GET, HEAD"
        # The body was received whole by the loop: the connection stays.
        assert c.request(get("/healthz")).body == b"ok\n"


def test_readiness_is_503_while_the_server_drains(probed: Callable[..., Any]) -> None:
    worker, port, thread = probed()
    with RawClient("127.0.0.1", port, timeout=5) as slow, RawClient("127.0.0.1", port, timeout=5) as prober:
        slow.send(get("/sleep?1.5"))  # in flight when the stop begins
        time.sleep(0.2)
        assert prober.request(get("/readyz")).body == b"ready\n"
        worker.stop()
        time.sleep(0.3)
        # The drain lasts while the slow request runs: the kept-alive
        # connection is still open, and its probe says so.
        response = prober.request(get("/readyz"))
        assert response.status == 503 and response.body == b"draining\n"
        assert response.header("Connection") == "close"
        assert slow.read_response().body == b"late"  # the in-flight request finished
    thread.join(5)
    assert not thread.is_alive()


def test_probe_paths_are_checked_at_startup(live_server: Callable[..., LiveServer]) -> None:
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-m", "sluice", "serve", "tests.apps.deadline_app:app", "--bind", "127.0.0.1:0", "--health-path", "healthz"],
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert out.returncode != 0
    assert "give a path such as /healthz" in out.stderr


def test_a_stop_that_begins_during_a_keepalive_response_does_not_close_that_connection(
    in_process_worker: Callable[..., InProcess],
) -> None:
    # The stop begins while the request runs, after the server promised
    # keep-alive: the client may already be sending its next request, so
    # the connection must stay until the drain ends, and that request gets
    # its answer (with Connection: close), not a close.
    holder: dict[str, Any] = {}

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        if environ["PATH_INFO"] == "/stop":
            holder["worker"].stop()
            start_response("200 OK", [("Content-Length", "7")])
            return [b"stopped"]
        answer: list[bytes] = deadline_app.app(environ, start_response)
        return answer

    worker, port, thread = in_process_worker(app, threads=2)
    holder["worker"] = worker
    with RawClient("127.0.0.1", port, timeout=5) as slow, RawClient("127.0.0.1", port, timeout=5) as client:
        slow.send(get("/sleep?1.5"))  # keeps the drain going
        time.sleep(0.2)
        first = client.request(get("/stop"))
        assert first.body == b"stopped" and first.header("Connection") is None
        time.sleep(0.2)
        second = client.request(get("/after"))
        assert second.body == b"hello" and second.header("Connection") == "close"
        assert slow.read_response().body == b"late"
    thread.join(5)
    assert not thread.is_alive()
