"""Uploads over a live ``sluice serve``: 100-continue and limits, malformed bodies, a 1 GiB upload's memory."""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.live import LiveServer
from tests.live import start_server
from tests.test_app_uploads import MALFORMED

pytestmark = pytest.mark.live

TARGET = "tests.apps.uploads_app:app"
MIB = 1024 * 1024
BOUNDARY = "liveBoundary42"
CONTENT_TYPE = f"multipart/form-data; boundary={BOUNDARY}"


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    """One server for the module's tests that need no settings of their own (170 tests)."""
    started = start_server(TARGET, "--threads", "2")
    yield started
    started.stop()


def _connect(server: LiveServer) -> socket.socket:
    sock = socket.create_connection((server.host, server.port), timeout=10)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def _read_response(sock: socket.socket) -> tuple[bytes, bytes]:
    """Read one response with a Content-Length body; return (head, body)."""
    data = b""
    deadline = time.monotonic() + 10
    while b"\r\n\r\n" not in data:
        if time.monotonic() > deadline:
            raise AssertionError(f"no response head within 10 s: {data!r}")
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError(f"connection closed before a response head: {data!r}")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:"))
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError("connection closed inside the response body")
        body += chunk
    return head, body[:length]


def _is_closed(sock: socket.socket, timeout: float = 5.0) -> bool:
    """True when the server closes the connection (EOF or reset) within ``timeout``; unread input is discarded."""
    sock.settimeout(timeout)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if not sock.recv(65536):
                return True
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False
    return False


