"""Tests of the CGI gateway: the CGI response a web server reads from the script.

Most tests run the script as a web server would: a subprocess with the CGI
meta-variables in its environment and the request body on stdin, with
warnings turned into errors. They check the exact stdout bytes (the CGI
response), stderr (the web server's error log) and the exit status. Cases
that differ only in the app's contract breach call :func:`run` in-process
with the environment and streams passed in.
"""

from __future__ import annotations

import io
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from sluice.server.cgi import run
from sluice.server.wsgi import WSGIApp
from tests.apps import cgi_apps
from tests.apps.cgi_apps import CLOSE_MARKER

ROOT = Path(__file__).resolve().parents[2]
_RUN = (
    "import sys\n"
    "from sluice.server.cgi import run\n"
    "from tests.apps import cgi_apps\n"
    "status = run(getattr(cgi_apps, sys.argv[1]))\n"
)
_SCRIPT = _RUN + "sys.exit(status)\n"
# Shows what the gateway left on stdin for whoever reads it next.
_SCRIPT_SHOWING_STDIN = (
    _RUN + "sys.stderr.write('unread stdin: %r' % sys.stdin.buffer.read())\n" + "sys.exit(status)\n"
)
CGI_VARIABLES = {
    "GATEWAY_INTERFACE": "CGI/1.1",
    "REQUEST_METHOD": "GET",
    "SCRIPT_NAME": "/cgi-bin/app.cgi",
    "PATH_INFO": "/",
    "QUERY_STRING": "",
    "SERVER_NAME": "example.com",
    "SERVER_PORT": "80",
    "SERVER_PROTOCOL": "HTTP/1.1",
    "SERVER_SOFTWARE": "test-server/1.0",
    "REMOTE_ADDR": "192.0.2.7",
    "HTTP_HOST": "example.com",
}
INTERNAL_ERROR = (
    b"Status: 500 Internal Server Error\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"Content-Length: 22\r\n"
    b"\r\n"
    b"Internal Server Error\n"
)


@dataclass
class CGIResult:
    """What the web server sees of one CGI run."""

    status: int
    stdout: bytes
    stderr: str


def run_cgi(app: str, body: bytes = b"", script: str = _SCRIPT, **variables: str | bytes | None) -> CGIResult:
    """Run ``tests.apps.cgi_apps.<app>`` as a CGI script; a variable set to None is unset."""
    env: dict[str, str | bytes] = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), **CGI_VARIABLES}
    for name, value in variables.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    proc = subprocess.run(
        [sys.executable, "-W", "error", "-c", script, app],
        input=body,
        capture_output=True,
        cwd=ROOT,
        env=env,
        timeout=30,
    )
    return CGIResult(proc.returncode, proc.stdout, proc.stderr.decode("utf-8", "backslashreplace"))


def run_inline(app: WSGIApp, body: bytes = b"", **variables: str | None) -> CGIResult:
    """Call :func:`run` in this process with the environment and streams passed in."""
    environ = {**CGI_VARIABLES, **variables}
    stdout = io.BytesIO()
    stderr = io.StringIO()
    status = run(
        app,
        environ={k: v for k, v in environ.items() if v is not None},
        stdin=io.BytesIO(body),
        stdout=stdout,
        stderr=stderr,
    )
    return CGIResult(status, stdout.getvalue(), stderr.getvalue())


def text_response(body: bytes, status: str = "200 OK") -> bytes:
    head = f"Status: {status}\r\nContent-Type: text/plain\r\nContent-Length: {len(body)}\r\n\r\n"
    return head.encode() + body


def report_lines(result: CGIResult) -> list[bytes]:
    _, _, body = result.stdout.partition(b"\r\n\r\n")
    return body.split(b"\n")


