"""Live tests of the worker: connections, pipelining, limits, timeouts, shutdown."""

from __future__ import annotations

import json
import signal
import socket
import threading
import time
from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.client import RawClient
from tests.client import get
from tests.live import LiveServer
from tests.live import require_service
from tests.live import start_server

pytestmark = pytest.mark.live


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    srv = start_server(
        "tests.apps.wsgi_apps:validated",
        "--max-body-size",
        "1m",
        "--header-timeout",
        "1",
        "--body-timeout",
        "1",
        "--keepalive-timeout",
        "2",
        env={"PYTHONWARNINGS": "error"},
    )
    yield srv
    srv.stop()


def test_pipelined_requests_answered_in_order(server: LiveServer) -> None:
    with RawClient(server.host, server.port) as c:
        c.send(get("/echo/1") + get("/list") + b"POST /echo/3 HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc" + get("/echo/4"))
        bodies = [c.read_response().body for _ in range(4)]
    assert b'"PATH_INFO": "/echo/1"' in bodies[0]
    assert bodies[1] == b"abc"
    assert b'"PATH_INFO": "/echo/3"' in bodies[2] and b'"body": "abc"' in bodies[2]
    assert b'"PATH_INFO": "/echo/4"' in bodies[3]


def test_pipelined_requests_sent_byte_by_byte(server: LiveServer) -> None:
    data = get("/list") * 3
    with RawClient(server.host, server.port) as c:
        for i in range(len(data)):
            c.send(data[i : i + 1])
        assert [c.read_response().body for _ in range(3)] == [b"abc"] * 3


def test_connection_close_request_closes_after_response(server: LiveServer) -> None:
    with RawClient(server.host, server.port) as c:
        resp = c.request(get("/list", extra="Connection: close\r\n"))
        assert resp.header("Connection") == "close"
        assert c.is_closed()


