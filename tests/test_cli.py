"""Tests of the ``sluice`` command: app loading, exit codes, settings."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import requests

from sluice.cli import EXIT_APP_LOAD
from sluice.cli import EXIT_CONFIG
from sluice.cli import load_app
from sluice.cli import main
from sluice.errors import AppImportError
from tests.live import ROOT
from tests.live import LiveServer


def _run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "-m", "sluice", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        stdin=subprocess.DEVNULL,
    )


def test_load_app_module_attr() -> None:
    app = load_app("tests.apps.wsgi_apps:validated")
    assert callable(app)


def test_load_app_factory_call_with_literal_args() -> None:
    app = load_app("tests.apps.factories:create_app('hi')")
    seen: list[str] = []
    body = app({}, lambda status, headers: seen.append(status))
    assert list(body) == [b"hi"]
    assert seen == ["200 OK"]


@pytest.mark.parametrize(
    ("target", "message"),
    [
        pytest.param("tests.apps.nope:app", "no module named 'tests.apps.nope'", id="missing-module"),
        pytest.param("tests.apps.factories:missing", "has no attribute 'missing'", id="missing-attr"),
        pytest.param("tests.apps.factories:not_callable", "not a WSGI application", id="not-callable"),
        pytest.param("tests.apps.import_fails:app", "RuntimeError: this module fails at import time", id="import-raises"),
        pytest.param("tests.apps.factories:create_app(x)", "must be literals", id="non-literal-arg"),
        pytest.param("tests.apps.factories:1+", "invalid app target", id="syntax"),
    ],
)
def test_load_app_error_says_what_failed(target: str, message: str) -> None:
    with pytest.raises(AppImportError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_app(target)


def test_cli_import_error_exits_nonzero_with_error() -> None:
    result = _run("serve", "tests.apps.import_fails:app", "--bind", "127.0.0.1:0")
    assert result.returncode == EXIT_APP_LOAD
    assert "cannot load the app" in result.stderr
    assert "RuntimeError: this module fails at import time" in result.stderr
    assert result.stderr.count("Traceback") == 1


def test_cli_missing_module_exits_without_traceback() -> None:
    result = _run("serve", "no_such_module_xyz:app", "--bind", "127.0.0.1:0")
    assert result.returncode == EXIT_APP_LOAD
    assert "no module named 'no_such_module_xyz'" in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_current_directory_on_sys_path(tmp_path: Path, live_server: Callable[..., LiveServer]) -> None:
    (tmp_path / "localapp.py").write_text(
        "def app(environ, start_response):\n"
        "    start_response('200 OK', [('Content-Type', 'text/plain')])\n"
        "    return [b'local']\n"
    )
    srv = live_server("localapp:app", cwd=tmp_path)
    assert requests.get(srv.url, timeout=5).content == b"local"


def test_cli_factory_target_served(live_server: Callable[..., LiveServer]) -> None:
    srv = live_server("tests.apps.factories:create_app()")
    assert requests.get(srv.url, timeout=5).content == b"hello"
    assert srv.wait_for_output(r"Listening on http://127\.0\.0\.1:\d+")


def test_cli_port_zero_logs_chosen_port(live_server: Callable[..., LiveServer]) -> None:
    srv = live_server("tests.apps.factories:create_app()")
    assert srv.port > 0
    assert f"Listening on http://127.0.0.1:{srv.port}" in srv.output


def test_cli_access_log_on_by_default(live_server: Callable[..., LiveServer]) -> None:
    srv = live_server("tests.apps.factories:create_app()")
    requests.get(srv.url + "/x", timeout=5)
    srv.wait_for_output(r'"GET /x HTTP/1.1" 200 5')


def test_cli_bad_setting_exits_with_config_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "x:app", "--threads", "0"]) == EXIT_CONFIG
    assert "invalid value '0' for --threads: must be at least 1" in capsys.readouterr().err


def test_cli_bad_bind_exits_with_config_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "tests.apps.factories:create_app()", "--bind", "localhost"]) == EXIT_CONFIG
    assert "invalid --bind 'localhost'" in capsys.readouterr().err


def test_cli_bind_in_use_exits_with_config_error(capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    try:
        code = main(["serve", "tests.apps.factories:create_app()", "--bind", f"127.0.0.1:{port}"])
    finally:
        taken.close()
    assert code == EXIT_CONFIG
    assert f"cannot bind 127.0.0.1:{port}" in capsys.readouterr().err


def test_cli_config_prints_env_and_flags(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLUICE_THREADS", "7")
    monkeypatch.setenv("SLUICE_MAX_BODY_SIZE", "2m")
    assert main(["config", "--max-body-size", "1k"]) == 0
    out = capsys.readouterr().out
    assert "threads = 7" in out
    assert "max_body_size = 1024" in out
    assert "access_log = '-'" in out


def test_cli_no_command_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == EXIT_CONFIG
    assert "serve" in capsys.readouterr().err


def test_cli_python_dash_m_version() -> None:
    result = _run("--version")
    assert result.returncode == 0
    assert result.stdout.startswith("sluice ")