def test_run_get_with_query_passes_cgi_variables() -> None:
    result = run_cgi(
        "validated_environ_report", PATH_INFO="/items/42", QUERY_STRING="a=1&b=%20x", HTTP_X_CUSTOM="yes"
    )
    body = (
        b"REQUEST_METHOD=GET\n"
        b"SCRIPT_NAME=/cgi-bin/app.cgi\n"
        b"PATH_INFO=/items/42\n"
        b"QUERY_STRING=a=1&b=%20x\n"
        b"CONTENT_TYPE absent\n"
        b"CONTENT_LENGTH absent\n"
        b"SERVER_NAME=example.com\n"
        b"SERVER_PORT=80\n"
        b"SERVER_PROTOCOL=HTTP/1.1\n"
        b"HTTP_HOST=example.com\n"
        b"HTTP_X_CUSTOM=yes\n"
        b"HTTP_CONTENT_LENGTH absent\n"
        b"HTTP_CONTENT_TYPE absent\n"
        b"wsgi.version=(1, 0)\n"
        b"wsgi.url_scheme=http\n"
        b"wsgi.multithread=False\n"
        b"wsgi.multiprocess=True\n"
        b"wsgi.run_once=True\n"
        b"wsgi.input_terminated=True"
    )
    assert result.stdout == text_response(body)
    assert result.stderr == ""
    assert result.status == 0


def test_run_post_body_echoed() -> None:
    result = run_cgi(
        "validated_echo",
        body=b"name=caf\xc3\xa9&x=1",
        REQUEST_METHOD="POST",
        CONTENT_LENGTH="15",
        CONTENT_TYPE="application/x-www-form-urlencoded",
    )
    assert result.stdout == text_response(b"name=caf\xc3\xa9&x=1")
    assert result.stderr == ""
    assert result.status == 0


@pytest.mark.parametrize(
    ("mode", "echoed"),
    [
        pytest.param("", b"one\ntwo\nthr", id="read-size"),
        pytest.param("read", b"one\ntwo\nthr", id="read-all"),
        pytest.param("lines", b"one\n|two\n|thr", id="iteration"),
        pytest.param("readlines", b"one\n|two\n|thr", id="readlines"),
        pytest.param("readlines-hint", b"one\n", id="readlines-hint"),
        pytest.param("readline-limit", b"one|\n|two\n", id="readline-size"),
    ],
)
def test_run_stdin_longer_than_content_length_rest_left_unread(mode: str, echoed: bytes) -> None:
    result = run_cgi(
        "echo",
        body=b"one\ntwo\nthree\nEXTRA\n",
        script=_SCRIPT_SHOWING_STDIN,
        REQUEST_METHOD="POST",
        QUERY_STRING=mode,
        CONTENT_LENGTH="11",
    )
    assert result.stdout == text_response(echoed)
    unread = b"one\ntwo\nthree\nEXTRA\n"[len(echoed.replace(b"|", b"")) :]
    assert result.stderr == f"unread stdin: {unread!r}"
    assert result.status == 0


@pytest.mark.parametrize(
    "content_length",
    [
        pytest.param(None, id="missing"),
        pytest.param("", id="empty"),
        pytest.param("abc", id="not-a-number"),
        pytest.param("-5", id="negative"),
        pytest.param(" 5", id="space"),
        pytest.param("\u0665", id="non-ascii-digit"),
    ],
)
def test_run_missing_or_invalid_content_length_empty_body(content_length: str | None) -> None:
    result = run_cgi(
        "validated_echo",
        body=b"hello",
        script=_SCRIPT_SHOWING_STDIN,
        REQUEST_METHOD="POST",
        CONTENT_LENGTH=content_length,
    )
    assert result.stdout == text_response(b"")
    assert result.stderr == "unread stdin: b'hello'"
    assert result.status == 0


def test_run_stdin_shorter_than_content_length_body_cut_short() -> None:
    result = run_cgi("validated_echo", body=b"abc", REQUEST_METHOD="POST", CONTENT_LENGTH="10")
    assert result.stdout == text_response(b"abc")
    assert result.status == 0


def test_run_content_length_leading_zeros_normalised() -> None:
    result = run_cgi("validated_environ_report", body=b"abc", REQUEST_METHOD="POST", CONTENT_LENGTH="003")
    assert b"CONTENT_LENGTH=3" in report_lines(result)