def test_http10_keep_alive_honoured(server: LiveServer) -> None:
    with RawClient(server.host, server.port) as c:
        # /echo sends a Content-Length, so the response can keep the connection.
        resp = c.request(b"GET /echo HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        assert resp.header("Connection") == "keep-alive"
        assert c.request(b"GET /echo HTTP/1.0\r\n\r\n").status == 200
        assert c.is_closed()


def test_http12_served_as_http11(server: LiveServer) -> None:
    with RawClient(server.host, server.port) as c:
        resp = c.request(b"GET /list HTTP/1.2\r\nHost: a\r\n\r\n")
    assert resp.version == "HTTP/1.1"
    assert resp.status == 200


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        pytest.param(b"GET / HTTP/1.1\r\n\r\n", 400, id="no-host"),
        pytest.param(b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, id="two-hosts"),
        pytest.param(b"GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400, id="bad-host"),
        pytest.param(b"GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505, id="http2"),
        pytest.param(b"GET /\r\n\r\n", 400, id="http09"),
        pytest.param(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", 400, id="cl-and-te"),
        pytest.param(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n", 400, id="two-cl"),
        pytest.param(b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501, id="gzip-chunked"),
        pytest.param(b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 400, id="chunked-not-last"),
        pytest.param(b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400, id="te-http10"),
        pytest.param(b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400, id="bad-chunk-size"),
        pytest.param(b"GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400, id="space-before-colon"),
        pytest.param(b"GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n", 400, id="obs-fold"),
        pytest.param(b"GET / HTTP/1.1\r\nHost: a\r\nX: a\x00b\r\n\r\n", 400, id="nul-in-value"),
        pytest.param(b"GET /\x01 HTTP/1.1\r\nHost: a\r\n\r\n", 400, id="ctl-in-target"),
        pytest.param(b"G(T / HTTP/1.1\r\nHost: a\r\n\r\n", 400, id="bad-method"),
        pytest.param(b"GET / HTTP/1.1\r\nHost: a\r\nExpect: magic\r\n\r\n", 417, id="bad-expect"),
    ],
)
def test_malformed_request_rejected_and_closed(server: LiveServer, raw: bytes, status: int) -> None:
    with RawClient(server.host, server.port) as c:
        resp = c.request(raw)
        assert resp.status == status
        assert resp.header("Connection") == "close"
        assert resp.header("Content-Type") == "text/plain; charset=utf-8"
        assert c.is_closed()


def test_limit_request_line_414(server: LiveServer) -> None:
    with RawClient(server.host, server.port) as c:
        resp = c.request(b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: a\r\n\r\n")
        assert resp.status == 414
        assert c.is_closed()


def test_limit_request_line_414_before_line_ends(server: LiveServer) -> None:
    with RawClient(server.host, server.port) as c:
        resp = c.request(b"GET /" + b"a" * 9000)
        assert resp.status == 414
        assert c.is_closed()


def test_limit_header_section_431(server: LiveServer) -> None:
    headers = b"".join(b"X-%d: %s\r\n" % (i, b"v" * 1000) for i in range(70))
    with RawClient(server.host, server.port) as c:
        resp = c.request(b"GET / HTTP/1.1\r\nHost: a\r\n" + headers + b"\r\n")
        assert resp.status == 431
        assert c.is_closed()


def test_limit_header_fields_431(server: LiveServer) -> None:
    headers = b"".join(b"X-%d: v\r\n" % i for i in range(101))
    with RawClient(server.host, server.port) as c:
        resp = c.request(b"GET / HTTP/1.1\r\nHost: a\r\n" + headers + b"\r\n")
        assert resp.status == 431


def test_limit_body_413_before_body_read(server: LiveServer) -> None:
    with RawClient(server.host, server.port) as c:
        c.send(b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 2000000\r\n\r\n")
        resp = c.read_response()
        assert resp.status == 413
        assert resp.header("Connection") == "close"
        assert c.is_closed()


def test_limit_chunked_body_413_when_exceeded(server: LiveServer) -> None:
    chunk = b"x" * 65536
    with RawClient(server.host, server.port) as c:
        c.send(b"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n")
        try:
            for _ in range(20):
                c.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        except OSError:
            pass
        resp = c.read_response()
        assert resp.status == 413


def test_timeout_slowloris_head_cut_off(server: LiveServer) -> None:
    with RawClient(server.host, server.port) as c:
        started = time.monotonic()
        c.send(b"GET / HTTP/1.1\r\n")
        resp = None
        for _ in range(40):
            time.sleep(0.1)
            try:
                c.send(b"X-a: b\r\n")
            except OSError:
                break
            if time.monotonic() - started > 3:
                break
        resp = c.read_response()
        assert resp.status == 408
        assert c.is_closed()
    assert time.monotonic() - started < 3.5


def test_timeout_slowloris_does_not_block_other_clients(server: LiveServer) -> None:
    slow = [RawClient(server.host, server.port) for _ in range(20)]
    try:
        for c in slow:
            c.send(b"GET / HTTP/1.1\r\nHost: a\r\n")
        r = requests.get(server.url + "/list", timeout=2)
        assert r.content == b"abc"
    finally:
        for c in slow:
            c.close()


def test_timeout_idle_keepalive_closed_silently(server: LiveServer) -> None:
    with RawClient(server.host, server.port) as c:
        assert c.request(get("/list")).status == 200
        assert not c.is_closed(0.5)
        assert c.is_closed(4.0)
        assert c.buf == b""


def test_timeout_body_408(server: LiveServer) -> None:
    with RawClient(server.host, server.port) as c:
        c.send(b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc")
        resp = c.read_response()
        assert resp.status == 408
        assert c.is_closed()


def test_idle_connections_do_not_delay_new_client(server: LiveServer) -> None:
    idle = []
    try:
        for _ in range(1000):
            s = socket.create_connection((server.host, server.port), timeout=5)
            idle.append(s)
        started = time.monotonic()
        r = requests.get(server.url + "/list", timeout=5)
        elapsed = time.monotonic() - started
        assert r.content == b"abc"
        # Functional check, not a benchmark: a thread per idle connection would stall here.
        assert elapsed < 1.0
    finally:
        for s in idle:
            s.close()


def test_threads_run_requests_concurrently(live_server: Callable[..., LiveServer]) -> None:
    srv = live_server("tests.apps.wsgi_apps:validated", "--threads", "4")
    results: list[int] = []

    def call() -> None:
        results.append(requests.get(srv.url + "/sleep?0.5", timeout=5).status_code)

    started = time.monotonic()
    threads = [threading.Thread(target=call) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [200] * 4
    assert time.monotonic() - started < 1.5


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_finishes_in_flight_then_exits_zero(live_server: Callable[..., LiveServer], sig: int) -> None:
    srv = live_server("tests.apps.wsgi_apps:validated")
    results: list[bytes] = []

    def call() -> None:
        results.append(requests.get(srv.url + "/sleep?1", timeout=5).content)

    t = threading.Thread(target=call)
    t.start()
    time.sleep(0.3)
    code = srv.stop(sig)
    t.join()
    assert results == [b"slept"]
    assert code == 0
    with pytest.raises(OSError):
        socket.create_connection((srv.host, srv.port), timeout=1).close()


def test_graceful_timeout_bounds_shutdown(live_server: Callable[..., LiveServer]) -> None:
    srv = live_server("tests.apps.wsgi_apps:validated", "--graceful-timeout", "0.5")
    t = threading.Thread(target=lambda: _swallow(lambda: requests.get(srv.url + "/sleep?5", timeout=10)))
    t.start()
    time.sleep(0.3)
    started = time.monotonic()
    assert srv.stop() == 0
    assert time.monotonic() - started < 3
    t.join()
    assert "graceful timeout" in srv.output


def _swallow(fn: Callable[[], object]) -> None:
    try:
        fn()
    except requests.RequestException:
        pass


def test_bind_ipv6_and_unix_together(live_server: Callable[..., LiveServer], tmp_path: Path) -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6 on this machine")
    path = tmp_path / "s.sock"
    srv = live_server("tests.apps.wsgi_apps:validated", bind=("[::1]:0", f"unix:{path}"))
    assert srv.url.startswith("http://[::1]:")
    with RawClient("::1", srv.port) as c:
        assert c.request(get("/list")).body == b"abc"
    u = socket.socket(socket.AF_UNIX)
    u.connect(str(path))
    u.sendall(get("/echo"))
    data = u.recv(65536)
    u.close()
    assert data.startswith(b"HTTP/1.1 200 OK")
    assert b'"REMOTE_ADDR": ""' in data
    srv.wait_for_output(f"Listening on unix:{path}")
    srv.stop()
    assert not path.exists()


def test_access_log_combined_format(live_server: Callable[..., LiveServer], tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    srv = live_server("tests.apps.wsgi_apps:validated", "--access-log", str(log))
    requests.get(srv.url + "/list?x=1", headers={"Referer": "http://r/", "User-Agent": "ua/1"}, timeout=5)
    srv.stop()
    line = log.read_text().strip()
    assert line.startswith("127.0.0.1 - - [")
    assert '"GET /list?x=1 HTTP/1.1" 200 3 "http://r/" "ua/1"' in line


def test_out_of_descriptors_pauses_accept_then_recovers(live_server: Callable[..., LiveServer]) -> None:
    import shutil

    prlimit = shutil.which("prlimit")
    require_service(prlimit is not None, "prlimit (util-linux) is not installed")
    assert prlimit is not None
    srv = live_server("tests.apps.wsgi_apps:validated", wrapper=(prlimit, "--nofile=64:64"))
    held = []
    try:
        for _ in range(80):
            held.append(socket.create_connection((srv.host, srv.port), timeout=5))
        srv.wait_for_output(r"cannot accept connections: Too many open files .*pausing accept")
    finally:
        for s in held:
            s.close()
    # Once descriptors are free again, new clients are served.
    deadline = time.monotonic() + 5
    while True:
        try:
            assert requests.get(srv.url + "/list", timeout=2).content == b"abc"
            break
        except requests.RequestException:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    assert srv.output.count("cannot accept connections") <= 10


def test_threads_run_under_sched_batch(server: LiveServer) -> None:
    tasks = Path(f"/proc/{server.proc.pid}/task")
    if not tasks.exists():
        pytest.skip("no /proc on this system")
    policies = []
    for task in tasks.iterdir():
        stat = (task / "stat").read_text()
        # Field 41 (policy) counted after the parenthesised command name.
        fields = stat[stat.rindex(")") + 2 :].split()
        policies.append(int(fields[38]))
    # SCHED_BATCH is 3: the loop and every pool thread use it.
    assert policies.count(3) >= 9


def test_request_arriving_while_thread_busy_is_answered(server: LiveServer) -> None:
    # The second request reaches the loop while a thread still owns the
    # connection; the thread must read it before letting go.
    with RawClient(server.host, server.port) as c:
        c.send(get("/sleep?0.3"))
        time.sleep(0.1)
        c.send(get("/list"))
        assert c.read_response().body == b"slept"
        assert c.read_response().body == b"abc"


def test_pipelined_burst_larger_than_one_read(server: LiveServer) -> None:
    count = 2000
    with RawClient(server.host, server.port, timeout=20) as c:
        c.send(get("/list") * count)
        bodies = [c.read_response().body for _ in range(count)]
    assert bodies == [b"abc"] * count


def test_body_read_by_loop_across_many_reads(server: LiveServer) -> None:
    body = bytes(range(256)) * 2000  # 512000 bytes: buffered by the loop, several reads
    with RawClient(server.host, server.port) as c:
        resp = c.request(b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
    assert resp.status == 200
    assert json.loads(resp.body)["body"].encode("latin-1") == body


def test_access_log_line_is_the_same_with_and_without_the_direct_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # sluice's own handler alone: the worker queues the line itself; with a
    # filter (or another handler) it goes through logging. Same bytes.
    import logging
    from types import SimpleNamespace

    from sluice.cli import configure_access_log
    from sluice.server import accesslog

    logger = logging.getLogger("sluice.access")
    request = SimpleNamespace(
        headers=[("host", "x"), ("referer", 'http://r/"q\\\x1b[2J\xe9'), ("user-agent", "ua/1")],
        referer='http://r/"q\\\x1b[2J\xe9',
        user_agent="ua/1",
        method="GET",
        target='/a?b="1"',
        http_version="1.1",
        line='GET /a?b="1" HTTP/1.1',
    )
    lines = []
    try:
        for through_logging in (False, True):
            log = tmp_path / f"access-{through_logging}.log"
            configure_access_log(SimpleNamespace(access_log=str(log)))  # type: ignore[arg-type]
            if through_logging:
                logger.addFilter(lambda record: True)
            assert (accesslog.own_handler() is None) is through_logging
            # A new AccessLog checks the handlers at its first line (then once a second).
            access = accesslog.AccessLog()
            monkeypatch.setattr(accesslog, "_monotonic", lambda: 100.25)  # the request took 0.25 s
            access.write(("10.0.0.7", 5555), request, 206, 5, 100.0, "rid-1")  # type: ignore[arg-type]
            for handler in logger.handlers:
                handler.flush()
            lines.append(log.read_bytes())
            logger.filters.clear()
    finally:
        configure_access_log(SimpleNamespace(access_log=None))  # type: ignore[arg-type]
    assert lines[0] == lines[1]
    assert lines[0].startswith(b"10.0.0.7 - - [")
    assert lines[0].endswith(b' "GET /a?b=\\"1\\" HTTP/1.1" 206 5 "http://r/\\"q\\\\\\x1B[2J\\xE9" "ua/1" 0.250000 rid-1\n')


def _in_process_worker(**kwargs: object) -> tuple[object, int, threading.Thread]:
    from sluice.server.listeners import bind
    from sluice.server.worker import Worker

    def app(environ: dict[str, object], start_response: Callable[..., object]) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
        return [b"ok"]

    sock = bind("127.0.0.1:0", 16)
    port = sock.getsockname()[1]
    worker = Worker(app, [sock], threads=2, **kwargs)  # type: ignore[arg-type]
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    return worker, port, thread


def test_max_requests_stops_the_worker_gracefully_after_that_many_responses() -> None:
    worker, port, thread = _in_process_worker(max_requests=3)
    with RawClient("127.0.0.1", port) as c:
        statuses = [c.request(get("/")).status for _ in range(3)]
    assert statuses == [200, 200, 200]
    thread.join(10)
    assert not thread.is_alive()


def test_on_tick_is_called_by_the_loop_about_once_a_second() -> None:
    ticks: list[float] = []
    worker, _, thread = _in_process_worker(on_tick=lambda: ticks.append(time.monotonic()))
    try:
        deadline = time.monotonic() + 5
        while len(ticks) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(ticks) >= 2
        assert 0.5 <= ticks[1] - ticks[0] <= 2.5
    finally:
        worker.stop()  # type: ignore[attr-defined]
        thread.join(10)
    assert not thread.is_alive()


def test_timeout_crlf_drip_cut_within_the_header_timeout(server: LiveServer) -> None:
    # Empty lines count as the next request's bytes: they start its header
    # deadline (1 s here) and neither reset it nor the keep-alive clock (2 s).
    # Before, each CRLF restarted the clock and the drip held the connection.
    with RawClient(server.host, server.port) as c:
        assert c.request(get("/list")).status == 200
        started = time.monotonic()
        while time.monotonic() - started < 6:
            try:
                c.send(b"\r\n")
            except OSError:
                break
            if c.is_closed(0.5) or c.buf:
                break
        elapsed = time.monotonic() - started
        if c.buf:
            assert c.read_response().status in (400, 408)
    # Header timeout 1 s, checked once a second.
    assert elapsed < 3.0


def test_too_many_empty_lines_before_a_request_line_get_a_400(server: LiveServer) -> None:
    with RawClient(server.host, server.port) as c:
        resp = c.request(b"\r\n" * 5 + get("/list"))
        assert resp.status == 400
        assert b"empty lines" in resp.body


def test_a_few_empty_lines_before_a_request_line_are_ignored(server: LiveServer) -> None:
    with RawClient(server.host, server.port) as c:
        assert c.request(b"\r\n\r\n" + get("/list")).body == b"abc"
        assert c.request(b"\r\n" + get("/list")).body == b"abc"


def test_timeout_one_byte_a_second_head_cut_within_the_header_timeout(server: LiveServer) -> None:
    head = b"GET /list HTTP/1.1\r\nHost: a\r\nX-Slow: " + b"s" * 100
    with RawClient(server.host, server.port) as c:
        started = time.monotonic()
        for byte in head:
            try:
                c.send(bytes([byte]))
            except OSError:
                break
            if time.monotonic() - started > 4:
                break
            time.sleep(0.25)
            if c.is_closed(0.01) or c.buf:
                break
        elapsed = time.monotonic() - started
        assert c.read_response().status == 408
    # Header timeout 1 s, checked once a second.
    assert elapsed < 3.0


@pytest.mark.parametrize("together", [True, False], ids=["close-with-bytes", "close-after-bytes"])
def test_half_sent_head_then_half_close_answered_400_at_once(server: LiveServer, together: bool) -> None:
    with RawClient(server.host, server.port) as c:
        started = time.monotonic()
        c.send(b"GET /list HTTP/1.1\r\nHost: a\r\n")
        if not together:
            time.sleep(0.05)
            started = time.monotonic()
        c.sock.shutdown(socket.SHUT_WR)
        resp = c.read_response()
        assert resp.status == 400
        assert c.is_closed()
    # Before, a close arriving with the bytes was noticed only at the header timeout (a 408).
    assert time.monotonic() - started < 0.5


@pytest.mark.parametrize("together", [True, False], ids=["close-with-bytes", "close-after-bytes"])
def test_truncated_body_then_half_close_answered_400_at_once(server: LiveServer, together: bool) -> None:
    with RawClient(server.host, server.port) as c:
        c.send(b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n")
        if not together:
            c.send(b"0123456789")
            time.sleep(0.05)
        started = time.monotonic()
        if together:
            c.sock.sendall(b"0123456789")
        c.sock.shutdown(socket.SHUT_WR)
        resp = c.read_response()
        assert resp.status == 400
        assert b"missing" in resp.body
    assert time.monotonic() - started < 0.5


def _big_body_worker(size: int, timeouts: object) -> tuple[object, int, threading.Thread]:
    from sluice.server.listeners import bind
    from sluice.server.worker import Worker

    body = bytes(range(256)) * (size // 256)

    def app(environ: dict[str, object], start_response: Callable[..., object]) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "application/octet-stream"), ("Content-Length", str(len(body)))])
        return [body]

    sock = bind("127.0.0.1:0", 16)
    worker = Worker(app, [sock], threads=2, timeouts=timeouts)  # type: ignore[arg-type]
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    return worker, sock.getsockname()[1], thread


def _read_slowly(port: int, chunk: int, pause: float, limit: float) -> tuple[int, bool]:
    """Read a response ``chunk`` bytes every ``pause`` s; return (bytes read, closed by the server)."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    sock.settimeout(5)
    sock.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
    got = 0
    started = time.monotonic()
    try:
        while time.monotonic() - started < limit:
            data = sock.recv(chunk)
            if not data:
                return got, True
            got += len(data)
            time.sleep(pause)
        return got, False
    except ConnectionResetError:
        return got, True
    finally:
        sock.close()


def test_a_reader_below_the_minimum_rate_is_cut_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    from sluice.server.worker import Timeouts

    size = 8 << 20
    worker, port, thread = _big_body_worker(size, Timeouts(write=0.3, min_send_rate=200_000))
    try:
        with caplog.at_level("WARNING", logger="sluice.error"):
            # About 40 KB/s: a fifth of the minimum rate.
            started = time.monotonic()
            got, closed = _read_slowly(port, 4096, 0.1, 15)
            elapsed = time.monotonic() - started
            deadline = time.monotonic() + 5
            while "too slowly" not in caplog.text and time.monotonic() < deadline:
                time.sleep(0.05)
        assert closed and got < size
        assert elapsed < 15
        assert "took the response too slowly" in caplog.text
        assert "bytes in" in caplog.text
    finally:
        worker.stop()  # type: ignore[attr-defined]
        thread.join(10)


def test_a_body_dripped_below_the_minimum_rate_gets_a_408(server: LiveServer) -> None:
    # Body timeout 1 s here, then 240 bytes/s on average: a byte every 0.3 s
    # falls behind. Before, each byte restarted a 1 s wait, without end.
    with RawClient(server.host, server.port) as c:
        c.send(b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 1000\r\n\r\n")
        started = time.monotonic()
        while time.monotonic() - started < 6:
            try:
                c.send(b"x")
            except OSError:
                break
            if c.is_closed(0.3) or c.buf:
                break
        elapsed = time.monotonic() - started
        assert c.read_response().status == 408
    assert elapsed < 3.5


def _hand_off_pair() -> tuple[object, object, socket.socket]:
    """A worker with no threads and one connection on a real TCP pair, driven by hand."""
    from sluice.server.worker import Worker
    from sluice.server.worker import _Conn

    listener = socket.create_server(("127.0.0.1", 0))
    client = socket.create_connection(listener.getsockname())
    sock, peer = listener.accept()
    listener.close()
    sock.setblocking(False)
    worker = Worker(lambda e, s: [], [], threads=0)
    conn = _Conn(sock, peer, None, worker.limits, worker.timeouts)
    worker.conns[conn.fd] = conn
    return worker, conn, client


def _wait_readable(sock: socket.socket) -> None:
    import select as _select

    assert _select.select([sock], [], [], 2)[0]


def test_hand_off_an_edge_while_a_thread_owns_the_connection_is_kept_for_it() -> None:
    worker, conn, client = _hand_off_pair()
    w: Any = worker
    c: Any = conn
    try:
        client.sendall(get("/a"))
        _wait_readable(c.sock)
        w._on_readable(c)  # the loop: parses, dispatches
        assert c.busy and c.request is not None and c.request.target == "/a"
        assert w._queue.get_nowait() == (c, True)
        # A second request arrives while the pool thread owns the connection:
        # the loop only notes it and reads nothing.
        client.sendall(get("/b"))
        _wait_readable(c.sock)
        w._on_readable(c)
        assert c.pending and c.busy
        assert c.sock.recv(1, socket.MSG_PEEK) == b"G"  # still in the socket
        # The thread, letting go, reads what the loop noted, and keeps the
        # connection while it has bytes to parse.
        data = w._release(c)
        assert data == get("/b") and c.busy and not c.pending
        # Nothing more noted: the connection goes back to the loop.
        assert w._release(c) is None and not c.busy
    finally:
        client.close()
        c.sock.close()


def test_hand_off_a_close_noted_while_owned_is_read_by_the_thread() -> None:
    worker, conn, client = _hand_off_pair()
    w: Any = worker
    c: Any = conn
    try:
        c.busy = True  # a pool thread owns it
        client.sendall(b"GET /x HTTP/1.1\r\n")
        client.shutdown(socket.SHUT_WR)
        _wait_readable(c.sock)
        c.hup = True  # the loop saw EPOLLRDHUP with the bytes
        w._on_readable(c)
        assert c.pending
        assert w._release(c) == b"GET /x HTTP/1.1\r\n"
        # The close is not left unread (no later edge would report it).
        assert c.pending
        assert w._release(c) == b""
    finally:
        client.close()
        c.sock.close()


def test_hand_off_the_loop_reads_again_once_the_thread_let_go() -> None:
    worker, conn, client = _hand_off_pair()
    w: Any = worker
    c: Any = conn
    try:
        c.busy = True
        assert w._release(c) is None and not c.busy
        client.sendall(get("/c"))
        _wait_readable(c.sock)
        w._on_readable(c)
        assert c.busy and c.request.target == "/c"
    finally:
        client.close()
        c.sock.close()


def test_hand_off_a_response_still_queued_is_finished_by_the_loop_then_the_next_request_read() -> None:
    # The outbox rules, step by step from one thread: the owning thread
    # queues what the socket refuses and lets go with ``then`` set; input
    # meanwhile is only noted; the loop sends the rest on EPOLLOUT and then
    # reads the next request.
    from sluice.server.worker import _THEN_NEXT

    worker, conn, client = _hand_off_pair()
    w: Any = worker
    c: Any = conn
    try:
        c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
        body = bytes(range(256)) * 4096  # 1 MiB: far more than the sockets hold
        c.busy = True  # a pool thread owns it
        c.send(body)  # the socket takes a part; the rest is queued, no wait
        assert c.outbox is not None and c.outbox.items
        assert c.out_started > 0  # the rate clock started at the refusal
        assert w._hand_over(c, _THEN_NEXT)
        assert not c.busy and c.then == _THEN_NEXT
        # The next request arrives while the response is still queued: noted, not read.
        client.sendall(get("/next"))
        time.sleep(0.05)
        w._on_readable(c)
        assert c.pending and c.request is None
        assert c.sock.recv(1, socket.MSG_PEEK) == b"G"
        # The client reads; each EPOLLOUT edge (here: each turn) lets the loop send more.
        import select as _select

        got = b""
        deadline = time.monotonic() + 10
        while len(got) < len(body) and time.monotonic() < deadline:
            w._drain(c)
            if _select.select([client], [], [], 0.05)[0]:
                got += client.recv(65536)
        assert got == body
        # All sent: the loop went on with the connection and read the request.
        assert c.then == 0 and not c.outbox.items
        assert c.busy and c.request is not None and c.request.target == "/next"
        assert w._queue.get_nowait() == (c, True)
    finally:
        client.close()
        w._close(c)


def test_a_connection_accepted_just_before_a_stop_gets_its_first_request_answered() -> None:
    # Before, stop() closed every connection with no request yet, including
    # one accepted a moment ago whose request was on its way: that client
    # saw its first request fail.
    worker, port, thread = _in_process_worker()
    w: Any = worker
    try:
        with RawClient("127.0.0.1", port) as c:
            deadline = time.monotonic() + 2
            while not w.conns and time.monotonic() < deadline:
                time.sleep(0.01)
            assert w.conns  # accepted, no byte sent yet
            w.stop()
            time.sleep(0.3)
            resp = c.request(get("/"))
            assert resp.status == 200 and resp.body == b"ok"
            assert resp.header("Connection") == "close"
        thread.join(5)
        assert not thread.is_alive()
    finally:
        w.stop()
        thread.join(5)


def test_an_idle_connection_is_closed_by_a_stop_once_its_grace_is_over() -> None:
    worker, port, thread = _in_process_worker()
    w: Any = worker
    with RawClient("127.0.0.1", port) as c:
        assert c.request(get("/")).status == 200
        time.sleep(1.1)  # past the fresh connection's grace
        started = time.monotonic()
        w.stop()
        assert c.is_closed(3.0)
        assert time.monotonic() - started < 1.0
    thread.join(5)
    assert not thread.is_alive()
