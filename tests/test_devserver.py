"""``sluice run``: a real development server in a project folder, edited while it serves."""

from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.live import LiveServer

pytestmark = pytest.mark.timeout(120)

APP = '''\
from sluice import App

app = App(__name__)


@app.get("/")
def index():
    return "{version}\\n"


@app.get("/boom")
def boom():
    data = {{"a": 1}}
    return data["<missing & key>"]


@app.get("/stream-early")
def stream_early():
    def body():
        raise RuntimeError("failed before the first chunk")
        yield b""

    return app.response_class(body())


@app.get("/stream-late")
def stream_late():
    def body():
        yield b"first chunk\\n"
        raise RuntimeError("failed after the first chunk")

    return app.response_class(body())
'''


def _write(path: Path, text: str) -> None:
    # Written in place and flushed, as an editor's save.
    with open(path, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())


def _get(server: LiveServer, path: str = "/", timeout: float = 10.0) -> tuple[int, bytes, dict[str, str]]:
    conn = http.client.HTTPConnection(server.host, server.port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read(), {k.lower(): v for k, v in response.getheaders()}
    finally:
        conn.close()


def _wait_for(server: LiveServer, body: bytes, path: str = "/", timeout: float = 10.0) -> tuple[int, bytes]:
    deadline = time.monotonic() + timeout
    last: tuple[int, bytes] = (0, b"")
    while time.monotonic() < deadline:
        status, got, _ = _get(server, path)
        last = (status, got)
        if body in got:
            return last
        time.sleep(0.05)
    raise AssertionError(f"{body!r} was not served within {timeout} s; last answer {last}\n{server.output}")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    _write(tmp_path / "app.py", APP.format(version="version one"))
    return tmp_path


def _run(live_server: Callable[..., LiveServer], project: Path, *args: str) -> LiveServer:
    server = live_server("app:app", *args, command="run", cwd=project)
    server.wait_for_output(r"Watching .* for changes", timeout=10)
    return server


def test_an_edit_is_served_and_no_request_fails_during_reloads(
    live_server: Callable[..., LiveServer], project: Path
) -> None:
    server = _run(live_server, project)
    assert _get(server)[1] == b"version one\n"
    failures: list[str] = []
    answers: list[bytes] = []
    stop = threading.Event()

    def client() -> None:
        # Fresh connections, as a browser's reload or curl makes them.
        deadline = time.monotonic() + 60
        while not stop.is_set() and time.monotonic() < deadline and len(answers) < 5000:
            try:
                status, body, _ = _get(server, timeout=10)
            except OSError as exc:
                failures.append(repr(exc))
                continue
            if status != 200:
                failures.append(f"{status} {body[:200]!r}")
            answers.append(body)

    threads = [threading.Thread(target=client) for _ in range(2)]
    for thread in threads:
        thread.start()
    try:
        for n in range(2, 6):
            _write(project / "app.py", APP.format(version=f"version {n}"))
            _wait_for(server, f"version {n}\n".encode())
    finally:
        stop.set()
        for thread in threads:
            thread.join(30)
    assert not failures, f"{len(failures)} request(s) failed during reloads: {failures[:5]}\n{server.output}"
    assert len(answers) > 100, len(answers)  # requests really overlapped the reloads
    assert b"version 5\n" in answers
    assert len(re.findall(r"Detected a change in app\.py: reloading", server.output)) >= 4
    # Each reload replaced the worker: a new process served the new code.
    assert len(set(re.findall(r"worker (\d+) \(generation \d+\) ready", server.output))) >= 5


def test_a_syntax_error_is_a_500_page_naming_the_file_and_line_until_fixed(
    live_server: Callable[..., LiveServer], project: Path
) -> None:
    server = _run(live_server, project)
    broken = APP.format(version="unused").replace('return "unused\\n"', 'return "unused\\n" +')
    _write(project / "app.py", broken)
    deadline = time.monotonic() + 10
    while True:
        status, body, headers = _get(server)
        if status == 500 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert status == 500, server.output
    page = body.decode()
    assert headers["content-type"] == "text/html; charset=utf-8"
    assert "SyntaxError" in page
    line = broken.splitlines().index('    return "unused\\n" +') + 1
    assert f"{project / 'app.py'}, line {line}" in page
    assert "Cannot load the app" in page
    assert "SyntaxError" in server.output and "Serving a 500 error page until the code is fixed" in server.output
    # Every path gets the page while the code is broken.
    assert _get(server, "/anything")[0] == 500
    _write(project / "app.py", APP.format(version="fixed"))
    assert _wait_for(server, b"fixed\n") == (200, b"fixed\n")


def test_an_import_error_names_the_apps_line(live_server: Callable[..., LiveServer], project: Path) -> None:
    server = _run(live_server, project)
    _write(project / "app.py", "import os\nimport no_such_module_here  # noqa\n" + APP.format(version="x"))
    deadline = time.monotonic() + 10
    while (answer := _get(server))[0] != 500 and time.monotonic() < deadline:
        time.sleep(0.05)
    page = answer[1].decode()
    assert answer[0] == 500
    assert "ModuleNotFoundError" in page and "no_such_module_here" in page
    assert f"{project / 'app.py'}, line 2" in page


def test_an_app_broken_at_start_is_served_as_the_error_page(
    live_server: Callable[..., LiveServer], project: Path
) -> None:
    _write(project / "app.py", "raise ValueError('bad settings')\n")
    server = _run(live_server, project)
    status, body, _ = _get(server)
    assert status == 500
    assert b"ValueError" in body and b"bad settings" in body
    _write(project / "app.py", APP.format(version="now it loads"))
    _wait_for(server, b"now it loads\n")
    assert server.proc.poll() is None


def test_the_debug_page_shows_the_traceback_to_loopback_clients(
    live_server: Callable[..., LiveServer], project: Path
) -> None:
    server = _run(live_server, project)
    status, body, headers = _get(server, "/boom")
    page = body.decode()
    assert status == 500
    assert headers["content-type"] == "text/html; charset=utf-8"
    assert headers["cache-control"] == "no-store"
    assert "KeyError" in page
    line = APP.splitlines().index('    return data["<missing & key>"]') + 1
    assert f"{project / 'app.py'}, line {line}, in boom" in page
    # The source line is shown, escaped; the exception's text cannot inject markup.
    assert "&lt;missing &amp; key&gt;" in page
    assert "<missing & key>" not in page
    # The server's stderr reaches the test through a pipe and a reader thread: wait for it.
    server.wait_for_output(r"Exception on GET /boom")
    server.wait_for_output(r"Traceback")
    # The server goes on serving.
    assert _get(server)[0] == 200


def test_a_body_that_fails_before_its_first_chunk_gets_the_page_after_is_cut(
    live_server: Callable[..., LiveServer], project: Path
) -> None:
    server = _run(live_server, project)
    status, body, _ = _get(server, "/stream-early")
    assert status == 500
    assert b"failed before the first chunk" in body
    # Once the head went out, the only honest signal is a cut connection.
    sock = socket.create_connection((server.host, server.port), timeout=10)
    try:
        sock.sendall(b"GET /stream-late HTTP/1.1\r\nHost: x\r\n\r\n")
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    finally:
        sock.close()
    assert data.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"first chunk" in data
    assert not data.endswith(b"0\r\n\r\n")  # no last chunk: the client sees the body is incomplete


def test_no_debug_serves_the_apps_own_500(live_server: Callable[..., LiveServer], project: Path) -> None:
    server = _run(live_server, project, "--no-debug")
    status, body, _ = _get(server, "/boom")
    assert status == 500
    assert b"Traceback" not in body and b"KeyError" not in body


def test_serve_never_shows_a_traceback_even_for_a_debug_app(
    live_server: Callable[..., LiveServer], project: Path
) -> None:
    _write(project / "app.py", APP.format(version="x") + "\napp.debug = True\n")
    server = live_server("app:app", cwd=project)
    status, body, _ = _get(server, "/boom")
    assert status == 500
    assert b"KeyError" not in body and b"Traceback" not in body and b"app.py" not in body


def test_reload_include_globs_and_ignored_files(live_server: Callable[..., LiveServer], project: Path) -> None:
    app = APP.format(version="x").replace(
        'return "x\\n"', 'return open(os.path.join(os.path.dirname(__file__), "conf", "site.toml")).read()'
    )
    _write(project / "app.py", "import os\n" + app)
    (project / "conf").mkdir()
    _write(project / "conf" / "site.toml", "one\n")
    _write(project / "notes.txt", "not watched\n")
    server = _run(live_server, project, "--reload-include", "conf/*.toml")
    assert _get(server)[1] == b"one\n"
    before = server.output.count("reloading")
    # Neither a file outside the globs nor a cache folder reloads.
    _write(project / "notes.txt", "changed\n")
    (project / "__pycache__").mkdir(exist_ok=True)
    _write(project / "__pycache__" / "x.py", "changed = 1\n")
    time.sleep(1.0)
    assert server.output.count("reloading") == before, server.output
    # A file matching the glob does.
    _write(project / "conf" / "site.toml", "two\n")
    server.wait_for_output(r"Detected a change in conf/site\.toml: reloading", timeout=10)


def test_run_listens_on_loopback_port_5000_by_default() -> None:
    from sluice.cli import RUN_HOST
    from sluice.cli import RUN_PORT
    from sluice.cli import main

    assert (RUN_HOST, RUN_PORT) == ("127.0.0.1", 5000)
    from click.testing import CliRunner

    from sluice.cli import cli

    result = CliRunner().invoke(cli, ["run", "--help"])
    assert result.exit_code == 0
    assert "127.0.0.1:5000" in result.output
    assert "--reload-include" in result.output and "--no-debug" in result.output
    assert main(["run", "--preload", "app:app"]) == 2


def test_run_is_the_same_server_files_and_keepalive(live_server: Callable[..., LiveServer], project: Path) -> None:
    (project / "static").mkdir()
    data = bytes(range(256)) * 4096
    (project / "static" / "blob.bin").write_bytes(data)
    _write(project / "app.py", "from sluice import App\napp = App(__name__)\n")
    server = _run(live_server, project)
    conn = http.client.HTTPConnection(server.host, server.port, timeout=10)
    try:
        for _ in range(2):  # one connection, kept alive
            conn.request("GET", "/static/blob.bin", headers={"Range": "bytes=10-19"})
            response = conn.getresponse()
            assert response.status == 206
            assert response.read() == data[10:20]
        conn.request("GET", "/static/blob.bin")
        response = conn.getresponse()
        assert response.status == 200
        assert response.getheader("Content-Length") == str(len(data))
        assert response.read() == data
    finally:
        conn.close()


def test_a_flask_app_runs_in_debug_mode_with_the_traceback_page(
    live_server: Callable[..., LiveServer], project: Path
) -> None:
    pytest.importorskip("flask")
    _write(
        project / "app.py",
        "from flask import Flask\napp = Flask(__name__)\n\n\n"
        "@app.get('/')\ndef index():\n    return 'debug=%s' % app.debug\n\n\n"
        "@app.get('/boom')\ndef boom():\n    raise ZeroDivisionError('flask view failed')\n",
    )
    server = _run(live_server, project)
    assert _get(server)[1] == b"debug=True"
    status, body, _ = _get(server, "/boom")
    assert status == 500
    assert b"ZeroDivisionError" in body and b"flask view failed" in body
    assert f"{project / 'app.py'}, line 12, in boom".encode() in body


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        found.update(int(p) for p in (task / "children").read_text().split())
    return found


def test_stopping_run_stops_the_watcher_and_the_worker(
    live_server: Callable[..., LiveServer], project: Path
) -> None:
    server = _run(live_server, project)
    _get(server)
    children = _children(server.proc.pid)
    assert len(children) == 2  # the watcher and the worker
    assert server.stop(signal.SIGINT) == 0
    deadline = time.monotonic() + 5
    while any(Path(f"/proc/{pid}").exists() for pid in children) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [pid for pid in children if Path(f"/proc/{pid}").exists()]


def test_run_without_an_app_or_with_a_taken_port_fails_clearly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from sluice.cli import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SLUICE_APP", raising=False)
    assert main(["run"]) == 2
    assert "no app given" in capsys.readouterr().err
    _write(tmp_path / "app.py", APP.format(version="x"))
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    try:
        assert main(["run", "app:app", "--bind", f"127.0.0.1:{taken.getsockname()[1]}"]) == 2
    finally:
        taken.close()
    assert "cannot bind" in capsys.readouterr().err


def test_run_warns_when_reachable_from_other_machines(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    import logging

    from sluice.cli import _warn_if_public
    from sluice.config import resolve

    monkeypatch.setattr(logging.getLogger("sluice"), "propagate", True)  # a CLI run may have turned it off

    _warn_if_public(resolve({"bind": ["127.0.0.1:5000", "[::1]:5000", "localhost:5000", "unix:/tmp/x.sock", "5001"]}))
    assert not caplog.records
    _warn_if_public(resolve({"bind": ["0.0.0.0:5000"]}))
    assert "reachable from other machines" in caplog.text


def test_run_takes_host_and_port_as_flask_run_does(live_server: Callable[..., LiveServer], project: Path) -> None:
    from sluice.cli import main

    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    server = live_server("app:app", "--port", str(port), bind=(), command="run", cwd=project)
    assert server.port == port and _get(server)[1] == b"version one\n"
    assert main(["run", "app:app", "--port", "1", "--bind", "127.0.0.1:2"]) == 2
