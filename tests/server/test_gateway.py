"""Live tests of the PEP 3333 gateway: environ, start_response, framing, close().

The well-behaved routes run wrapped in ``wsgiref.validate`` with warnings
turned into errors; the module checks at the end that the validator never
complained (no traceback in the server's output).
"""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

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
