"""Request ids as a client sees them: the X-Request-ID header, the access log and the app's log records."""

from __future__ import annotations

import json
import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.live import LiveServer
from tests.live import start_server

APP = "tests.apps.requestid_app:app"
GENERATED = re.compile(r"^[0-9a-f]{20}-[0-9]+$")
TRACE = "0af7651916cd43dd8448eb211c80319c"
TRACEPARENT = f"00-{TRACE}-b7ad6b7169203331-01"


class _Served:
    """A running server and its access log file."""

    def __init__(self, server: LiveServer, log: Path) -> None:
        self.server = server
        self.log = log

    def access_lines(self, count: int, timeout: float = 5.0) -> list[str]:
        """The access log's lines once there are at least ``count`` (lines are written within 0.2 s)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            lines = self.log.read_text().splitlines() if self.log.exists() else []
            if len(lines) >= count:
                return lines
            time.sleep(0.02)
        raise AssertionError(f"fewer than {count} access-log lines: {self.log.read_text()!r}")


def _serve(tmp: Path, name: str, *args: str) -> Iterator[_Served]:
    log = tmp / f"{name}.log"
    server = start_server(APP, "--access-log", str(log), *args)
    try:
        yield _Served(server, log)
    finally:
        server.stop()


@pytest.fixture(scope="module")
def trusted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_Served]:
    yield from _serve(tmp_path_factory.mktemp("trusted"), "combined")


@pytest.fixture(scope="module")
def untrusted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_Served]:
    yield from _serve(tmp_path_factory.mktemp("untrusted"), "untrusted", "--trusted-proxies", "10.0.0.0/8,192.168.0.0/16")


def _exchange(port: int, raw: bytes) -> tuple[int, dict[str, list[str]], bytes]:
    """Send one request (with ``Connection: close``) and return the status, headers and body."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(raw)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers: dict[str, list[str]] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers.setdefault(name.strip().lower(), []).append(value.strip())
    return int(lines[0].split()[1]), headers, body


def _get(port: int, path: str = "/", *headers: bytes) -> tuple[int, dict[str, list[str]], bytes]:
    extra = b"".join(h + b"\r\n" for h in headers)
    return _exchange(port, b"GET " + path.encode() + b" HTTP/1.1\r\nHost: a\r\n" + extra + b"Connection: close\r\n\r\n")


def _line_for(served: _Served, request_id: str) -> str:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        found = [line for line in served.log.read_text().splitlines() if line.endswith(" " + request_id)]
        if found:
            assert len(found) == 1
            return found[0]
        time.sleep(0.02)
    raise AssertionError(f"no access-log line ends with {request_id!r}")


# -- where the id shows -------------------------------------------------------------------


def test_request_id_is_generated_echoed_and_given_to_the_app(trusted: _Served) -> None:
    status, headers, body = _get(trusted.server.port)
    assert status == 200
    [request_id] = headers["x-request-id"]
    assert GENERATED.match(request_id)
    assert body.decode() == request_id  # environ["sluice.request_id"]
    line = _line_for(trusted, request_id)
    assert re.search(r'"GET / HTTP/1\.1" 200 \d+ "-" "-" \d+\.\d{6} ' + re.escape(request_id) + "$", line)


def test_request_id_generated_ids_differ(trusted: _Served) -> None:
    ids = {_get(trusted.server.port)[1]["x-request-id"][0] for _ in range(5)}
    assert len(ids) == 5


def test_request_id_is_in_every_log_record_of_the_request(trusted: _Served) -> None:
    # The app logs in its call, while its body is iterated and in close():
    # each record carries the id the client got back and the access log has.
    _, headers, _ = _get(trusted.server.port, "/logged", b"X-Request-ID: trace-me-42")
    assert headers["x-request-id"] == ["trace-me-42"]
    match = trusted.server.wait_for_output(r"APPLOG \S+ close /logged")
    output = trusted.server.output
    for what in ("call", "iter", "close"):
        assert f"APPLOG trace-me-42 {what} /logged\n" in output
    assert match.group(0) == "APPLOG trace-me-42 close /logged"
    assert _line_for(trusted, "trace-me-42").startswith("127.0.0.1 - - [")


def test_request_id_outside_a_request_log_records_have_none(trusted: _Served) -> None:
    _get(trusted.server.port, "/first", b"X-Request-ID: first-id")
    _get(trusted.server.port, "/second")
    trusted.server.wait_for_output(r"APPLOG \S+ close /second")
    assert "APPLOG first-id close /first" in trusted.server.output
    assert "APPLOG first-id call /second" not in trusted.server.output


def test_request_id_an_app_error_is_logged_with_the_id(trusted: _Served) -> None:
    status, headers, _ = _get(trusted.server.port, "/boom", b"X-Request-ID: boom-id-7")
    assert status == 500
    assert headers["x-request-id"] == ["boom-id-7"]
    trusted.server.wait_for_output(r"\[ERROR\] \[boom-id-7\] error while handling GET /boom")
    assert '"GET /boom HTTP/1.1" 500 ' in _line_for(trusted, "boom-id-7")


def test_request_id_the_apps_own_header_is_kept_not_doubled(trusted: _Served) -> None:
    _, headers, body = _get(trusted.server.port, "/own", b"X-Request-ID: from-the-client")
    assert headers["x-request-id"] == ["chosen-by-the-app"]
    assert body == b"from-the-client"


# -- which id: X-Request-ID, traceparent, trust -------------------------------------------


