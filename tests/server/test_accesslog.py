"""The access log: batched writes that lose nothing, and fields a client cannot forge."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import signal
import socket
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sluice.server.accesslog import LineHandler
from sluice.server.accesslog import escape
from sluice.server.accesslog import make_handler
from tests.live import start_server


def _wait_for(predicate: object, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.01)
    return False


class _CountingStream(io.StringIO):
    """A text stream that counts its writes."""

    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def write(self, s: str) -> int:
        self.writes += 1
        return super().write(s)


# -- batching ---------------------------------------------------------------------------


def test_a_line_is_written_within_the_interval_without_more_traffic() -> None:
    stream = _CountingStream()
    handler = LineHandler(stream, interval=0.05)
    try:
        handler.add("one\n")
        assert _wait_for(lambda: stream.getvalue() == "one\n", timeout=2.0)
    finally:
        handler.close()


def test_lines_are_written_in_batches_not_one_write_each() -> None:
    stream = _CountingStream()
    handler = LineHandler(stream, interval=0.2)
    try:
        for i in range(500):
            handler.add(f"{i}\n")
        assert _wait_for(lambda: stream.getvalue().count("\n") == 500, timeout=3.0)
        assert stream.getvalue() == "".join(f"{i}\n" for i in range(500))
        assert stream.writes < 10
    finally:
        handler.close()


def test_limit_lines_are_written_at_once_by_the_adding_thread() -> None:
    stream = _CountingStream()
    handler = LineHandler(stream, interval=60.0, limit=10)
    try:
        handler.add("0\n")
        assert _wait_for(lambda: not handler._parked)  # the writer gathers for 60 s
        for i in range(1, 9):
            handler.add(f"{i}\n")
        assert stream.getvalue() == ""
        handler.add("9\n")
        assert stream.getvalue() == "".join(f"{i}\n" for i in range(10))  # written before add() returned
    finally:
        handler.close()


def test_the_writer_sleeps_when_no_line_comes_and_wakes_for_the_next() -> None:
    stream = _CountingStream()
    handler = LineHandler(stream, interval=0.05)
    try:
        handler.add("a\n")
        assert _wait_for(lambda: stream.getvalue() == "a\n", timeout=2.0)
        assert _wait_for(lambda: handler._parked, timeout=2.0)
        writes = stream.writes
        time.sleep(0.3)  # six intervals without a line: no wake-up writes anything
        assert stream.writes == writes and handler._parked
        handler.add("b\n")
        assert _wait_for(lambda: stream.getvalue() == "a\nb\n", timeout=2.0)
    finally:
        handler.close()


def test_steady_lines_are_written_once_per_interval() -> None:
    stream = _CountingStream()
    handler = LineHandler(stream, interval=0.1)
    try:
        deadline = time.monotonic() + 0.55
        count = 0
        while time.monotonic() < deadline:  # bounded: 0.55 s
            handler.add(f"{count}\n")
            count += 1
            time.sleep(0.001)
        assert _wait_for(lambda: stream.getvalue().count("\n") == count, timeout=2.0)
        assert stream.getvalue() == "".join(f"{i}\n" for i in range(count))
        assert stream.writes <= 8, (stream.writes, count)  # about one per 0.1 s, not one per line
    finally:
        handler.close()


def test_many_threads_lose_no_line_and_keep_each_threads_order() -> None:
    stream = _CountingStream()
    handler = LineHandler(stream, interval=0.01, limit=256)
    threads, per_thread = 8, 5000

    def produce(t: int) -> None:
        for i in range(per_thread):
            handler.add(f"{t} {i}\n")

    workers = [threading.Thread(target=produce, args=(t,)) for t in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(30)
    handler.close()
    lines = stream.getvalue().splitlines()
    assert len(lines) == threads * per_thread
    seen: dict[str, int] = {}
    for line in lines:
        t, i = line.split()
        assert int(i) == seen.get(t, -1) + 1, f"thread {t}: line {i} out of order"
        seen[t] = int(i)


def test_flush_writes_everything_pending_now() -> None:
    stream = _CountingStream()
    handler = LineHandler(stream, interval=60.0)
    try:
        handler.add("a\n")
        handler.add("b\n")
        handler.flush()
        assert stream.getvalue() == "a\nb\n"
    finally:
        handler.close()


def test_a_blocked_stream_bounds_what_is_pending() -> None:
    # The writer thread is stuck in a write; once `limit` lines wait the
    # adding thread writes them itself (it waits for the stream, as with one
    # write per line), so memory stays bounded and no line is lost.
    gate = threading.Event()

    class Stuck(_CountingStream):
        def write(self, s: str) -> int:
            gate.wait(10)
            return super().write(s)

    stream = Stuck()
    handler = LineHandler(stream, interval=0.01, limit=20)
    done = threading.Event()

    def produce() -> None:
        for i in range(100):
            handler.add(f"{i}\n")
        done.set()

    producer = threading.Thread(target=produce)
    producer.start()
    time.sleep(0.3)
    assert not done.is_set()
    assert len(handler._pending) <= 20
    gate.set()
    producer.join(10)
    handler.close()
    assert stream.getvalue() == "".join(f"{i}\n" for i in range(100))


def test_close_writes_pending_lines_and_later_lines_go_out_at_once() -> None:
    stream = _CountingStream()
    handler = LineHandler(stream, interval=60.0)
    handler.add("before\n")
    handler.close()
    assert stream.getvalue() == "before\n"
    handler.add("after\n")
    assert stream.getvalue() == "before\nafter\n"


def test_a_closed_stream_drops_lines_without_raising() -> None:
    stream = io.StringIO()
    handler = LineHandler(stream, interval=60.0)
    stream.close()
    handler.add("x\n")
    handler.flush()
    handler.close()


def test_records_through_logging_are_batched_with_the_same_bytes() -> None:
    stream = _CountingStream()
    handler = LineHandler(stream, interval=60.0)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger("tests.accesslog.records")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("a %s", "b")
        assert stream.getvalue() == ""
        handler.flush()
        assert stream.getvalue() == "a b\n"
    finally:
        logger.removeHandler(handler)
        handler.close()


def test_logging_shutdown_writes_pending_lines(tmp_path: Path) -> None:
    # The interpreter's exit runs logging.shutdown: a line queued just before
    # is in the file after the process ended.
    log = tmp_path / "a.log"
    code = (
        "import logging, sys\n"
        "from sluice.server.accesslog import make_handler\n"
        f"h = make_handler({str(log)!r})\n"
        "logging.getLogger('x').addHandler(h)\n"
        "for i in range(3): h.add(f'line {i}\\n')\n"
    )
    import subprocess

    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    assert log.read_text() == "line 0\nline 1\nline 2\n"


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()")
def test_a_forked_child_writes_its_own_lines_only(tmp_path: Path) -> None:
    log = tmp_path / "fork.log"
    handler = make_handler(str(log))
    handler.interval = 60.0
    try:
        handler.add("parent-before\n")
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child
            try:
                handler.add("child\n")
                handler.flush()
            finally:
                os._exit(0)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        handler.flush()
    finally:
        handler.close()
    lines = log.read_text().splitlines()
    assert sorted(lines) == ["child", "parent-before"]


# -- escaping ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "logged"),
    [
        ("curl/8.5.0", "curl/8.5.0"),
        ("a b", "a b"),
        ('say "hi"', 'say \\"hi\\"'),
        ("back\\slash", "back\\\\slash"),
        ("line\r\nbreak", "line\\x0D\\x0Abreak"),
        ("tab\there", "tab\\x09here"),
        ("esc\x1b[31mred", "esc\\x1B[31mred"),
        ("nul\x00", "nul\\x00"),
        ("del\x7f", "del\\x7F"),
        ("latin\xe9\xff", "latin\\xE9\\xFF"),
        ("\u20ac", "\\xE2\\x82\\xAC"),
    ],
)
def test_escape_leaves_visible_ascii_and_escapes_the_rest(value: str, logged: str) -> None:
    assert escape(value) == logged
    assert escape(value).isascii() and escape(value).isprintable()


# -- live: sluice serve ------------------------------------------------------------------

_LINE = re.compile(
    r'^127\.0\.0\.1 - - \[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\] "(GET|POST) (\S+) HTTP/1\.1" '
    r'(\d{3}) (\d+|-) "((?:[^"\\]|\\.)*)" "((?:[^"\\]|\\.)*)" \d+\.\d{6} ([!-~]{1,128})$'
)


# What the parser lets through: quotes, backslashes, HTAB and obs-text
# (RFC 9110 §5.5); CR, LF, NUL and other controls are a 400 already.
_HOSTILE_UA = b'x" 200 1 "-" "forged\\" \t\xff\xfe'
_HOSTILE_REF = b'http://e/"\tq\\'
_HOSTILE_REQUEST = (
    b'GET /a"b\\c HTTP/1.1\r\nHost: a\r\nUser-Agent: ' + _HOSTILE_UA
    + b"\r\nReferer: " + _HOSTILE_REF + b"\r\nConnection: close\r\n\r\n"
)


def _request(port: int, raw: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(raw)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    return data


def test_serve_writes_one_line_per_request_and_none_is_lost_at_stop(tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    server = start_server("tests.apps.factories:create_app()", "--access-log", str(log))
    try:
        count = 300
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
            sock.sendall(b"".join(b"GET /n%d HTTP/1.1\r\nHost: a\r\n\r\n" % i for i in range(count)))
            sock.sendall(b"GET /last HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
            while sock.recv(65536):
                pass
    finally:
        assert server.stop(signal.SIGTERM) == 0
    lines = log.read_text().splitlines()
    assert len(lines) == count + 1
    assert [_LINE.match(line).group(2) for line in lines] == [f"/n{i}" for i in range(count)] + ["/last"]  # type: ignore[union-attr]


def test_serve_writes_a_line_soon_after_the_response(tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    server = start_server("tests.apps.factories:create_app()", "--access-log", str(log))
    try:
        _request(server.port, b"GET /soon HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        assert _wait_for(lambda: '"GET /soon HTTP/1.1"' in log.read_text(), timeout=2.0)
    finally:
        server.stop()


def test_serve_logs_the_request_line_as_sent(tmp_path: Path) -> None:
    # Combined format's request line is the client's own (Apache's %r): a
    # later HTTP/1.x is served as 1.1 but logged as sent; JSON keeps the
    # version it was served with.
    lines = {}
    for fmt in ("combined", "json"):
        log = tmp_path / f"access-{fmt}.log"
        server = start_server(
            "tests.apps.factories:create_app()", "--access-log", str(log), "--access-log-format", fmt
        )
        try:
            for raw in (
                b"GET /v2?a=1 HTTP/1.2\r\nHost: a\r\nConnection: close\r\n\r\n",
                b"HEAD /v0 HTTP/1.0\r\n\r\n",
            ):
                assert _request(server.port, raw).startswith(b"HTTP/1.1 ")
        finally:
            assert server.stop(signal.SIGTERM) == 0
        lines[fmt] = log.read_text().splitlines()
    combined, json_lines = lines["combined"], [json.loads(line) for line in lines["json"]]
    assert len(combined) == len(json_lines) == 2
    assert ' "GET /v2?a=1 HTTP/1.2" ' in combined[0]
    assert ' "HEAD /v0 HTTP/1.0" ' in combined[1]
    assert [(j["method"], j["target"], j["protocol"]) for j in json_lines] == [
        ("GET", "/v2?a=1", "HTTP/1.1"),
        ("HEAD", "/v0", "HTTP/1.0"),
    ]


def test_serve_hostile_fields_cannot_forge_or_split_lines(tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    server = start_server("tests.apps.factories:create_app()", "--access-log", str(log))
    try:
        reply = _request(server.port, _HOSTILE_REQUEST)
        assert reply.startswith(b"HTTP/1.1 200 ")
    finally:
        server.stop()
    data = log.read_bytes()
    assert data.isascii()
    lines = data.decode().splitlines()
    assert len(lines) == 1
    match = _LINE.match(lines[0])
    assert match is not None, lines[0]
    assert match.group(2) == '/a\\"b\\\\c'
    assert match.group(5) == 'http://e/\\"\\x09q\\\\'
    assert match.group(6) == 'x\\" 200 1 \\"-\\" \\"forged\\\\\\" \\x09\\xFF\\xFE'


def test_serve_json_lines_parse_and_hold_exactly_what_the_client_sent(tmp_path: Path) -> None:
    log = tmp_path / "access.jsonl"
    server = start_server(
        "tests.apps.factories:create_app()", "--access-log", str(log), "--access-log-format", "json"
    )
    try:
        assert _request(server.port, _HOSTILE_REQUEST).startswith(b"HTTP/1.1 200 ")
        assert _request(server.port, b"HEAD /x HTTP/1.0\r\n\r\n").startswith(b"HTTP/1.1 200 ")
    finally:
        server.stop()
    data = log.read_bytes()
    assert data.isascii()  # everything past ASCII is \u-escaped
    lines = data.decode().splitlines()
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert first["method"] == "GET" and first["target"] == '/a"b\\c' and first["protocol"] == "HTTP/1.1"
    assert first["user_agent"] == _HOSTILE_UA.decode("latin-1")
    assert first["referer"] == _HOSTILE_REF.decode("latin-1")
    assert first["status"] == 200 and first["bytes"] > 0
    assert first["remote_addr"] == "127.0.0.1"
    assert first["time"].endswith("Z") and first["duration_s"] >= 0
    assert second["referer"] is None and second["user_agent"] is None
    assert second["method"] == "HEAD" and second["bytes"] == 0 and second["protocol"] == "HTTP/1.0"


# -- live: requests the server rejects itself --------------------------------------------

_REJECTED = re.compile(r'^127\.0\.0\.1 - - \[[^]]+\] "-" (\d{3}) (\d+|-) "-" "-" \d+\.\d{6} ([!-~]{1,128})$')


def _reply_id(reply: bytes) -> str:
    match = re.search(rb"\r\nX-Request-ID: ([!-~]+)\r\n", reply)
    assert match is not None, reply
    return match.group(1).decode()


def _body_size(reply: bytes) -> int:
    return len(reply.partition(b"\r\n\r\n")[2])


@pytest.fixture(scope="module")
def strict_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Path]]:
    log = tmp_path_factory.mktemp("strict") / "access.log"
    server = start_server(
        "tests.apps.factories:create_app()",
        "--access-log", str(log),
        "--header-timeout", "0.5",
        "--max-header-bytes", "1024",
        "--max-body-size", "100",
    )
    try:
        yield server.port, log
    finally:
        server.stop()


def _logged(log: Path, request_id: str) -> str:
    assert _wait_for(lambda: request_id in log.read_text(), timeout=5.0), log.read_text()
    [line] = [line for line in log.read_text().splitlines() if line.endswith(" " + request_id)]
    return line


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        pytest.param(b"GET / HTTP/1.1\r\nHost: a\r\nbad header\r\n\r\n", 400, id="malformed-400"),
        pytest.param(b"GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + b"b" * 2000 + b"\r\n\r\n", 431, id="header-too-large-431"),
        pytest.param(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1000\r\n\r\n", 413, id="body-too-large-413"),
    ],
)
def test_serve_a_rejected_request_gets_a_line(strict_server: tuple[int, Path], raw: bytes, status: int) -> None:
    port, log = strict_server
    reply = _request(port, raw)
    assert reply.startswith(b"HTTP/1.1 %d " % status)
    request_id = _reply_id(reply)
    match = _REJECTED.match(_logged(log, request_id))
    assert match is not None
    assert match.group(1) == str(status)
    assert match.group(2) == str(_body_size(reply))
    assert match.group(3) == request_id


def test_serve_a_head_that_times_out_gets_a_408_line(strict_server: tuple[int, Path]) -> None:
    port, log = strict_server
    started = time.monotonic()
    reply = _request(port, b"GET /slow HTTP/1.1\r\nHost: a\r\n")  # never ends its head
    assert reply.startswith(b"HTTP/1.1 408 ")
    assert time.monotonic() - started < 5
    match = _REJECTED.match(_logged(log, _reply_id(reply)))
    assert match is not None and match.group(1) == "408"


def test_serve_a_rejected_pipelined_request_gets_a_line_after_the_served_one(strict_server: tuple[int, Path]) -> None:
    port, log = strict_server
    reply = _request(port, b"GET /ok HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nbad\r\n\r\n")
    assert reply.startswith(b"HTTP/1.1 200 ") and b"HTTP/1.1 400 " in reply
    ids = re.findall(rb"\r\nX-Request-ID: ([!-~]+)\r\n", reply)
    assert len(ids) == 2
    assert '"GET /ok HTTP/1.1" 200 ' in _logged(log, ids[0].decode())
    assert _REJECTED.match(_logged(log, ids[1].decode()))


def test_serve_json_lines_of_rejected_requests_parse(tmp_path: Path) -> None:
    log = tmp_path / "access.jsonl"
    server = start_server(
        "tests.apps.factories:create_app()", "--access-log", str(log), "--access-log-format", "json"
    )
    try:
        reply = _request(server.port, b"GET / HTTP/1.1\r\nHost: a\r\nbad header\r\n\r\n")
    finally:
        server.stop()
    [entry] = [json.loads(line) for line in log.read_text().splitlines()]
    assert entry["status"] == 400 and entry["bytes"] == _body_size(reply)
    assert entry["method"] is None and entry["target"] is None and entry["protocol"] is None
    assert entry["request_id"] == _reply_id(reply)
    assert entry["remote_addr"] == "127.0.0.1"


@pytest.mark.parametrize("bytes_sent", [0, 12])
@pytest.mark.parametrize(
    "duration", [0.25, 0.0, 0.000123, 0.0001234, 0.004095, 0.004096, 0.9999994, 0.9999996, 1.5, 61.0000014, 12345.678901]
)
def test_the_direct_line_and_the_logging_line_are_the_same_text(
    bytes_sent: int, duration: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    # With sluice's handler alone a line is built directly; with a handler
    # of the user's it goes through logging: the text must be the same.
    import logging
    from types import SimpleNamespace

    from sluice.server.accesslog import AccessLog

    request = SimpleNamespace(
        method="GET",
        target='/a"b\\c\x01\xe9',
        http_version="1.1",
        line='GET /a"b\\c\x01\xe9 HTTP/1.1',
        headers=[("host", "x"), ("user-agent", 'UA "x"\n\\'), ("referer", "r\x7fq")],
        user_agent='UA "x"\n\\',
        referer="r\x7fq",
    )
    import time

    from sluice.server import accesslog

    monkeypatch.setattr(time, "time", lambda: 1_700_000_000.5)  # one second: no refresh mid-test
    # The request started at 0.0 and ends at ``duration`` (exactly, no float subtraction error).
    monkeypatch.setattr(accesslog, "_monotonic", lambda: duration)
    log = AccessLog(False)
    log._refresh(duration)
    own = LineHandler(io.StringIO(), interval=60.0)
    log._own = own  # as when sluice's own handler is alone
    log.write(("10.0.0.1", 5), request, 200, bytes_sent, 0.0, "id-1")  # type: ignore[arg-type]
    records: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record.getMessage())

    logger = logging.getLogger("sluice.access")
    monkeypatch.setattr(logger, "disabled", False)
    level = logger.level
    logger.setLevel(logging.INFO)
    keep = Keep()
    logger.addHandler(keep)
    try:
        log._add = log._own = None
        log.write(("10.0.0.1", 5), request, 200, bytes_sent, 0.0, "id-1")  # type: ignore[arg-type]
    finally:
        logger.removeHandler(keep)
        logger.setLevel(level)
    own.close()
    assert own.stream.getvalue() == records[0] + "\n"
    assert records[0].endswith(f" {duration:.6f} id-1")
    assert '"GET /a\\"b\\\\c\\x01\\xE9 HTTP/1.1"' in records[0]
    assert '"UA \\"x\\"\\x0A\\\\"' in records[0] and '"r\\x7Fq"' in records[0]


def test_durations_from_whole_microseconds_read_as_percent_6f() -> None:
    from sluice.server.accesslog import SHORT_MICROS
    from sluice.server.accesslog import _seconds
    from sluice.server.accesslog import _short_duration_table

    short = _short_duration_table()
    assert len(short) == SHORT_MICROS
    for micros in range(SHORT_MICROS):
        assert short[micros] == _seconds(micros) + " " == f"{micros / 1e6:.6f} "
    for micros in [*range(999_000, 1_001_001), 59_999_999, 3_600_000_001, 86_400_123_456]:
        assert _seconds(micros) == f"{micros // 1_000_000}.{micros % 1_000_000:06d}"
