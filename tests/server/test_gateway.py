"""Live tests of the PEP 3333 gateway: environ, start_response, framing, close().

The well-behaved routes run wrapped in ``wsgiref.validate`` with warnings
turned into errors; the module checks at the end that the validator never
complained (no traceback in the server's output).
"""

from __future__ import annotations

import http.client
import io
import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO
from typing import Any

import pytest
import requests

from sluice.errors import LocalProtocolError
from sluice.server.gateway import MAX_DRAIN
from sluice.server.gateway import handle_request
from sluice.server.input import InputStream
from sluice.server.protocol import Connection
from sluice.server.protocol import Request
from sluice.server.protocol.writer import CONTINUE
from sluice.server.response import Exchange
from sluice.server.wsgi import ServerInfo
from sluice.server.wsgi import make_environ
from tests.client import RawClient
from tests.client import get
from tests.live import LiveServer
from tests.live import require_service
from tests.live import start_server

pytestmark = pytest.mark.live


@pytest.fixture(scope="module")
def markers(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("markers") / "markers.txt"
    path.touch()
    return path


@pytest.fixture(scope="module")
def server(markers: Path) -> Iterator[LiveServer]:
    srv = start_server(
        "tests.apps.wsgi_apps:validated",
        "--access-log",
        "-",
        env={"PYTHONWARNINGS": "error", "SLUICE_TEST_MARKERS": str(markers)},
    )
    yield srv
    srv.stop()
    assert "Traceback" not in srv.output, srv.output
    assert "Warning" not in srv.output, srv.output


@pytest.fixture(scope="module")
def broken(markers: Path) -> Iterator[LiveServer]:
    srv = start_server("tests.apps.wsgi_apps:broken", env={"SLUICE_TEST_MARKERS": str(markers)})
    yield srv
    srv.stop()


def _echo(server: LiveServer, raw: bytes) -> dict[str, object]:
    with RawClient(server.host, server.port) as c:
        resp = c.request(raw)
    assert resp.status == 200
    result: dict[str, object] = json.loads(resp.body)
    return result


def test_environ_required_keys_present(server: LiveServer) -> None:
    info = _echo(server, get("/echo?a=1&b=%20", host=f"example.com:{server.port}"))
    assert info["REQUEST_METHOD"] == "GET"
    assert info["SCRIPT_NAME"] == ""
    assert info["PATH_INFO"] == "/echo"
    assert info["QUERY_STRING"] == "a=1&b=%20"
    assert info["SERVER_NAME"] == "example.com"
    assert info["SERVER_PORT"] == str(server.port)
    assert info["SERVER_PROTOCOL"] == "HTTP/1.1"
    assert info["REMOTE_ADDR"] == "127.0.0.1"
    assert str(info["REMOTE_PORT"]).isdigit()
    assert info["wsgi.url_scheme"] == "http"
    assert info["wsgi.multithread"] is True
    assert info["wsgi.multiprocess"] is False
    assert info["wsgi.run_once"] is False
    assert info["wsgi.input_terminated"] is True


def test_environ_path_info_percent_decoded_as_latin1(server: LiveServer) -> None:
    info = _echo(server, get("/echo/caf%C3%A9%2Fx"))
    # PEP 3333: the UTF-8 bytes of "café" appear as latin-1 characters; %2F decodes too.
    assert info["PATH_INFO"] == "/echo/caf\u00c3\u00a9/x"
    assert info["RAW_URI"] == "/echo/caf%C3%A9%2Fx"


def test_environ_repeated_headers_joined_with_comma(server: LiveServer) -> None:
    info = _echo(server, get("/echo", extra="X-Many: a\r\nX-Many: b\r\nCookie: c=1\r\nCookie: d=2\r\n"))
    headers = info["headers"]
    assert isinstance(headers, dict)
    assert headers["HTTP_X_MANY"] == "a, b"
    assert headers["HTTP_COOKIE"] == "c=1; d=2"


def test_environ_underscore_header_dropped(server: LiveServer) -> None:
    info = _echo(server, get("/echo", extra="X_Forwarded_For: 6.6.6.6\r\nX-Forwarded-For: 1.2.3.4\r\n"))
    headers = info["headers"]
    assert isinstance(headers, dict)
    assert headers["HTTP_X_FORWARDED_FOR"] == "1.2.3.4"


def test_environ_content_type_and_length_not_prefixed(server: LiveServer) -> None:
    raw = b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello"
    info = _echo(server, raw)
    assert info["CONTENT_TYPE"] == "text/plain"
    assert info["CONTENT_LENGTH"] == "5"
    assert info["body"] == "hello"
    headers = info["headers"]
    assert isinstance(headers, dict)
    assert "HTTP_CONTENT_TYPE" not in headers and "HTTP_CONTENT_LENGTH" not in headers


def test_environ_chunked_body_dechunked_without_content_length(server: LiveServer) -> None:
    raw = (
        b"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n"
    )
    info = _echo(server, raw)
    assert info["body"] == "hello world"
    assert "CONTENT_LENGTH" not in info
    headers = info["headers"]
    assert isinstance(headers, dict)
    assert "HTTP_X_TRAILER" not in headers


def test_environ_absolute_form_target_sets_host(server: LiveServer) -> None:
    info = _echo(server, b"GET http://other.example:8080/echo?q=1 HTTP/1.1\r\nHost: ignored\r\n\r\n")
    assert info["PATH_INFO"] == "/echo"
    assert info["QUERY_STRING"] == "q=1"
    assert info["SERVER_NAME"] == "other.example"
    assert info["SERVER_PORT"] == "8080"


def test_input_readline_splits_lines(server: LiveServer) -> None:
    raw = b"POST /lines HTTP/1.1\r\nHost: a\r\nContent-Length: 9\r\n\r\nab\ncd\n\nef"
    with RawClient(server.host, server.port) as c:
        resp = c.request(raw)
    assert json.loads(resp.body) == ["ab\n", "cd\n", "\n", "ef"]


def test_response_list_gets_computed_content_length(broken: LiveServer) -> None:
    # Unvalidated server: the validator hides the list behind an iterator.
    with RawClient(broken.host, broken.port) as c:
        resp = c.request(get("/list"))
    assert resp.header("Content-Length") == "3"
    assert resp.header("Transfer-Encoding") is None
    assert resp.body == b"abc"


def test_response_generator_is_chunked_on_http11(server: LiveServer) -> None:
    with RawClient(server.host, server.port) as c:
        resp = c.request(get("/stream"))
        assert resp.chunked
        assert resp.body == b"one,two,three"
        assert not c.is_closed(0.2)


def test_response_generator_close_delimited_on_http10(server: LiveServer) -> None:
    with RawClient(server.host, server.port) as c:
        resp = c.request(b"GET /stream HTTP/1.0\r\n\r\n")
        assert resp.header("Transfer-Encoding") is None
        assert resp.header("Connection") == "close"
        assert resp.body == b"one,two,three"
        assert c.is_closed()


def test_response_empty_list_has_zero_length(server: LiveServer) -> None:
    with RawClient(server.host, server.port) as c:
        resp = c.request(get("/empty"))
    assert resp.header("Content-Length") == "0"
    assert resp.body == b""


def test_response_write_callable_sends_before_iterable(server: LiveServer) -> None:
    with RawClient(server.host, server.port) as c:
        resp = c.request(get("/write"))
    assert resp.body == b"written;returned"


def test_response_date_and_server_headers_added(server: LiveServer) -> None:
    with RawClient(server.host, server.port) as c:
        resp = c.request(get("/list"))
    assert resp.header("Server") == "sluice"
    date = resp.header("Date")
    assert date is not None and date.endswith(" GMT")
    assert abs(time.mktime(time.strptime(date, "%a, %d %b %Y %H:%M:%S GMT")) - time.mktime(time.gmtime())) < 5


@pytest.mark.parametrize("code", ["204", "304"])
def test_response_no_body_status_sends_no_body(server: LiveServer, code: str) -> None:
    with RawClient(server.host, server.port) as c:
        resp = c.request(get(f"/status?{code}"))
        assert resp.status == int(code)
        assert resp.header("Transfer-Encoding") is None
        follow = c.request(get("/list"))
    assert follow.body == b"abc"


def test_response_head_request_has_no_body(server: LiveServer) -> None:
    with RawClient(server.host, server.port) as c:
        resp = c.request(b"HEAD /list HTTP/1.1\r\nHost: a\r\n\r\n", head_request=True)
        assert resp.status == 200
        follow = c.request(get("/list"))
    assert follow.body == b"abc"


def test_response_exc_info_replaces_unsent_status(server: LiveServer) -> None:
    with RawClient(server.host, server.port) as c:
        resp = c.request(get("/exc-info"))
    assert resp.status == 500
    assert resp.body == b"replaced by exc_info"


def test_file_wrapper_sends_whole_file(broken: LiveServer) -> None:
    # Unvalidated server: the validator hides the file wrapper, so no sendfile.
    expected = Path(__file__).parent.parent.joinpath("apps", "wsgi_apps.py").read_bytes()
    r = requests.get(broken.url + "/file", timeout=5)
    assert r.status_code == 200
    assert r.headers["Content-Length"] == str(len(expected))
    assert r.content == expected


def test_file_wrapper_respects_app_content_length(broken: LiveServer) -> None:
    expected = Path(__file__).parent.parent.joinpath("apps", "wsgi_apps.py").read_bytes()
    r = requests.get(broken.url + "/file?length", timeout=5)
    assert r.headers["Content-Length"] == str(len(expected))
    assert r.content == expected


def test_file_wrapper_iterated_when_validated(server: LiveServer) -> None:
    expected = Path(__file__).parent.parent.joinpath("apps", "wsgi_apps.py").read_bytes()
    r = requests.get(server.url + "/file", timeout=5)
    assert r.headers["Transfer-Encoding"] == "chunked"
    assert r.content == expected


def test_close_called_once_after_stream(server: LiveServer, markers: Path) -> None:
    with RawClient(server.host, server.port) as c:
        c.request(get("/stream?0.001"))
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline and "closed 0.001" not in markers.read_text():
        time.sleep(0.02)
    assert markers.read_text().count("closed 0.001") == 1


def test_close_called_when_client_disconnects(server: LiveServer, markers: Path) -> None:
    c = RawClient(server.host, server.port)
    c.send(get("/close-tracked?disconnect"))
    c.sock.recv(1000)
    c.sock.setsockopt(__import__("socket").SOL_SOCKET, __import__("socket").SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    c.close()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and "closed disconnect" not in markers.read_text():
        time.sleep(0.05)
    assert markers.read_text().count("closed disconnect") == 1


def test_http_client_keep_alive_reuses_connection(server: LiveServer) -> None:
    conn = http.client.HTTPConnection(server.host, server.port, timeout=5)
    for _ in range(3):
        conn.request("POST", "/echo", body=b"x" * 1000, headers={"Content-Type": "text/plain"})
        resp = conn.getresponse()
        assert resp.status == 200
        assert json.loads(resp.read())["body"] == "x" * 1000
    sock = conn.sock
    conn.request("GET", "/list")
    assert conn.getresponse().read() == b"abc"
    assert conn.sock is sock
    conn.close()


def test_requests_large_upload_streams_to_app(server: LiveServer) -> None:
    body = os.urandom(3 * 1024 * 1024)
    r = requests.post(server.url + "/echo", data=body, timeout=10)
    assert r.status_code == 200
    assert r.json()["body"].encode("latin-1") == body


def test_requests_chunked_upload_from_generator(server: LiveServer) -> None:
    def gen() -> Iterator[bytes]:
        for i in range(50):
            yield b"%d," % i

    r = requests.post(server.url + "/echo", data=gen(), timeout=10)
    assert r.json()["body"] == "".join(f"{i}," for i in range(50))


def test_curl_expect_continue_upload(server: LiveServer, tmp_path: Path) -> None:
    import shutil

    curl = shutil.which("curl")
    require_service(curl is not None, "curl is not installed")
    assert curl is not None
    data = tmp_path / "up.bin"
    data.write_bytes(b"z" * 2_000_000)
    out = subprocess.run(
        [curl, "-sS", "-v", "--data-binary", f"@{data}", "-H", "Expect: 100-continue", server.url + "/echo"],
        capture_output=True,
        timeout=20,
    )
    assert out.returncode == 0, out.stderr
    assert b"HTTP/1.1 100 Continue" in out.stderr
    assert json.loads(out.stdout)["body"] == "z" * 2_000_000


def test_expect_continue_not_sent_when_body_ignored(server: LiveServer) -> None:
    with RawClient(server.host, server.port) as c:
        c.send(b"POST /ignore-body HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
        resp = c.read_response()
        assert resp.status == 200
        assert resp.body == b"ignored"
        # The client never sent the body: the server cannot reuse the connection.
        assert c.is_closed()


def test_expect_continue_sent_on_first_read(server: LiveServer) -> None:
    with RawClient(server.host, server.port) as c:
        c.send(b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
        interim = c.read_response()
        assert interim.status == 100
        c.send(b"hello")
        resp = c.read_response()
        assert json.loads(resp.body)["body"] == "hello"


def test_unread_body_drained_and_connection_kept(server: LiveServer) -> None:
    with RawClient(server.host, server.port) as c:
        resp = c.request(b"POST /read-some HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n0123456789")
        assert resp.body == b"01234"
        assert c.request(get("/list")).body == b"abc"


def test_broken_raise_before_headers_gives_plain_500(broken: LiveServer) -> None:
    with RawClient(broken.host, broken.port) as c:
        resp = c.request(get("/raise-before"))
    assert resp.status == 500
    assert resp.body == b"Internal Server Error\n"
    assert b"boom" not in resp.body
    broken.wait_for_output(r"RuntimeError: boom before start_response")


def test_broken_raise_mid_stream_closes_connection(broken: LiveServer, markers: Path) -> None:
    with RawClient(broken.host, broken.port) as c:
        c.send(get("/raise-during?mid"))
        with pytest.raises(ConnectionError):
            c.read_response()
    broken.wait_for_output("failure in the middle of the body")
    assert markers.read_text().count("closed mid") == 1


def test_broken_short_body_closes_connection_and_logs(broken: LiveServer) -> None:
    with RawClient(broken.host, broken.port) as c:
        c.send(get("/short"))
        with pytest.raises(ConnectionError):
            c.read_response()
    broken.wait_for_output(r"sent 5 body bytes but its Content-Length is 10")


def test_broken_long_body_truncated_and_closed(broken: LiveServer) -> None:
    with RawClient(broken.host, broken.port) as c:
        resp = c.request(get("/long"))
        assert resp.body == b"12345"
        assert c.is_closed()
    broken.wait_for_output(r"more body bytes than its Content-Length 5")


@pytest.mark.parametrize("path", ["/hop-by-hop", "/bad-header", "/str-body", "/no-start"])
def test_broken_contract_violation_gives_500(broken: LiveServer, path: str) -> None:
    with RawClient(broken.host, broken.port) as c:
        resp = c.request(get(path))
    assert resp.status == 500
    assert b"Injected" not in resp.raw_head


def test_broken_exc_info_after_headers_closes(broken: LiveServer) -> None:
    with RawClient(broken.host, broken.port) as c:
        c.send(get("/exc-after-headers"))
        with pytest.raises(ConnectionError):
            c.read_response()
    broken.wait_for_output("ValueError: late")


# -- in-process tests with a recording transport -------------------------------




class RecordingTransport:
    """A Transport that records what the gateway sends and feeds scripted input."""

    exchange: Exchange | None = None

    def __init__(self, incoming: list[bytes] | None = None) -> None:
        self.sent = b""
        self.sendfile_calls: list[tuple[int, int]] = []
        self.incoming = list(incoming or [])
        # ("send", more) and ("sendfile",) in the order the gateway called them.
        self.calls: list[tuple[object, ...]] = []

    def send(self, data: bytes, more: bool = False, hold: bool = False) -> None:
        self.sent += data
        self.calls.append(("send", more))

    def sendfile(self, file: IO[bytes], offset: int, count: int) -> int:
        self.sendfile_calls.append((offset, count))
        self.calls.append(("sendfile",))
        file.seek(offset)
        self.sent += file.read(count)
        return count

    def recv(self) -> bytes:
        return self.incoming.pop(0) if self.incoming else b""


def _parse(raw: bytes) -> tuple[Connection, Request]:
    conn = Connection()
    conn.receive_data(raw)
    event = conn.next_event()
    assert isinstance(event, Request)
    return conn, event


def _run_app(app: Any, raw: bytes = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n", incoming: list[bytes] | None = None) -> tuple[RecordingTransport, Any]:
    conn, request = _parse(raw)
    transport = RecordingTransport(incoming)
    outcome = handle_request(app, conn, request, transport, ServerInfo(), ("127.0.0.1", 80), ("127.0.0.1", 5), True, False)
    return transport, outcome


def test_file_wrapper_real_file_uses_sendfile(tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(b"0123456789" * 1000)

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        f = open(path, "rb")
        f.seek(10)
        return environ["wsgi.file_wrapper"](f)

    transport, outcome = _run_app(app)
    assert transport.sendfile_calls == [(10, 9990)]
    assert b"Content-Length: 9990\r\n" in transport.sent
    assert transport.sent.endswith((b"0123456789" * 1000)[10:])
    assert outcome.keep_alive


def test_file_wrapper_app_length_limits_sendfile(tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(b"x" * 100)

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "40")])
        return environ["wsgi.file_wrapper"](open(path, "rb"))

    transport, _ = _run_app(app)
    assert transport.sendfile_calls == [(0, 40)]


def test_file_wrapper_head_request_sends_no_file(tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(b"x" * 100)

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return environ["wsgi.file_wrapper"](open(path, "rb"))

    transport, _ = _run_app(app, b"HEAD / HTTP/1.1\r\nHost: a\r\n\r\n")
    assert transport.sendfile_calls == []
    assert transport.sent.endswith(b"\r\n\r\n")


def test_file_wrapper_head_is_sent_with_more_before_sendfile(tmp_path: Path) -> None:
    # The head asks the transport to hold it for the file bytes (MSG_MORE on
    # sluice's server), so a small file leaves in one packet with its head;
    # a HEAD answer, with nothing after it, is sent at once.
    path = tmp_path / "f.bin"
    path.write_bytes(b"x" * 100)

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return environ["wsgi.file_wrapper"](open(path, "rb"))

    transport, _ = _run_app(app)
    assert transport.calls[:2] == [("send", True), ("sendfile",)]
    head_only, _ = _run_app(app, b"HEAD / HTTP/1.1\r\nHost: a\r\n\r\n")
    assert head_only.calls == [("send", False)]


def test_file_wrapper_non_file_iterated_in_blocks() -> None:
    def app(environ: dict[str, Any], start_response: Any) -> Any:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return environ["wsgi.file_wrapper"](io.BytesIO(b"a" * 20000), 8192)

    transport, _ = _run_app(app)
    assert transport.sendfile_calls == []
    assert b"Transfer-Encoding: chunked" in transport.sent
    assert b"\r\n2000\r\n" in transport.sent and transport.sent.endswith(b"0\r\n\r\n")


def test_environ_root_path_splits_script_name() -> None:
    _, request = _parse(b"GET /app/users/1?x HTTP/1.1\r\nHost: a\r\n\r\n")
    stream = InputStream(Connection(), RecordingTransport(), False, True)
    environ = make_environ(request, stream, ServerInfo(script_name="/app/"), None, None)
    assert (environ["SCRIPT_NAME"], environ["PATH_INFO"]) == ("/app", "/users/1")
    _, other = _parse(b"GET /application HTTP/1.1\r\nHost: a\r\n\r\n")
    environ = make_environ(other, stream, ServerInfo(script_name="/app"), None, None)
    assert (environ["SCRIPT_NAME"], environ["PATH_INFO"]) == ("/app", "/application")


def test_input_expect_continue_sent_once_on_first_read() -> None:
    conn, request = _parse(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
    transport = RecordingTransport([b"ab", b"cd"])
    stream = InputStream(conn, transport, True, False)
    assert transport.sent == b""
    assert stream.read(1) == b"a"
    assert transport.sent == CONTINUE
    assert stream.read() == b"bcd"
    assert stream.read() == b""
    assert transport.sent == CONTINUE


def test_input_readline_respects_size() -> None:
    conn, _ = _parse(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabcdef\nxyz")
    stream = InputStream(conn, RecordingTransport(), False, False)
    assert stream.readline(3) == b"abc"
    assert stream.readline() == b"def\n"
    assert stream.readlines() == [b"xyz"]


def test_input_drain_stops_at_limit() -> None:
    conn, _ = _parse(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999\r\n\r\n")
    transport = RecordingTransport([b"x" * 65536] * (MAX_DRAIN // 65536 + 4))
    stream = InputStream(conn, transport, False, False)
    assert stream.drain(MAX_DRAIN) is False


def test_input_truncated_body_is_400() -> None:
    def app(environ: dict[str, Any], start_response: Any) -> Any:
        environ["wsgi.input"].read()
        start_response("200 OK", [])
        return []

    transport, outcome = _run_app(app, b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc")
    assert transport.sent.startswith(b"HTTP/1.1 400 Bad Request\r\n")
    assert not outcome.keep_alive


@pytest.mark.parametrize(
    ("status", "headers", "message"),
    [
        pytest.param("200", [], "invalid status", id="no-reason"),
        pytest.param("99 Low", [], "invalid status", id="two-digits"),
        pytest.param(b"200 OK", [], "invalid status", id="bytes-status"),
        pytest.param("200 OK", [("X", "a\nb")], "invalid value for response header 'X'", id="lf-value"),
        pytest.param("200 OK", [("X Y", "a")], "invalid response header name", id="space-name"),
        pytest.param("200 OK", [("Transfer-Encoding", "chunked")], "hop-by-hop", id="hop-by-hop"),
        pytest.param("200 OK", [("X", 1)], "invalid value", id="int-value"),
        pytest.param("200 OK", (("X", "1"),), "must be a list", id="tuple-headers"),
        pytest.param("200 OK", [("Content-Length", "-1")], "invalid Content-Length", id="bad-length"),
    ],
)
def test_start_response_rejects_invalid(status: Any, headers: Any, message: str) -> None:
    _, request = _parse(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
    exchange = Exchange(request, RecordingTransport(), ServerInfo(), True)
    with pytest.raises(LocalProtocolError, match=message):
        exchange.start_response(status, headers)


def test_start_response_twice_without_exc_info_rejected() -> None:
    _, request = _parse(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
    exchange = Exchange(request, RecordingTransport(), ServerInfo(), True)
    exchange.start_response("200 OK", [])
    with pytest.raises(LocalProtocolError, match="second time without exc_info"):
        exchange.start_response("500 Oops", [])


def test_write_before_start_response_rejected() -> None:
    _, request = _parse(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
    exchange = Exchange(request, RecordingTransport(), ServerInfo(), True)
    with pytest.raises(LocalProtocolError, match="before start_response"):
        exchange.write(b"x")


def test_head_and_first_chunk_sent_in_one_write() -> None:
    sends: list[bytes] = []

    class Counting(RecordingTransport):
        def send(self, data: bytes, more: bool = False, hold: bool = False) -> None:
            sends.append(data)

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        start_response("200 OK", [("Content-Type", "text/plain")])
        yield b"first"
        yield b"second"

    conn, request = _parse(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
    handle_request(app, conn, request, Counting(), ServerInfo(), None, None, True, True)
    assert sends[0].startswith(b"HTTP/1.1 200 OK\r\n") and sends[0].endswith(b"\r\n5\r\nfirst\r\n")


def test_head_request_announces_length_of_buffered_body() -> None:
    def app(environ: dict[str, Any], start_response: Any) -> Any:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"abc"]

    transport, outcome = _run_app(app, b"HEAD / HTTP/1.1\r\nHost: a\r\n\r\n")
    assert b"Content-Length: 3\r\n" in transport.sent
    assert transport.sent.endswith(b"\r\n\r\n")
    assert outcome.keep_alive


def test_body_past_content_length_reported_once(caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    import logging

    # The CLI tests may have stopped sluice's loggers from propagating.
    monkeypatch.setattr(logging.getLogger("sluice"), "propagate", True)

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "5")])
        yield b"12345"
        yield b"67890"
        yield b"abcde"

    transport, outcome = _run_app(app)
    assert transport.sent.endswith(b"\r\n\r\n12345")
    assert not outcome.keep_alive
    assert caplog.text.count("more body bytes than its Content-Length 5") == 1


def _answer_without_reading(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("413 Content Too Large", [("Content-Type", "text/plain")])
    return [b"too large"]


def test_expect_continue_pending_response_says_connection_close() -> None:
    # RFC 9110 §10.1.1: a final answer sent before the body says whether the connection closes.
    transport, outcome = _run_app(
        _answer_without_reading, b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 9000000\r\nExpect: 100-continue\r\n\r\n"
    )
    assert transport.sent.startswith(b"HTTP/1.1 413 Content Too Large\r\n")
    assert CONTINUE not in transport.sent
    assert b"\r\nConnection: close\r\n" in transport.sent
    assert outcome.keep_alive is False


def test_expect_continue_sent_then_response_keeps_connection() -> None:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        body = environ["wsgi.input"].read()
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [body]

    transport, outcome = _run_app(
        app, b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n", [b"abcd"]
    )
    assert transport.sent.startswith(CONTINUE + b"HTTP/1.1 200 OK\r\n")
    assert b"Connection: close" not in transport.sent
    assert transport.sent.endswith(b"abcd")
    assert outcome.keep_alive is True


class _Parts:
    """A filelike offering ``sendfile_parts()``, as sluice's file responses do."""

    def __init__(self, file: IO[bytes], parts: list[bytes | tuple[int, int]]) -> None:
        self.file = file
        self.parts = parts
        self.closed = 0

    def sendfile_parts(self) -> tuple[IO[bytes], list[bytes | tuple[int, int]]]:
        return self.file, self.parts

    def read(self, size: int = -1) -> bytes:
        raise AssertionError("read() must not be called when the parts are sent with sendfile")

    def close(self) -> None:
        self.closed += 1
        self.file.close()


def test_file_wrapper_parts_each_range_sendfiled(tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(bytes(range(100)))
    filelike = _Parts(open(path, "rb"), [b"<a>", (10, 5), b"<b>", (90, 10), b"<end>"])

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        start_response("206 Partial Content", [("Content-Type", "multipart/byteranges; boundary=x"), ("Content-Length", "26")])
        return environ["wsgi.file_wrapper"](filelike)

    transport, outcome = _run_app(app)
    assert transport.sendfile_calls == [(10, 5), (90, 10)]
    assert transport.sent.endswith(b"<a>" + bytes(range(10, 15)) + b"<b>" + bytes(range(90, 100)) + b"<end>")
    assert b"Content-Length: 26\r\n" in transport.sent
    assert outcome.keep_alive and filelike.closed == 1


def test_file_wrapper_parts_head_sends_none(tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(b"x" * 10)
    filelike = _Parts(open(path, "rb"), [(0, 10)])

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "10")])
        return environ["wsgi.file_wrapper"](filelike)

    transport, _ = _run_app(app, b"HEAD / HTTP/1.1\r\nHost: a\r\n\r\n")
    assert transport.sendfile_calls == []
    assert transport.sent.endswith(b"\r\n\r\n") and filelike.closed == 1


def test_file_wrapper_parts_shrunk_file_closes_connection(tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(b"x" * 10)
    filelike = _Parts(open(path, "rb"), [(0, 20)])

    class Short(RecordingTransport):
        def sendfile(self, file: IO[bytes], offset: int, count: int) -> int:
            self.sendfile_calls.append((offset, count))
            return 10

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "20")])
        return environ["wsgi.file_wrapper"](filelike)

    conn, request = _parse(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
    transport = Short()
    outcome = handle_request(app, conn, request, transport, ServerInfo(), ("127.0.0.1", 80), ("127.0.0.1", 5), True, False)
    assert not outcome.keep_alive and filelike.closed == 1


def test_file_wrapper_parts_length_mismatch_iterated(tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(b"x" * 10)

    class Readable(_Parts):
        def read(self, size: int = -1) -> bytes:
            data, self.parts = (b"abc", []) if self.parts else (b"", [])
            return data

    filelike = Readable(open(path, "rb"), [(0, 10)])

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "3")])
        return environ["wsgi.file_wrapper"](filelike)

    transport, _ = _run_app(app)
    assert transport.sendfile_calls == []
    assert transport.sent.endswith(b"\r\n\r\nabc")


def test_file_wrapper_parts_not_offered_are_read() -> None:
    # sendfile_parts() returns None for a file not known to be regular (a
    # pipe, a BytesIO): the body is read and sent, never sendfile'd.
    class NotRegular(_Parts):
        def sendfile_parts(self) -> None:  # type: ignore[override]
            return None

        def read(self, size: int = -1) -> bytes:
            data, self.parts = (b"piped", []) if self.parts else (b"", [])
            return data

    filelike = NotRegular(io.BytesIO(b""), [(0, 5)])

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "5")])
        return environ["wsgi.file_wrapper"](filelike)

    transport, outcome = _run_app(app)
    assert transport.sendfile_calls == []
    assert transport.sent.endswith(b"\r\n\r\npiped")
    assert outcome.keep_alive and filelike.closed == 1


class _ObjectTransport(RecordingTransport):
    """Records the very objects the gateway sends, to see copies."""

    def __init__(self) -> None:
        super().__init__()
        self.objects: list[bytes] = []

    def send(self, data: bytes, more: bool = False, hold: bool = False) -> None:
        self.objects.append(data)
        super().send(data, more)


def _run_with(app: Any, transport: RecordingTransport, raw: bytes = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n") -> Any:
    conn, request = _parse(raw)
    return handle_request(app, conn, request, transport, ServerInfo(), ("127.0.0.1", 80), ("127.0.0.1", 5), True, False)


@pytest.mark.parametrize("parts", [1, 2, 3])
def test_large_list_body_sent_without_copies_and_framed_by_its_length(parts: int) -> None:
    # Before: the head was joined to the whole first item (a copy of it), and
    # a list without Content-Length was chunked (a copy of every item).
    items = [bytes([65 + i]) * 300_000 for i in range(parts)]

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        return items

    transport = _ObjectTransport()
    outcome = _run_with(app, transport)
    head = transport.objects[0]
    assert head.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"Content-Length: %d\r\n" % sum(map(len, items)) in head
    assert b"Transfer-Encoding" not in head
    assert transport.calls[0] == ("send", True)
    assert all(sent is item for sent, item in zip(transport.objects[1:], items, strict=True))
    assert outcome.keep_alive and outcome.bytes_sent == sum(map(len, items))


def test_long_list_of_small_items_framed_by_its_length_not_chunked() -> None:
    items = [b"%04d" % i for i in range(100)]

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return items

    transport = _ObjectTransport()
    _run_with(app, transport)
    assert b"Content-Length: 400\r\n" in transport.sent
    assert b"Transfer-Encoding" not in transport.sent
    assert transport.sent.endswith(b"\r\n\r\n" + b"".join(items))


def test_small_list_body_still_goes_out_with_its_head_in_one_write() -> None:
    def app(environ: dict[str, Any], start_response: Any) -> Any:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ab", b"cd"]

    transport = _ObjectTransport()
    _run_with(app, transport)
    assert len(transport.objects) == 1
    assert transport.objects[0].endswith(b"Content-Length: 4\r\n" + transport.objects[0].split(b"Content-Length: 4\r\n", 1)[1])
    assert transport.objects[0].endswith(b"\r\n\r\nabcd")


def test_large_list_body_with_a_non_bytes_item_is_a_500_before_anything_is_sent() -> None:
    def app(environ: dict[str, Any], start_response: Any) -> Any:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"x" * 100_000, "text"]

    transport = _ObjectTransport()
    _run_with(app, transport)
    assert transport.sent.startswith(b"HTTP/1.1 500 ")
    assert b"x" * 1000 not in transport.sent