def test_request_id_a_trusted_peers_id_is_used(trusted: _Served) -> None:
    _, headers, body = _get(trusted.server.port, "/", b"X-Request-ID: a1!~" + b"x" * 124)
    assert headers["x-request-id"] == ["a1!~" + "x" * 124]  # 128 characters: the most taken
    assert body == b"a1!~" + b"x" * 124


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(b"x" * 129, id="too-long"),
        pytest.param(b"two words", id="space"),
        pytest.param(b"tab\there", id="control-byte"),
        pytest.param(b"caf\xe9", id="non-ascii"),
        pytest.param(b"", id="empty"),
    ],
)
def test_request_id_an_invalid_id_is_ignored(trusted: _Served, value: bytes) -> None:
    status, headers, body = _get(trusted.server.port, "/", b"X-Request-ID: " + value)
    assert status == 200
    [request_id] = headers["x-request-id"]
    assert GENERATED.match(request_id)
    assert body.decode() == request_id


def test_request_id_a_repeated_header_is_ignored(trusted: _Served) -> None:
    _, headers, _ = _get(trusted.server.port, "/", b"X-Request-ID: one", b"X-Request-ID: two")
    assert GENERATED.match(headers["x-request-id"][0])


def test_request_id_traceparent_gives_the_trace_id(trusted: _Served) -> None:
    _, headers, body = _get(trusted.server.port, "/", b"traceparent: " + TRACEPARENT.encode())
    assert headers["x-request-id"] == [TRACE]
    assert body.decode() == TRACE


def test_request_id_x_request_id_wins_over_traceparent(trusted: _Served) -> None:
    _, headers, _ = _get(trusted.server.port, "/", b"traceparent: " + TRACEPARENT.encode(), b"X-Request-ID: mine")
    assert headers["x-request-id"] == ["mine"]


def test_request_id_traceparent_is_used_when_the_x_request_id_is_invalid(trusted: _Served) -> None:
    _, headers, _ = _get(trusted.server.port, "/", b"X-Request-ID: no good", b"traceparent: " + TRACEPARENT.encode())
    assert headers["x-request-id"] == [TRACE]


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(f"00-{'0' * 32}-b7ad6b7169203331-01", id="zero-trace-id"),
        pytest.param(f"00-{TRACE}-{'0' * 16}-01", id="zero-parent-id"),
        pytest.param(f"00-{TRACE.upper()}-b7ad6b7169203331-01", id="uppercase"),
        pytest.param(f"ff-{TRACE}-b7ad6b7169203331-01", id="version-ff"),
        pytest.param(f"00-{TRACE}-b7ad6b7169203331-01-extra", id="version-00-with-more"),
        pytest.param(f"00-{TRACE[:-1]}-b7ad6b7169203331-01", id="short-trace-id"),
        pytest.param(f"00-{TRACE[:-1]}g-b7ad6b7169203331-01", id="not-hex"),
        pytest.param(f"00_{TRACE}-b7ad6b7169203331-01", id="wrong-separator"),
    ],
)
def test_request_id_an_invalid_traceparent_is_ignored(trusted: _Served, value: str) -> None:
    _, headers, _ = _get(trusted.server.port, "/", b"traceparent: " + value.encode())
    assert GENERATED.match(headers["x-request-id"][0])


def test_request_id_a_later_traceparent_version_is_read_as_version_00(trusted: _Served) -> None:
    _, headers, _ = _get(trusted.server.port, "/", f"traceparent: 01-{TRACE}-b7ad6b7169203331-01-later".encode())
    assert headers["x-request-id"] == [TRACE]


@pytest.mark.parametrize(
    "header",
    [
        pytest.param(b"X-Request-ID: forged-id", id="x-request-id"),
        pytest.param(b"traceparent: " + TRACEPARENT.encode(), id="traceparent"),
    ],
)
def test_request_id_an_untrusted_peers_id_is_ignored(untrusted: _Served, header: bytes) -> None:
    status, headers, body = _get(untrusted.server.port, "/", header)
    assert status == 200
    [request_id] = headers["x-request-id"]
    assert GENERATED.match(request_id)
    assert body.decode() == request_id
    assert "forged-id" not in untrusted.log.read_text()
    _line_for(untrusted, request_id)


# -- the JSON access log -------------------------------------------------------------------


def test_request_id_json_lines_carry_it(tmp_path: Path) -> None:
    log = tmp_path / "access.jsonl"
    server = start_server(APP, "--access-log", str(log), "--access-log-format", "json")
    try:
        _, headers, _ = _get(server.port, "/j", b"X-Request-ID: json-id")
        _, generated_headers, _ = _get(server.port, "/k")
    finally:
        server.stop()
    first, second = (json.loads(line) for line in log.read_text().splitlines())
    assert headers["x-request-id"] == ["json-id"]
    assert first["request_id"] == "json-id" and first["target"] == "/j" and first["status"] == 200
    assert second["request_id"] == generated_headers["x-request-id"][0]


def test_request_id_a_504_keeps_the_id_the_app_saw(tmp_path: Path) -> None:
    # The app runs past --timeout: the loop answers 504 itself, with the id
    # the app's log records carry, and logs the request's line with it.
    log = tmp_path / "access.log"
    server = start_server(APP, "--access-log", str(log), "--timeout", "1")
    try:
        started = time.monotonic()
        status, headers, _ = _get(server.port, "/sleep", b"X-Request-ID: slow-one")
        assert status == 504
        assert time.monotonic() - started < 4.5
        assert headers["x-request-id"] == ["slow-one"]
        server.wait_for_output(r"APPLOG slow-one call /sleep")
        served = _Served(server, log)
        line = _line_for(served, "slow-one")
    finally:
        server.stop()
    assert re.search(r'"GET /sleep HTTP/1\.1" 504 \d+ "-" "-" (\d+\.\d{6}) slow-one$', line)
    assert float(line.split()[-2]) >= 0.9