def _multipart_head(filename: str = "a.bin") -> bytes:
    return (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="f"; filename="{filename}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()


TAIL = f"\r\n--{BOUNDARY}--\r\n".encode()


# -- Expect: 100-continue and MAX_CONTENT_LENGTH ---------------------------------


def test_expect_continue_too_large_content_length_413_without_100(server: LiveServer) -> None:
    sock = _connect(server)
    with sock:
        sock.sendall(
            f"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: {CONTENT_TYPE}\r\n"
            f"Content-Length: {2 * MIB}\r\nExpect: 100-continue\r\n\r\n".encode()
        )
        head, body = _read_response(sock)
        assert head.startswith(b"HTTP/1.1 413 "), head
        assert b"100 Continue" not in head
        assert b"the limit is 1048576 (MAX_CONTENT_LENGTH)" in body
        assert b"X-Body-Bytes-Read: 0" in head
        # RFC 9110 §10.1.1: the body was never asked for; the server says it
        # closes the connection (it cannot know whether the client will send
        # the body anyway) and closes it.
        assert b"Connection: close" in head
        assert _is_closed(sock)


def test_expect_continue_acceptable_body_gets_100_then_200(server: LiveServer) -> None:
    payload = _multipart_head() + b"z" * 1000 + TAIL
    sock = _connect(server)
    with sock:
        sock.sendall(
            f"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: {CONTENT_TYPE}\r\n"
            f"Content-Length: {len(payload)}\r\nExpect: 100-continue\r\n\r\n".encode()
        )
        sock.settimeout(10)
        interim = sock.recv(25)
        assert interim == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(payload)
        head, body = _read_response(sock)
        assert head.startswith(b"HTTP/1.1 200 ")
        assert b'"size":1000' in body


def _send_in_background(sock: socket.socket, data: bytes) -> threading.Thread:
    def send() -> None:
        try:
            sock.sendall(data)
        except OSError:
            pass  # the server may close before it took every byte

    thread = threading.Thread(target=send, daemon=True)
    thread.start()
    return thread


def _assert_connection_kept(sock: socket.socket) -> None:
    sock.sendall(b"POST /ignore HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
    head, body = _read_response(sock)
    assert head.startswith(b"HTTP/1.1 200 ") and body == b"not reading the body"


def test_too_large_body_received_before_the_app_413_connection_kept(live_server: Callable[..., LiveServer]) -> None:
    # Bodies up to 1 MiB are received by the worker before the app runs.
    server = live_server(TARGET, env={"SLUICE_TEST_MAX_CONTENT_LENGTH": "100000"})
    payload = _multipart_head() + b"z" * 200_000 + TAIL
    sock = _connect(server)
    with sock:
        request = f"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: {CONTENT_TYPE}\r\nContent-Length: {len(payload)}\r\n\r\n"
        sock.sendall(request.encode() + payload)
        head, body = _read_response(sock)
        assert head.startswith(b"HTTP/1.1 413 ")
        assert b"the limit is 100000 (MAX_CONTENT_LENGTH)" in body
        assert b"Connection: close" not in head
        _assert_connection_kept(sock)


def test_chunked_too_large_rest_drained_connection_kept(server: LiveServer) -> None:
    # The app stops at 1 MiB + 1 byte; the gateway drains an unread rest of up to 1 MiB.
    payload = _multipart_head() + b"z" * (MIB + MIB // 2) + TAIL
    sock = _connect(server)
    with sock:
        request = f"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: {CONTENT_TYPE}\r\nTransfer-Encoding: chunked\r\n\r\n"
        sender = _send_in_background(sock, request.encode() + _chunked(payload, 65536))
        head, body = _read_response(sock)
        sender.join(10)
        assert head.startswith(b"HTTP/1.1 413 ")
        assert b"X-Body-Bytes-Read: 1048577" in head
        _assert_connection_kept(sock)


def test_too_large_body_far_over_413_then_closed(server: LiveServer) -> None:
    # Over 1 MiB left unread: the gateway closes rather than drain it (RFC 9112 §9.6 lingering close).
    payload = _multipart_head() + b"z" * (8 * MIB) + TAIL
    sock = _connect(server)
    with sock:
        request = f"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: {CONTENT_TYPE}\r\nContent-Length: {len(payload)}\r\n\r\n"
        _send_in_background(sock, request.encode() + payload)
        head, body = _read_response(sock)
        assert head.startswith(b"HTTP/1.1 413 ")
        assert b"(MAX_CONTENT_LENGTH)" in body
        assert _is_closed(sock)


def test_chunked_too_large_413_stops_reading_at_the_limit(server: LiveServer) -> None:
    def body() -> Iterator[bytes]:
        yield _multipart_head()
        for _ in range(64):
            yield b"c" * (256 * 1024)  # 16 MiB in all, never all sent
        yield TAIL

    response = requests.post(f"{server.url}/echo", data=body(), headers={"Content-Type": CONTENT_TYPE}, timeout=30)
    assert response.status_code == 413
    assert "larger than 1048576 bytes (MAX_CONTENT_LENGTH)" in response.text
    assert int(response.headers["X-Body-Bytes-Read"]) == MIB + 1


def test_chunked_upload_parsed(server: LiveServer) -> None:
    content = bytes(range(256)) * 2000

    def body() -> Iterator[bytes]:
        yield _multipart_head("c.bin") + content[:1000]
        yield content[1000:]
        yield TAIL[:5]
        yield TAIL[5:]

    response = requests.post(f"{server.url}/echo", data=body(), headers={"Content-Type": CONTENT_TYPE}, timeout=30)
    assert response.status_code == 200
    upload = response.json()["files"]["f"][0]
    assert (upload["filename"], upload["size"], upload["sha256"]) == ("c.bin", len(content), hashlib.sha256(content).hexdigest())


def test_requests_files_upload(server: LiveServer) -> None:
    response = requests.post(
        f"{server.url}/echo",
        data={"title": "holiday"},
        files=[("f", ("a.txt", b"one", "text/plain")), ("f", ("b.txt", b"two" * 1000, "text/plain"))],
        timeout=10,
    )
    body = response.json()
    assert body["form"] == {"title": ["holiday"]}
    assert [(f["filename"], f["size"]) for f in body["files"]["f"]] == [("a.txt", 3), ("b.txt", 3000)]


# -- malformed bodies -----------------------------------------------------------


@pytest.mark.parametrize(("body", "content_type", "message"), MALFORMED)
def test_malformed_body_400_over_requests(server: LiveServer, body: bytes, content_type: str, message: str) -> None:
    response = requests.post(f"{server.url}/echo", data=body, headers={"Content-Type": content_type}, timeout=10)
    assert response.status_code == 400
    assert message in response.text.replace("&#x27;", "'")


def _chunked(body: bytes, step: int) -> bytes:
    out = b""
    for start in range(0, len(body), step):
        piece = body[start : start + step]
        out += f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    return out + b"0\r\n\r\n"


@pytest.mark.parametrize(("body", "content_type", "message"), MALFORMED)
@pytest.mark.parametrize("framing", ["content-length", "chunked"])
@pytest.mark.parametrize("step", [1, 7, 1 << 20], ids=["bytewise", "seven", "whole"])
def test_malformed_body_400_over_raw_socket_in_pieces(
    server: LiveServer, body: bytes, content_type: str, message: str, framing: str, step: int
) -> None:
    if step == 1 and len(body) > 200:
        body_step = 97  # the 9 KB header block: byte by byte would take minutes
    else:
        body_step = step
    sock = _connect(server)
    with sock:
        if framing == "chunked":
            head = f"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: {content_type}\r\nTransfer-Encoding: chunked\r\n\r\n"
            wire = _chunked(body, body_step)
        else:
            head = f"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n"
            wire = body
        sock.sendall(head.encode("latin-1"))
        try:
            for start in range(0, len(wire), body_step):
                sock.sendall(wire[start : start + body_step])
                if body_step < 100:
                    time.sleep(0.0005)  # lets each piece arrive as its own read
        except OSError:
            pass  # the server may answer and close before the last piece
        response_head, response_body = _read_response(sock)
    assert response_head.startswith(b"HTTP/1.1 400 "), response_head
    assert message in response_body.decode("utf-8", "replace").replace("&#x27;", "'")


# -- a 1 GiB upload keeps the server's memory flat --------------------------------


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_one_gib_upload_saved_with_server_rss_under_64_mib(live_server: Callable[..., LiveServer], tmp_path: Path) -> None:
    # The upload is on disk three times at its peak: the server's body file
    # and the parser's spool file (in the temporary directory), and the
    # saved copy.
    free = shutil.disk_usage(tempfile.gettempdir()).free
    if free < 4 * 1024 * MIB:
        message = f"a 1 GiB upload needs 4 GiB free in {tempfile.gettempdir()}; {free / MIB:.0f} MiB are"
        if os.environ.get("SLUICE_REQUIRE_SERVICES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    server = live_server(
        TARGET,
        "--threads", "2",
        "--max-body-size", "2g",
        env={"SLUICE_TEST_MAX_CONTENT_LENGTH": "none", "SLUICE_TEST_UPLOAD_DIR": str(tmp_path)},
    )
    pid = server.proc.pid
    samples: list[int] = []
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            samples.append(_rss_kib(pid))
            done.wait(0.02)

    block = bytes(range(256)) * 4096  # 1 MiB without CR-LF-dash runs

    def body() -> Iterator[bytes]:
        yield _multipart_head("big.bin")
        for _ in range(1024):
            yield block
        yield TAIL

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.monotonic()
    try:
        response = requests.post(f"{server.url}/save", data=body(), headers={"Content-Type": CONTENT_TYPE}, timeout=300)
    finally:
        done.set()
        sampler.join(5)
    elapsed = time.monotonic() - started
    assert response.status_code == 200, f"{response.text}\nserver output:\n{server.output[-4000:]}"
    assert response.json() == {"saved_as": "big.bin", "size": 1024 * MIB}
    assert len(samples) > 10
    peak = max(samples)
    print(f"1 GiB upload: {elapsed:.1f} s, server RSS {samples[0] / 1024:.1f} MiB before, peak {peak / 1024:.1f} MiB")
    assert peak < 64 * 1024, f"server RSS peaked at {peak / 1024:.1f} MiB"


# -- bodies that stall, stop or break framing while the app reads them ------------


@pytest.fixture(scope="module")
def strict_server() -> Iterator[LiveServer]:
    """No app body limit, a 1 s body timeout and a 2 MiB server body limit.

    ``/echo`` has its body received whole by the server first; the view of
    ``/echo-stream`` reads it as it arrives, so its read fails in the app.
    """
    started = start_server(
        TARGET, "--body-timeout", "1", "--max-body-size", "2m", env={"SLUICE_TEST_MAX_CONTENT_LENGTH": "none"}
    )
    yield started
    started.stop()


def _read_all(sock: socket.socket, timeout: float = 10.0) -> bytes:
    sock.settimeout(timeout)
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except ConnectionResetError:
        pass
    return data


@pytest.mark.parametrize(
    ("path", "message"),
    [("/echo", b"the request was not received in time"), ("/echo-stream", b"sent no more body bytes in time")],
)
def test_stalled_body_408_and_closed(strict_server: LiveServer, path: str, message: bytes) -> None:
    sock = _connect(strict_server)
    with sock:
        sock.sendall(
            f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: {CONTENT_TYPE}\r\nContent-Length: {MIB + 100_000}\r\n\r\n".encode()
            + _multipart_head() + b"z" * 50
        )
        started = time.monotonic()
        data = _read_all(sock)
    assert data.startswith(b"HTTP/1.1 408 "), data[:200]
    assert message in data
    assert time.monotonic() - started < 8  # answered, then closed: no hang
    assert "Traceback" not in strict_server.output


@pytest.mark.parametrize("path", ["/echo", "/echo-stream"])
def test_client_closing_mid_body_400(strict_server: LiveServer, path: str) -> None:
    sock = _connect(strict_server)
    with sock:
        sock.sendall(
            f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: {CONTENT_TYPE}\r\nContent-Length: {MIB + 100_000}\r\n\r\n".encode()
            + _multipart_head() + b"z" * 50
        )
        sock.shutdown(socket.SHUT_WR)
        data = _read_all(sock)
    assert data.startswith(b"HTTP/1.1 400 "), data[:200]
    assert b"body bytes missing" in data


@pytest.mark.parametrize("path", ["/echo", "/echo-stream"])
def test_chunked_over_the_server_body_limit_413(strict_server: LiveServer, path: str) -> None:
    def body() -> Iterator[bytes]:
        yield _multipart_head()
        for _ in range(12):
            yield b"c" * (256 * 1024)  # 3 MiB, over --max-body-size 2m
        yield TAIL

    response = requests.post(f"{strict_server.url}{path}", data=body(), headers={"Content-Type": CONTENT_TYPE}, timeout=30)
    assert response.status_code == 413
    assert "larger than 2097152 bytes" in response.text


@pytest.mark.parametrize(
    ("path", "message"),
    [("/echo", b"invalid chunk size line 'zz-not-hex'"), ("/echo-stream", b"The request body is malformed")],
)
def test_broken_chunk_framing_after_the_buffered_part_400(strict_server: LiveServer, path: str, message: bytes) -> None:
    payload = _multipart_head() + b"z" * (MIB + MIB // 4)
    sock = _connect(strict_server)
    with sock:
        head = f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: {CONTENT_TYPE}\r\nTransfer-Encoding: chunked\r\n\r\n"
        wire = _chunked(payload, 65536)[: -len(b"0\r\n\r\n")] + b"zz-not-hex\r\n"
        _send_in_background(sock, head.encode() + wire)
        data = _read_all(sock)
    assert data.startswith(b"HTTP/1.1 400 "), data[:200]
    assert message in data
    assert "Traceback" not in strict_server.output
