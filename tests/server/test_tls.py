"""HTTPS: --certfile/--keyfile, the loop's handshake, every body kind over TLS, slow TLS clients."""

from __future__ import annotations

import hashlib
import json
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import trustme

from sluice.server.listeners import bind
from sluice.server.worker import Timeouts
from sluice.server.worker import Worker
from sluice.server.wsgi import FileWrapper
from tests.client import RawClient
from tests.client import get
from tests.conftest import InProcess
from tests.live import LiveServer
from tests.server.test_slow_readers import BIG
from tests.server.test_slow_readers import body_of

pytestmark = pytest.mark.live

MIB = 1024 * 1024


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def cert_files(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """(certificate chain, key, CA certificate) PEM files for 127.0.0.1 and localhost."""
    folder = tmp_path_factory.mktemp("tls")
    cert = ca.issue_cert("127.0.0.1", "localhost")
    chain, key, ca_file = folder / "chain.pem", folder / "key.pem", folder / "ca.pem"
    cert.private_key_pem.write_to_path(str(key))
    chain.write_bytes(b"".join(blob.bytes() for blob in cert.cert_chain_pems))
    ca.cert_pem.write_to_path(str(ca_file))
    return chain, key, ca_file


def make_app(file_path: Path) -> Callable[..., Any]:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        path = environ["PATH_INFO"]
        if path == "/scheme":
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [environ["wsgi.url_scheme"].encode()]
        if path == "/upload":
            body = environ["wsgi.input"].read()
            start_response("200 OK", [("Content-Type", "application/json")])
            return [json.dumps({"size": len(body), "sha256": hashlib.sha256(body).hexdigest()}).encode()]
        if path == "/file":
            start_response("200 OK", [("Content-Type", "application/octet-stream")])
            return FileWrapper(open(file_path, "rb"))
        if path == "/iter":

            def chunks() -> Iterator[bytes]:
                body = body_of(BIG)
                for i in range(0, BIG, 65536):
                    yield body[i : i + 65536]

            start_response("200 OK", [("Content-Type", "application/octet-stream")])
            return chunks()
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"hello"]

    return app


@pytest.fixture
def tls_worker(
    cert_files: tuple[Path, Path, Path], tmp_path: Path, in_process_worker: Callable[..., InProcess]
) -> Callable[..., tuple[Worker, int, ssl.SSLContext]]:
    chain, key, ca_file = cert_files
    file_path = tmp_path / "big.bin"
    file_path.write_bytes(body_of(BIG))

    def factory(threads: int = 1, **kwargs: Any) -> tuple[Worker, int, ssl.SSLContext]:
        server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        server_context.load_cert_chain(chain, key)
        worker, port, _ = in_process_worker(make_app(file_path), threads=threads, ssl_context=server_context, **kwargs)
        client_context = ssl.create_default_context(cafile=str(ca_file))
        return worker, port, client_context

    return factory


def tls_client(port: int, context: ssl.SSLContext, rcvbuf: int = 0, timeout: float = 10.0) -> RawClient:
    raw = socket.socket()
    if rcvbuf:
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    raw.settimeout(timeout)
    raw.connect(("127.0.0.1", port))
    client = RawClient.__new__(RawClient)
    client.sock = context.wrap_socket(raw, server_hostname="127.0.0.1")
    client.buf = b""
    return client


def test_requests_kept_alive_and_pipelined_over_tls(tls_worker: Callable[..., Any]) -> None:
    worker, port, context = tls_worker()
    with tls_client(port, context) as c:
        assert isinstance(c.sock, ssl.SSLSocket)
        assert c.sock.version() in ("TLSv1.2", "TLSv1.3")
        assert c.request(get("/scheme")).body == b"https"
        assert c.request(get("/hello")).body == b"hello"
        c.send(get("/hello") * 3)
        assert [c.read_response().body for _ in range(3)] == [b"hello"] * 3


@pytest.mark.parametrize("path", ["/file", "/iter"])
def test_large_bodies_over_tls_arrive_whole(tls_worker: Callable[..., Any], path: str) -> None:
    worker, port, context = tls_worker()
    with tls_client(port, context) as c:
        response = c.request(get(path))
    assert response.status == 200 and response.body == body_of(BIG)


def test_an_upload_over_tls_is_received_whole_by_the_loop(tls_worker: Callable[..., Any]) -> None:
    worker, port, context = tls_worker()
    body = bytes(range(256)) * (3 * MIB // 256)  # past the 1 MiB kept in memory
    with tls_client(port, context) as c:
        c.send(f"POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body[:MIB])
        time.sleep(0.2)
        with tls_client(port, context, timeout=3) as other:
            assert other.request(get("/hello")).body == b"hello"  # the only thread is free
        c.send(body[MIB:])
        answer = json.loads(c.read_response().body)
    assert answer == {"size": len(body), "sha256": hashlib.sha256(body).hexdigest()}


@pytest.mark.parametrize("path", ["/file", "/iter"])
def test_slow_tls_readers_hold_no_thread(tls_worker: Callable[..., Any], path: str) -> None:
    worker, port, context = tls_worker()
    readers = [tls_client(port, context, rcvbuf=4096) for _ in range(3)]
    try:
        for r in readers:
            r.send(get(path))
        time.sleep(0.5)
        for _ in range(3):
            started = time.monotonic()
            with tls_client(port, context, timeout=3) as c:
                assert c.request(get("/hello")).body == b"hello"
            assert time.monotonic() - started < 2
        for r in readers:
            assert r.read_response().body == body_of(BIG)
    finally:
        for r in readers:
            r.close()


def test_plain_http_on_a_tls_port_is_closed_and_the_server_goes_on(tls_worker: Callable[..., Any]) -> None:
    worker, port, context = tls_worker()
    with RawClient("127.0.0.1", port, timeout=3) as plain:
        plain.send(get("/hello"))
        assert plain.is_closed(3)
        assert b"hello" not in plain.buf
    with tls_client(port, context) as c:
        assert c.request(get("/hello")).body == b"hello"


def test_a_client_that_never_finishes_its_handshake_is_cut_at_the_header_timeout(
    tls_worker: Callable[..., Any],
) -> None:
    worker, port, context = tls_worker(timeouts=Timeouts(header=0.5))
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        raw.sendall(b"\x16\x03\x01")  # the start of a ClientHello, then nothing
        started = time.monotonic()
        try:
            assert raw.recv(1) == b""
        except ConnectionResetError:
            pass
        assert time.monotonic() - started < 3


def test_sluice_serve_certfile_and_keyfile(
    live_server: Callable[..., LiveServer], cert_files: tuple[Path, Path, Path]
) -> None:
    chain, key, ca_file = cert_files
    server = live_server("tests.apps.wsgi_apps:validated", "--certfile", str(chain), "--keyfile", str(key))
    assert server.url.startswith("https://")
    response = requests.get(f"{server.url}/echo/x", verify=str(ca_file), timeout=5)
    assert response.status_code == 200
    assert response.json()["wsgi.url_scheme"] == "https"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--certfile", "/nonexistent/cert.pem"], "cannot load the TLS certificate and key from /nonexistent/cert.pem"),
        (["--keyfile", "/nonexistent/key.pem"], "--keyfile needs --certfile"),
    ],
)
def test_a_tls_setting_that_cannot_work_stops_the_start_with_its_reason(args: list[str], message: str) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "sluice", "serve", "tests.apps.wsgi_apps:validated", "--bind", "127.0.0.1:0", *args],
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert out.returncode != 0
    assert message in out.stderr
    assert "Traceback" not in out.stderr
