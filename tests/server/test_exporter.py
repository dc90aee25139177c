"""The master's metrics endpoint driven from the test's thread: a selector loop, loopback clients, bounded waits."""

from __future__ import annotations

import selectors
import socket
import time
from collections.abc import Iterator

import pytest

from sluice.errors import ConfigError
from sluice.server import exporter
from sluice.server.exporter import MetricsServer

BODY = b"# HELP x y\n# TYPE x counter\nx_total 1.0\n"


class Endpoint:
    """A MetricsServer on 127.0.0.1:0 and the selector loop the master would run."""

    def __init__(self, body: bytes = BODY) -> None:
        self.selector = selectors.DefaultSelector()
        self.renders = 0
        self.body = body
        self.server = MetricsServer("127.0.0.1:0", self.selector, self.render)
        self.port = self.server.listener.getsockname()[1]

    def render(self) -> bytes:
        self.renders += 1
        return self.body

    def turn(self, timeout: float = 0.05) -> None:
        for key, events in self.selector.select(timeout):
            key.data(key.fd, events)
        self.server.expire(time.monotonic())

    def connect(self) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=5.0)
        self.turn()
        return sock

    def exchange(self, request: bytes, seconds: float = 5.0) -> bytes:
        """Send ``request`` on a new connection and read until the endpoint closes it."""
        with self.connect() as sock:
            sock.sendall(request)
            return self.read_to_eof(sock, seconds)

    def read_to_eof(self, sock: socket.socket, seconds: float = 5.0) -> bytes:
        sock.setblocking(False)
        data = b""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.turn(0.01)
            try:
                chunk = sock.recv(65536)
            except BlockingIOError:
                continue
            if not chunk:
                return data
            data += chunk
        raise AssertionError(f"no close within {seconds}s; got {len(data)} bytes: {data[:200]!r}")


@pytest.fixture
def endpoint() -> Iterator[Endpoint]:
    made = Endpoint()
    yield made
    made.server.close()
    made.selector.close()