@pytest.mark.parametrize(
    ("lc_all", "utf8_mode"),
    [
        pytest.param(None, None, id="utf-8"),
        pytest.param("C", "0", id="ascii"),
    ],
)
def test_run_non_ascii_request_variables_latin1_bytes_as_str(
    lc_all: str | None, utf8_mode: str | None
) -> None:
    result = run_cgi(
        "validated_environ_report",
        PATH_INFO=b"/caf\xc3\xa9/\xff",
        QUERY_STRING=b"q=\xc3\xa9",
        SCRIPT_NAME=b"/cgi-bin/\xe9.cgi",
        HTTP_X_CUSTOM=b"\xe9t\xe9",
        LC_ALL=lc_all,
        PYTHONUTF8=utf8_mode,
    )
    lines = report_lines(result)
    assert b"PATH_INFO=/caf\xc3\xa9/\xff" in lines
    assert b"QUERY_STRING=q=\xc3\xa9" in lines
    assert b"SCRIPT_NAME=/cgi-bin/\xe9.cgi" in lines
    assert b"HTTP_X_CUSTOM=\xe9t\xe9" in lines
    assert result.stderr == ""
    assert result.status == 0


def test_run_redirect_variables_transcoded() -> None:
    def app(environ: cgi_apps.Environ, start_response: cgi_apps.StartResponse) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [environ["REDIRECT_PATH_INFO"].encode("latin-1")]

    result = run_inline(app, REDIRECT_PATH_INFO="/caf\xe9")
    assert result.stdout == b"Status: 200 OK\r\nContent-Type: text/plain\r\n\r\n/caf\xc3\xa9"


def test_run_server_variables_not_transcoded() -> None:
    def app(environ: cgi_apps.Environ, start_response: cgi_apps.StartResponse) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [environ["DOCUMENT_ROOT"].encode("utf-8")]

    result = run_inline(app, DOCUMENT_ROOT="/srv/caf\xe9")
    assert result.stdout == b"Status: 200 OK\r\nContent-Type: text/plain\r\n\r\n/srv/caf\xc3\xa9"


@pytest.mark.parametrize(
    ("https", "scheme"),
    [
        pytest.param("on", b"https", id="on"),
        pytest.param("ON", b"https", id="on-upper"),
        pytest.param("1", b"https", id="one"),
        pytest.param("yes", b"https", id="yes"),
        pytest.param("off", b"http", id="off"),
        pytest.param(None, b"http", id="unset"),
    ],
)
def test_run_https_variable_sets_url_scheme(https: str | None, scheme: bytes) -> None:
    result = run_inline(cgi_apps.validated_environ_report, HTTPS=https)
    assert b"wsgi.url_scheme=" + scheme in report_lines(result)


def test_run_http_content_length_variables_dropped() -> None:
    result = run_inline(
        cgi_apps.validated_environ_report,
        CONTENT_LENGTH="0",
        HTTP_CONTENT_LENGTH="0",
        HTTP_CONTENT_TYPE="text/plain",
    )
    lines = report_lines(result)
    assert b"HTTP_CONTENT_LENGTH absent" in lines
    assert b"HTTP_CONTENT_TYPE absent" in lines
    assert result.status == 0


def test_run_path_variables_missing_defaulted_to_empty() -> None:
    result = run_inline(cgi_apps.environ_report, PATH_INFO=None, QUERY_STRING=None, SCRIPT_NAME=None)
    lines = report_lines(result)
    assert [b"SCRIPT_NAME=", b"PATH_INFO=", b"QUERY_STRING="] == lines[1:4]


def test_run_required_variable_missing_500() -> None:
    result = run_cgi("environ_report", REQUEST_METHOD=None, SERVER_PORT=None)
    assert result.stdout == INTERNAL_ERROR
    assert "CGI meta-variables REQUEST_METHOD, SERVER_PORT are not set" in result.stderr
    assert result.status == 1


def test_run_app_error_before_headers_500_and_traceback() -> None:
    result = run_cgi("crash_before_headers", PATH_INFO="/boom")
    assert result.stdout == INTERNAL_ERROR
    assert result.stderr.startswith(
        "sluice.cgi: error while handling GET /cgi-bin/app.cgi/boom (answering 500 Internal Server Error):\n"
        "Traceback (most recent call last):\n"
    )
    assert result.stderr.endswith("RuntimeError: boom before the head\n")
    assert result.status == 1


def test_run_app_error_after_headers_body_cut_short() -> None:
    result = run_cgi("crash_after_headers")
    assert result.stdout == b"Status: 200 OK\r\nContent-Type: text/plain\r\n\r\npartial"
    assert "(the response is cut short):\nTraceback (most recent call last):\n" in result.stderr
    assert "RuntimeError: boom after the head\n" in result.stderr
    assert result.stderr.count(CLOSE_MARKER) == 1
    assert result.status == 1


