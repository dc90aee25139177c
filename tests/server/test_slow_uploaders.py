"""Slow uploaders hold no thread: the loop receives request bodies whole before the app runs.

A worker runs in this process on a loopback port; clients send a request
head and only part of its body, and the tests check what a client sees:
other clients are answered meanwhile, and the app gets every byte once the
body is complete. A route (or an app) may ask for its body as it arrives.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from sluice import App
from sluice import request
from sluice.server.worker import Buffers
from sluice.server.worker import Timeouts
from sluice.server.worker import Worker
from tests.client import RawClient
from tests.client import get
from tests.conftest import InProcess
from tests.server.test_slow_readers import spool_files

pytestmark = pytest.mark.live

MIB = 1024 * 1024


def upload_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    """Reads the whole body; answers its size and digest (and ``hello`` without one)."""
    body = environ["wsgi.input"].read()
    start_response("200 OK", [("Content-Type", "application/json")])
    if environ["PATH_INFO"] == "/hello":
        return [b"hello"]
    return [json.dumps({"size": len(body), "sha256": hashlib.sha256(body).hexdigest()}).encode()]


def sluice_app(**config: Any) -> App:
    app = App(__name__)
    app.config.update(config)
    app.config["MAX_CONTENT_LENGTH"] = 4 * MIB

    @app.get("/hello")
    def hello() -> str:
        return "hello"

    @app.post("/whole")
    def whole() -> dict[str, int]:
        return {"size": len(request.get_data())}

    @app.post("/live", stream_request_body=True)
    def live() -> dict[str, str]:
        # Answers from the first bytes, before the client sent the rest.
        return {"first": request.stream.read(5).decode()}

    return app


@pytest.fixture
def serve(in_process_worker: Callable[..., InProcess]) -> Callable[..., tuple[Worker, int]]:
    def factory(app: Any = upload_app, threads: int = 1, **kwargs: Any) -> tuple[Worker, int]:
        worker, port, _ = in_process_worker(app, threads=threads, **kwargs)
        return worker, port

    return factory


def post_head(path: str, length: int) -> bytes:
    return f"POST {path} HTTP/1.1\r\nHost: a\r\nContent-Length: {length}\r\n\r\n".encode()


def hello_within(port: int, limit: float = 2.0) -> None:
    started = time.monotonic()
    with RawClient("127.0.0.1", port, timeout=3) as c:
        response = c.request(get("/hello"))
    assert response.status == 200 and response.body.endswith(b"hello")
    assert time.monotonic() - started < limit


def expect_digest(response_body: bytes, body: bytes) -> None:
    assert json.loads(response_body) == {"size": len(body), "sha256": hashlib.sha256(body).hexdigest()}


@pytest.mark.parametrize("size", [10_000, 3 * MIB], ids=["small", "past-the-memory-limit"])
def test_slow_uploaders_hold_no_thread(serve: Callable[..., tuple[Worker, int]], size: int) -> None:
    # One thread, four clients that send half a body and pause: before, a
    # body over 1 MiB went to the thread at once, which then waited for it.
    worker, port = serve(threads=1)
    body = bytes(range(256)) * (size // 256)
    uploaders = [RawClient("127.0.0.1", port, timeout=5) for _ in range(4)]
    try:
        for c in uploaders:
            c.send(post_head("/upload", len(body)) + body[: len(body) // 2])
        time.sleep(0.3)
        for _ in range(3):
            hello_within(port)
        for c in uploaders:
            c.send(body[len(body) // 2 :])
            response = c.read_response()
            assert response.status == 200
            expect_digest(response.body, body)
    finally:
        for c in uploaders:
            c.close()


def test_a_chunked_upload_is_received_whole_too(serve: Callable[..., tuple[Worker, int]]) -> None:
    worker, port = serve(threads=1)
    body = b"x" * (2 * MIB)
    wire = b"".join(f"{65536:x}\r\n".encode() + body[i : i + 65536] + b"\r\n" for i in range(0, len(body), 65536))
    with RawClient("127.0.0.1", port, timeout=5) as c:
        part = len(wire) * 3 // 4  # past the 1 MiB kept in memory
        c.send(b"POST /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" + wire[:part])
        time.sleep(0.2)
        hello_within(port)
        c.send(wire[part:] + b"0\r\n\r\n")
        response = c.read_response()
    expect_digest(response.body, body)


def test_a_body_past_the_memory_limit_is_received_into_a_temporary_file(
    serve: Callable[..., tuple[Worker, int]],
) -> None:
    before = spool_files()
    worker, port = serve(buffers=Buffers(request_memory=64 * 1024))
    body = bytes(range(256)) * 1024  # 256 KiB
    with RawClient("127.0.0.1", port, timeout=5) as c:
        c.send(post_head("/upload", len(body)) + body[:200_000])
        deadline = time.monotonic() + 3
        while spool_files() == before and time.monotonic() < deadline:
            time.sleep(0.01)
        assert spool_files() >= before + 1
        c.send(body[200_000:])
        response = c.read_response()
        expect_digest(response.body, body)
        # The file is closed once the app answered; the connection stays.
        deadline = time.monotonic() + 3
        while spool_files() > before and time.monotonic() < deadline:
            time.sleep(0.01)
        assert spool_files() <= before
        assert c.request(get("/hello")).body == b"hello"


def test_a_request_with_a_body_behind_a_kept_alive_one_is_received_by_the_loop(
    serve: Callable[..., tuple[Worker, int]],
) -> None:
    # The thread that answered the first request finds the second one's
    # head already there; it hands the body back to the loop instead of
    # waiting for it.
    worker, port = serve(threads=1)
    body = b"y" * (2 * MIB)
    with RawClient("127.0.0.1", port, timeout=5) as c:
        c.send(get("/hello") + post_head("/upload", len(body)) + body[:1000])
        assert c.read_response().body == b"hello"
        time.sleep(0.2)
        hello_within(port)
        c.send(body[1000:])
        expect_digest(c.read_response().body, body)


def test_a_body_below_the_minimum_rate_gets_a_408_from_the_loop(serve: Callable[..., tuple[Worker, int]]) -> None:
    worker, port = serve(timeouts=Timeouts(body=0.5, min_recv_rate=100_000))
    with RawClient("127.0.0.1", port, timeout=5) as c:
        c.send(post_head("/upload", 3 * MIB) + b"z" * 1000)
        started = time.monotonic()
        response = c.read_response()
        assert response.status == 408
        assert time.monotonic() - started < 3
        assert c.is_closed()


def test_a_streaming_route_gets_its_body_as_it_arrives(serve: Callable[..., tuple[Worker, int]]) -> None:
    worker, port = serve(app=sluice_app())
    with RawClient("127.0.0.1", port, timeout=3) as c:
        c.send(post_head("/live", 1_000_000) + b"hello")
        response = c.read_response()  # the view ran with 5 of 1,000,000 bytes sent
        assert response.status == 200
        assert json.loads(response.body) == {"first": "hello"}


def test_other_routes_of_the_app_get_their_body_whole(serve: Callable[..., tuple[Worker, int]]) -> None:
    worker, port = serve(app=sluice_app())
    with RawClient("127.0.0.1", port, timeout=3) as c:
        c.send(post_head("/whole", 100_000) + b"a" * 50_000)
        time.sleep(0.2)
        hello_within(port)  # the only thread is free
        c.send(b"a" * 50_000)
        assert json.loads(c.read_response().body) == {"size": 100_000}


def test_stream_request_body_config_streams_every_route(serve: Callable[..., tuple[Worker, int]]) -> None:
    worker, port = serve(app=sluice_app(STREAM_REQUEST_BODY=True), threads=2)
    with RawClient("127.0.0.1", port, timeout=3) as c:
        c.send(post_head("/whole", 100_000) + b"a" * 50_000)
        time.sleep(0.2)
        assert worker._busy_count() == 1  # the view is reading the body
        c.send(b"a" * 50_000)
        assert json.loads(c.read_response().body) == {"size": 100_000}


def test_a_body_over_max_content_length_is_refused_before_it_is_sent(serve: Callable[..., tuple[Worker, int]]) -> None:
    # As with Flask: a 413 as soon as the head says the body is too large,
    # not after the server received it all.
    worker, port = serve(app=sluice_app())
    with RawClient("127.0.0.1", port, timeout=3) as c:
        c.send(post_head("/whole", 10 * MIB))
        response = c.read_response()
        assert response.status == 413
        assert b"MAX_CONTENT_LENGTH" in response.body