def test_exporter_get_metrics_answers_the_exposition_text(endpoint: Endpoint) -> None:
    answer = endpoint.exchange(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n" in head
    assert head.endswith(b"\r\nConnection: close")
    assert f"\r\nContent-Length: {len(BODY)}".encode() in head
    assert body == BODY
    assert endpoint.server.scrapes == {}


def test_exporter_query_string_ignored(endpoint: Endpoint) -> None:
    answer = endpoint.exchange(b"GET /metrics?x=1 HTTP/1.0\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 200 OK\r\n")


def test_exporter_head_answers_without_body(endpoint: Endpoint) -> None:
    answer = endpoint.exchange(b"HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK\r\n")
    assert f"\r\nContent-Length: {len(BODY)}".encode() in head
    assert body == b""


def test_exporter_other_path_404(endpoint: Endpoint) -> None:
    answer = endpoint.exchange(b"GET /metricsx HTTP/1.1\r\nHost: x\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 404 Not Found\r\n")
    assert answer.endswith(b"\r\n\r\nnot found: the metrics are at /metrics\n")
    assert endpoint.renders == 0


@pytest.mark.parametrize("method", [b"POST", b"PUT", b"DELETE", b"get"])
def test_exporter_other_method_405_with_allow(endpoint: Endpoint, method: bytes) -> None:
    answer = endpoint.exchange(method + b" /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 405 Method Not Allowed\r\n")
    assert b"\r\nAllow: GET, HEAD\r\n" in answer
    assert endpoint.renders == 0


@pytest.mark.parametrize(
    "request_line",
    [b"GET /metrics", b"GET  /metrics HTTP/1.1", b"GET metrics HTTP/1.1", b"GET /metrics SPDY/3", b"\x16\x03\x01 x y"],
    ids=["no-version", "double-space", "no-slash", "not-http", "tls-hello"],
)
def test_exporter_malformed_request_400(endpoint: Endpoint, request_line: bytes) -> None:
    answer = endpoint.exchange(request_line + b"\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 400 Bad Request\r\n")


def test_exporter_head_too_large_431(endpoint: Endpoint) -> None:
    answer = endpoint.exchange(b"GET /metrics HTTP/1.1\r\nX: " + b"a" * exporter.MAX_HEAD)
    assert answer.startswith(b"HTTP/1.1 431 Request Header Fields Too Large\r\n")


def test_exporter_head_sent_byte_by_byte(endpoint: Endpoint) -> None:
    with endpoint.connect() as sock:
        for byte in b"GET /metrics HTTP/1.1\r\n\r\n":
            sock.send(bytes([byte]))
            endpoint.turn(0.001)
        assert endpoint.read_to_eof(sock).startswith(b"HTTP/1.1 200 OK\r\n")


def test_exporter_silent_client_closed_at_the_deadline(endpoint: Endpoint, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(exporter, "TIMEOUT", 0.2)
    with endpoint.connect() as sock:
        sock.send(b"GET /metr")
        started = time.monotonic()
        assert endpoint.read_to_eof(sock, 3.0) == b""
        assert time.monotonic() - started < 2.0
    assert endpoint.server.scrapes == {}


def test_exporter_client_gone_before_its_request(endpoint: Endpoint) -> None:
    sock = endpoint.connect()
    sock.close()
    deadline = time.monotonic() + 5.0
    while endpoint.server.scrapes and time.monotonic() < deadline:
        endpoint.turn(0.01)
    assert endpoint.server.scrapes == {}


def test_exporter_slow_reader_gets_the_rest_as_it_reads() -> None:
    big = b"x" * (8 * 1024 * 1024)  # more than the socket buffers take at once
    made = Endpoint(big)
    try:
        with made.connect() as sock:
            sock.sendall(b"GET /metrics HTTP/1.1\r\n\r\n")
            for _ in range(5):
                made.turn(0.01)
            (scrape,) = made.server.scrapes.values()
            assert scrape.out  # queued, and the loop did not wait for the client
            answer = made.read_to_eof(sock, 10.0)
        assert answer.endswith(big)
    finally:
        made.server.close()
        made.selector.close()


def test_exporter_connections_over_the_limit_closed_at_accept(endpoint: Endpoint, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(exporter, "MAX_CONNECTIONS", 2)
    held = [endpoint.connect() for _ in range(2)]
    try:
        assert len(endpoint.server.scrapes) == 2
        extra = socket.create_connection(("127.0.0.1", endpoint.port), timeout=5.0)
        with extra:
            assert endpoint.read_to_eof(extra) == b""
        assert len(endpoint.server.scrapes) == 2
    finally:
        for sock in held:
            sock.close()


def test_exporter_render_failure_closes_the_connection(endpoint: Endpoint, caplog: pytest.LogCaptureFixture) -> None:
    def broken() -> bytes:
        raise RuntimeError("boom")

    endpoint.server.render = broken
    assert endpoint.exchange(b"GET /metrics HTTP/1.1\r\n\r\n") == b""
    assert "rendering the metrics failed" in caplog.text


def test_exporter_url_names_the_bound_port(endpoint: Endpoint) -> None:
    assert endpoint.server.url == f"http://127.0.0.1:{endpoint.port}/metrics"


def test_exporter_url_of_ipv6_in_brackets() -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6")
    selector = selectors.DefaultSelector()
    try:
        server = MetricsServer("[::1]:0", selector, lambda: BODY)
    except ConfigError as exc:
        selector.close()
        pytest.skip(f"no IPv6 loopback: {exc}")
    try:
        assert server.url == f"http://[::1]:{server.listener.getsockname()[1]}/metrics"
    finally:
        server.close()
        selector.close()


def test_exporter_address_in_use_names_the_setting(endpoint: Endpoint) -> None:
    selector = selectors.DefaultSelector()
    with pytest.raises(ConfigError, match=rf"^--metrics-bind: cannot bind 127.0.0.1:{endpoint.port}: "):
        MetricsServer(f"127.0.0.1:{endpoint.port}", selector, lambda: BODY)
    selector.close()


def test_exporter_close_in_child_closes_every_descriptor(endpoint: Endpoint) -> None:
    with endpoint.connect() as _sock:
        (scrape,) = endpoint.server.scrapes.values()
        endpoint.server.close_in_child()
        assert scrape.sock.fileno() == -1
        assert endpoint.server.listener.fileno() == -1
        assert endpoint.server.scrapes == {}
    endpoint.selector = selectors.DefaultSelector()  # the old one holds closed descriptors