def test_run_error_after_empty_chunk_500() -> None:
    result = run_cgi("crash_after_empty_chunk")
    assert result.stdout == INTERNAL_ERROR
    assert "RuntimeError: boom after the head\n" in result.stderr
    assert result.stderr.count(CLOSE_MARKER) == 1
    assert result.status == 1


def test_run_exc_info_before_headers_replaces_head() -> None:
    result = run_cgi("validated_exc_info_recovers")
    assert result.stdout == b"Status: 503 Service Unavailable\r\nContent-Type: text/plain\r\n\r\nrecovered"
    assert result.stderr == ""
    assert result.status == 0


def test_run_exc_info_after_headers_reraised() -> None:
    result = run_cgi("exc_info_after_headers")
    assert result.stdout == b"Status: 200 OK\r\nContent-Type: text/plain\r\n\r\nsent"
    assert result.stderr.endswith("ValueError: late failure\n")
    assert result.status == 1


def test_run_write_callable_body_in_order() -> None:
    result = run_cgi("validated_uses_write")
    assert result.stdout == b"Status: 200 OK\r\nContent-Type: text/plain\r\n\r\none,two,three"
    assert result.stderr == ""
    assert result.status == 0


def test_run_iterable_close_called_once() -> None:
    result = run_cgi("validated_closing")
    assert result.stdout == b"Status: 200 OK\r\nContent-Type: text/plain\r\n\r\nfirst,second"
    assert result.stderr == CLOSE_MARKER
    assert result.status == 0


def test_run_empty_body_head_sent_at_end() -> None:
    result = run_cgi("validated_empty")
    assert result.stdout == b"Status: 204 No Content\r\n\r\n"
    assert result.stderr == ""
    assert result.status == 0


def test_run_file_wrapper_body_sent(tmp_path: Path) -> None:
    data = bytes(range(256)) * 3
    path = tmp_path / "data.bin"
    path.write_bytes(data)
    result = run_cgi("validated_file_wrapper", SLUICE_TEST_FILE=str(path))
    assert result.stdout == b"Status: 200 OK\r\nContent-Type: application/octet-stream\r\n\r\n" + data
    assert result.stderr == ""
    assert result.status == 0


@pytest.mark.parametrize(
    ("method", "body"),
    [pytest.param("GET", b"hello world", id="GET"), pytest.param("HEAD", b"", id="HEAD")],
)
def test_run_declared_length_body_matches(method: str, body: bytes) -> None:
    result = run_cgi("validated_declared_length", REQUEST_METHOD=method)
    assert result.stdout == b"Status: 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n\r\n" + body
    assert result.stderr == ""
    assert result.status == 0


_LATIN1 = "(latin-1 text without control characters; encode other text, e.g. per RFC 8187)"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        pytest.param(
            "hop-by-hop",
            "hop-by-hop header 'Connection' is set by the server, not the app",
            id="hop-by-hop",
        ),
        pytest.param("crlf", "invalid value for response header 'X-Evil': 'a\\r\\nInjected: yes' " + _LATIN1, id="crlf"),
        pytest.param("nul", "invalid value for response header 'X-Evil': 'a\\x00b' " + _LATIN1, id="nul"),
        pytest.param("name", "invalid response header name 'Bad Name'", id="name"),
        pytest.param(
            "status-header",
            "a 'Status' header is not allowed; pass the status to start_response()",
            id="status-header",
        ),
        pytest.param(
            "not-latin-1",
            "invalid value for response header 'X-Name': '\u20ac' " + _LATIN1,
            id="not-latin-1",
        ),
        pytest.param("content-length", "invalid Content-Length '-1'", id="content-length"),
        pytest.param("not-tuple", "response header ['X-A', 'b'] is not a (name, value) tuple", id="not-tuple"),
        pytest.param("not-list", "response headers must be a list, not tuple", id="not-list"),
        pytest.param("status", "invalid status 'OK'; expected e.g. '200 OK'", id="status"),
        pytest.param(
            "status-crlf",
            "invalid status '200 OK\\r\\nX-Evil: yes'; expected e.g. '200 OK'",
            id="status-crlf",
        ),
    ],
)
def test_run_invalid_head_rejected_500(query: str, message: str) -> None:
    result = run_inline(cgi_apps.bad_head, QUERY_STRING=query)
    assert result.stdout == INTERNAL_ERROR
    assert f"\nsluice.errors.LocalProtocolError: {message}" in result.stderr
    assert result.status == 1


