"""Live tests of file responses on a real ``sluice serve``: requests, curl --range, raw sockets, nginx.

The fixture app is ``tests/apps/files_app.py``; its files live in a
temporary directory named by ``SLUICE_TEST_FILES``.
"""

from __future__ import annotations

import gzip
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from wsgiref.simple_server import WSGIRequestHandler
from wsgiref.simple_server import make_server

import pytest
import requests

from tests.live import LiveServer
from tests.live import require_service
from tests.live import start_server
from tests.test_files import TRAVERSALS

pytestmark = pytest.mark.live

BIG = 10 * 1024 * 1024


@pytest.fixture(scope="module")
def files_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("files")
    static = root / "static"
    (static / "sub").mkdir(parents=True)
    (static / "big.bin").write_bytes(os.urandom(BIG))
    (static / "style.css").write_text("body{color:red}")
    (static / "style.css.gz").write_bytes(gzip.compress(b"body{color:red}", mtime=0))
    (static / "sub" / "page.html").write_text("<p>hi</p>")
    (static / "with space.txt").write_text("spaced name")
    (root / "secret.txt").write_text("TOP SECRET")
    (static / "link_out.txt").symlink_to(root / "secret.txt")
    (static / "linkdir").symlink_to(root)
    return root


@pytest.fixture(scope="module")
def server(files_root: Path) -> Iterator[LiveServer]:
    srv = start_server("tests.apps.files_app:app", env={"SLUICE_TEST_FILES": str(files_root)})
    yield srv
    srv.stop()
    assert "Traceback" not in srv.output, srv.output


def _big(files_root: Path) -> bytes:
    return (files_root / "static" / "big.bin").read_bytes()