@pytest.mark.parametrize(
    ("app", "message"),
    [
        pytest.param(
            cgi_apps.no_start_response,
            "the app yielded body bytes before calling start_response()",
            id="body",
        ),
        pytest.param(
            cgi_apps.no_start_response_empty,
            "the app returned without calling start_response()",
            id="empty",
        ),
        pytest.param(
            cgi_apps.start_response_twice,
            "start_response() called a second time without exc_info",
            id="twice",
        ),
        pytest.param(cgi_apps.str_body, "the app gave str, not bytes, as body", id="str-body"),
        pytest.param(
            cgi_apps.long_first_chunk,
            "the app sent more body bytes than its Content-Length 5; the extra bytes were dropped",
            id="long-first",
        ),
    ],
)
def test_run_contract_breach_before_head_500(app: WSGIApp, message: str) -> None:
    result = run_inline(app)
    assert result.stdout == INTERNAL_ERROR
    assert f"\nsluice.errors.LocalProtocolError: {message}" in result.stderr
    assert result.status == 1


@pytest.mark.parametrize(
    "split",
    [pytest.param("", id="at-chunk-boundary"), pytest.param("mid-chunk", id="mid-chunk")],
)
def test_run_body_longer_than_content_length_truncated(split: str) -> None:
    result = run_inline(cgi_apps.long_body, QUERY_STRING=split)
    assert result.stdout == b"Status: 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\n12345"
    assert "more body bytes than its Content-Length 5; the extra bytes were dropped" in result.stderr
    assert result.stderr.count(CLOSE_MARKER) == 1
    assert result.status == 1


def test_run_body_shorter_than_content_length_exit_1() -> None:
    result = run_inline(cgi_apps.short_body)
    assert result.stdout == b"Status: 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 10\r\n\r\n12345"
    assert result.stderr.endswith(
        "\nsluice.errors.LocalProtocolError: the app sent 5 body bytes but its Content-Length is 10\n"
    )
    assert result.status == 1


def test_run_bytearray_chunk_sent_as_bytes() -> None:
    result = run_inline(cgi_apps.bytearray_body)
    assert result.stdout == b"Status: 200 OK\r\nContent-Type: text/plain\r\n\r\nmutable bytes"
    assert result.status == 0


class _BrokenPipe(io.BytesIO):
    """A stdout whose reader went away: every write fails."""

    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def write(self, data: object) -> int:
        self.writes += 1
        raise BrokenPipeError(32, "Broken pipe")


def test_run_stdout_closed_no_500_attempted() -> None:
    stdout = _BrokenPipe()
    stderr = io.StringIO()
    status = run(cgi_apps.closing, environ=CGI_VARIABLES, stdin=io.BytesIO(), stdout=stdout, stderr=stderr)
    assert stdout.writes == 1
    assert "(the response is cut short)" in stderr.getvalue()
    assert "BrokenPipeError" in stderr.getvalue()
    assert stderr.getvalue().count(CLOSE_MARKER) == 1
    assert status == 1


def test_run_stdout_closed_before_head_exit_1() -> None:
    stdout = _BrokenPipe()
    stderr = io.StringIO()
    status = run(
        cgi_apps.crash_before_headers, environ=CGI_VARIABLES, stdin=io.BytesIO(), stdout=stdout, stderr=stderr
    )
    assert stdout.writes == 1
    assert "RuntimeError: boom before the head" in stderr.getvalue()
    assert status == 1


def test_run_stderr_closed_500_still_sent() -> None:
    stdout = io.BytesIO()
    stderr = io.StringIO()
    stderr.close()
    status = run(
        cgi_apps.crash_before_headers, environ=CGI_VARIABLES, stdin=io.BytesIO(), stdout=stdout, stderr=stderr
    )
    assert stdout.getvalue() == INTERNAL_ERROR
    assert status == 1