def test_live_whole_file_with_requests(server: LiveServer, files_root: Path) -> None:
    response = requests.get(f"{server.url}/static/big.bin", timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Length"] == str(BIG)
    assert response.content == _big(files_root)


def test_live_big_file_sent_with_sendfile(server: LiveServer) -> None:
    # /noread serves a file whose read() raises: only sendfile(2) can send it.
    response = requests.get(f"{server.url}/noread", timeout=10)
    assert response.status_code == 200
    assert len(response.content) == BIG


def test_wsgiref_streams_file_with_read(files_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The same view on wsgiref, which reads the file: read() is called (and raises here).
    monkeypatch.setenv("SLUICE_TEST_FILES", str(files_root))
    from tests.apps import files_app

    monkeypatch.setattr(files_app, "ROOT", str(files_root))

    class Quiet(WSGIRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

    httpd = make_server("127.0.0.1", 0, files_app.app, handler_class=Quiet)
    thread = threading.Thread(target=httpd.handle_request, daemon=True)
    thread.start()
    try:
        with pytest.raises(requests.RequestException):
            response = requests.get(f"http://127.0.0.1:{httpd.server_port}/noread", timeout=10)
            response.raise_for_status()
            if len(response.content) != BIG:
                raise requests.RequestException("short body")
    finally:
        thread.join(10)
        httpd.server_close()


def test_live_ranges_with_requests(server: LiveServer, files_root: Path) -> None:
    data = _big(files_root)
    single = requests.get(f"{server.url}/static/big.bin", headers={"Range": "bytes=100-199"}, timeout=10)
    assert (single.status_code, single.content) == (206, data[100:200])
    assert single.headers["Content-Range"] == f"bytes 100-199/{BIG}"
    suffix = requests.get(f"{server.url}/static/big.bin", headers={"Range": "bytes=-10"}, timeout=10)
    assert suffix.content == data[-10:]
    unsatisfiable = requests.get(f"{server.url}/static/big.bin", headers={"Range": f"bytes={BIG}-"}, timeout=10)
    assert unsatisfiable.status_code == 416
    assert unsatisfiable.headers["Content-Range"] == f"bytes */{BIG}"


def test_live_multipart_ranges(server: LiveServer, files_root: Path) -> None:
    data = _big(files_root)
    response = requests.get(f"{server.url}/static/big.bin", headers={"Range": "bytes=0-9,5000000-5000009"}, timeout=10)
    assert response.status_code == 206
    boundary = response.headers["Content-Type"].partition("boundary=")[2]
    assert response.content.startswith(f"--{boundary}\r\n".encode())
    assert data[0:10] in response.content and data[5000000:5000010] in response.content
    assert response.content.endswith(f"--{boundary}--\r\n".encode())
    assert int(response.headers["Content-Length"]) == len(response.content)


def test_live_conditional(server: LiveServer) -> None:
    first = requests.get(f"{server.url}/static/style.css", timeout=10)
    again = requests.get(f"{server.url}/static/style.css", headers={"If-None-Match": first.headers["ETag"]}, timeout=10)
    assert again.status_code == 304 and again.content == b""
    assert again.headers["ETag"] == first.headers["ETag"]
    failed = requests.get(f"{server.url}/static/style.css", headers={"If-Match": '"nope"'}, timeout=10)
    assert failed.status_code == 412


def test_live_keep_alive_after_file_and_304(server: LiveServer) -> None:
    with requests.Session() as session:
        tag = session.get(f"{server.url}/static/style.css", timeout=10).headers["ETag"]
        for _ in range(3):
            assert session.get(f"{server.url}/static/big.bin", headers={"Range": "bytes=0-1,10-11"}, timeout=10).status_code == 206
            assert session.get(f"{server.url}/static/style.css", headers={"If-None-Match": tag}, timeout=10).status_code == 304
            assert session.head(f"{server.url}/static/big.bin", timeout=10).headers["Content-Length"] == str(BIG)


def test_live_precompressed(server: LiveServer) -> None:
    response = requests.get(f"{server.url}/static/style.css", headers={"Accept-Encoding": "gzip"}, stream=True, timeout=10)
    assert response.headers["Content-Encoding"] == "gzip"
    assert response.headers["Vary"] == "Accept-Encoding"
    assert response.raw.read(decode_content=False) == gzip.compress(b"body{color:red}", mtime=0)


def test_live_attachment_name(server: LiveServer) -> None:
    response = requests.head(f"{server.url}/attachment", timeout=10)
    assert response.headers["Content-Disposition"] == (
        "attachment; filename=\"resume 2026.bin\"; filename*=UTF-8''r%C3%A9sum%C3%A9%202026.bin"
    )


def _curl(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["curl", "-s", "--max-time", "10", *args], capture_output=True, timeout=20, check=False)


def test_live_curl_range(server: LiveServer, files_root: Path) -> None:
    require_service(shutil.which("curl") is not None, "curl is not installed")
    data = _big(files_root)
    result = _curl("--range", "1000-1999", "-w", "%{http_code}", f"{server.url}/static/big.bin")
    assert result.stdout == data[1000:2000] + b"206"
    result = _curl("--range", "0-3,8-11", "-i", f"{server.url}/static/big.bin")
    assert b"HTTP/1.1 206 PARTIAL CONTENT" in result.stdout
    assert b"multipart/byteranges; boundary=" in result.stdout


@pytest.mark.parametrize("path", TRAVERSALS)
def test_live_traversal_refused_curl(server: LiveServer, path: str) -> None:
    require_service(shutil.which("curl") is not None, "curl is not installed")
    for prefix in ("/static/", "/files/"):
        result = _curl("--path-as-is", "-w", "\n%{http_code}", f"{server.url}{prefix}{path}")
        body, _, code = result.stdout.rpartition(b"\n")
        assert b"SECRET" not in body
        assert code == (b"400" if b"%c0" in path.encode() else b"404"), (prefix, path, code)


@pytest.mark.parametrize(
    "target",
    [
        b"/static/../secret.txt",
        b"/static/sub/../../secret.txt",
        b"/static/..\\secret.txt",
        b"/static/link_out.txt",
        b"/static/linkdir/secret.txt",
        b"/static/C:\\secret.txt",
        b"/static/%2e%2e%2fsecret.txt",
    ],
)
def test_live_traversal_refused_raw_socket(server: LiveServer, target: bytes) -> None:
    with socket.create_connection((server.host, server.port), timeout=10) as sock:
        sock.sendall(b"GET " + target + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    status = data.split(b"\r\n", 1)[0]
    assert status in (b"HTTP/1.1 404 NOT FOUND", b"HTTP/1.1 400 Bad Request"), status
    assert b"SECRET" not in data


# -- behind nginx ----------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def nginx_front(tmp_path: Path, files_root: Path) -> Iterator[tuple[str, LiveServer]]:
    nginx = shutil.which("nginx") or (os.path.exists("/usr/sbin/nginx") and "/usr/sbin/nginx") or None
    require_service(bool(nginx), "nginx is not installed (Debian package nginx)")
    assert isinstance(nginx, str)
    backend = start_server(
        "tests.apps.files_app:app",
        env={
            "SLUICE_TEST_FILES": str(files_root),
            "SLUICE_TEST_XSENDFILE": "X-Accel-Redirect",
            "SLUICE_TEST_ACCEL_PREFIX": "/_files/",
        },
    )
    port = _free_port()
    user = "user root;\n" if os.geteuid() == 0 else ""
    conf = tmp_path / "nginx.conf"
    conf.write_text(
        f"{user}daemon off;\nworker_processes 1;\npid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\n"
        "events { worker_connections 64; }\n"
        "http {\n"
        f"  access_log off;\n  client_body_temp_path {tmp_path}/body;\n  proxy_temp_path {tmp_path}/proxy;\n"
        f"  fastcgi_temp_path {tmp_path}/fcgi;\n  uwsgi_temp_path {tmp_path}/uwsgi;\n  scgi_temp_path {tmp_path}/scgi;\n"
        "  sendfile on;\n"
        f"  server {{\n    listen 127.0.0.1:{port};\n"
        f"    location / {{ proxy_pass http://127.0.0.1:{backend.port}; }}\n"
        "    location /_files/ { internal; alias /; }\n  }\n}\n"
    )
    proc = subprocess.Popen([nginx, "-c", str(conf), "-p", str(tmp_path)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None:
                    raise RuntimeError(f"nginx exited: {proc.stderr.read() if proc.stderr else b''!r}") from None
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}", backend
    finally:
        proc.send_signal(signal.SIGQUIT)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        if proc.stderr is not None:
            proc.stderr.close()
        backend.stop()


def test_nginx_x_accel_redirect_serves_file(nginx_front: tuple[str, LiveServer], files_root: Path) -> None:
    url, backend = nginx_front
    direct = requests.get(f"{backend.url}/static/big.bin", timeout=10)
    assert direct.content == b""
    assert direct.headers["X-Accel-Redirect"] == "/_files" + str(files_root / "static" / "big.bin")
    response = requests.get(f"{url}/static/big.bin", timeout=10)
    assert response.status_code == 200
    assert response.content == _big(files_root)
    assert "X-Accel-Redirect" not in response.headers
    ranged = requests.get(f"{url}/static/big.bin", headers={"Range": "bytes=10-19"}, timeout=10)
    assert (ranged.status_code, ranged.content) == (206, _big(files_root)[10:20])


def test_nginx_x_accel_redirect_quoted_name(nginx_front: tuple[str, LiveServer]) -> None:
    url, _ = nginx_front
    response = requests.get(f"{url}/files/with%20space.txt", timeout=10)
    assert (response.status_code, response.content) == (200, b"spaced name")
