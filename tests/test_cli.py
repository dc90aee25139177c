"""Tests of the ``sluice`` command: app loading, exit codes, settings."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from collections.abc import Iterator
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


def test_serve_help_states_the_defaults_serve_uses() -> None:
    # The command line logs access to stderr by default; its help said "off".
    result = _run("serve", "--help")
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    assert "[env SLUICE_ACCESS_LOG; default -]" in text
    assert "[env SLUICE_THREADS; default 8]" in text


def test_cli_python_dash_m_version() -> None:
    result = _run("--version")
    assert result.returncode == 0
    assert result.stdout.startswith("sluice ")


# -- --app discovery (Flask's rules) ------------------------------------------------------

_HEADER = "from tests.apps.commands_app import App\n"


@pytest.fixture
def module_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str, str], str]]:
    """Write ``source`` as a uniquely named module importable from the current directory."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    written: list[str] = []

    def write(stem: str, source: str) -> str:
        name = f"{stem}_{tmp_path.name.replace('-', '_')}"
        (tmp_path / f"{name}.py").write_text(_HEADER + source)
        written.append(name)
        return name

    yield write
    for name in written:
        sys.modules.pop(name, None)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        pytest.param("app = App('by-app')\nother = App('other')\n", "by-app", id="attribute-app"),
        pytest.param("application = App('by-application')\nx = App('x')\n", "by-application", id="attribute-application"),
        pytest.param("site = App('single')\n", "single", id="single-instance"),
        pytest.param("def create_app(): return App('created')\n", "created", id="create-app"),
        pytest.param("def make_app(name='made'): return App(name)\n", "made", id="make-app-defaults"),
    ],
)
def test_load_app_discovers_app(module_dir: Callable[[str, str], str], source: str, expected: str) -> None:
    name = module_dir("disc", source)
    assert load_app(name).import_name == expected


def test_load_app_explicit_factory_name_is_called(module_dir: Callable[[str, str], str]) -> None:
    name = module_dir("fact", "def build(): return App('built')\n")
    assert load_app(f"{name}:build").import_name == "built"


def test_load_app_wsgi_function_is_not_called_as_factory() -> None:
    from tests.apps import wsgi_apps

    # validated is lint_app(*args, **kwargs): a WSGI app, though callable without arguments.
    assert load_app("tests.apps.wsgi_apps:validated") is wsgi_apps.validated


@pytest.mark.parametrize(
    ("source", "message"),
    [
        pytest.param("a = App('a')\nb = App('b')\n", r"holds several apps \('{m}:a', '{m}:b'\); pass one of them", id="several"),
        pytest.param(
            "def create_app(config): return App('c')\n",
            r"found factory 'create_app' in module '{m}', but it needs arguments",
            id="factory-needs-args",
        ),
        pytest.param(
            "def create_app(): raise ValueError('bad config')\n",
            r"calling 'create_app\(\)' failed: ValueError: bad config",
            id="factory-raises",
        ),
        pytest.param(
            "x = 1\n",
            r"no app found in module '{m}' \(tried attributes 'app' and 'application', a single App instance, "
            r"factories 'create_app' and 'make_app'\)",
            id="nothing",
        ),
    ],
)
def test_load_app_discovery_errors_name_what_was_tried(
    module_dir: Callable[[str, str], str], source: str, message: str
) -> None:
    name = module_dir("bad", source)
    with pytest.raises(AppImportError, match=message.format(m=name)):
        load_app(name)


def test_cli_factory_error_shows_user_traceback_and_exits_3(
    module_dir: Callable[[str, str], str], capsys: pytest.CaptureFixture[str]
) -> None:
    name = module_dir("raises", "def create_app(): raise ValueError('bad config')\n")
    assert main(["--app", name, "routes"]) == EXIT_APP_LOAD
    err = capsys.readouterr().err
    assert "Traceback" in err
    assert "ValueError: bad config" in err
    assert err.rstrip().endswith("Error: cannot load the app: calling 'create_app()' failed: ValueError: bad config")


def test_cli_discovers_app_py_in_current_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SLUICE_APP", raising=False)
    monkeypatch.delitem(sys.modules, "app", raising=False)
    (tmp_path / "app.py").write_text(_HEADER + "site = App('found-in-cwd', static_folder=None)\n")
    try:
        assert main(["routes"]) == 0
    finally:
        sys.modules.pop("app", None)
    assert capsys.readouterr().out == "No routes were registered.\n"


def test_cli_serve_takes_app_option(capsys: pytest.CaptureFixture[str]) -> None:
    # The bind error comes after the app loaded: the app came from --app.
    assert main(["--app", "tests.apps.factories:create_app()", "serve", "--bind", "localhost"]) == EXIT_CONFIG
    assert "invalid --bind 'localhost'" in capsys.readouterr().err


def test_cli_serve_positional_wins_over_app_option(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--app", "tests.apps.import_fails", "serve", "tests.apps.factories:create_app()", "--bind", "localhost"])
    assert code == EXIT_CONFIG
    assert "invalid --bind 'localhost'" in capsys.readouterr().err


def test_cli_serve_without_app_is_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SLUICE_APP", raising=False)
    assert main(["serve"]) == EXIT_CONFIG
    assert "no app given: pass --app MODULE[:NAME], set SLUICE_APP" in capsys.readouterr().err


@pytest.mark.live
def test_cli_serve_app_from_environment_live() -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT), SLUICE_APP="tests.apps.factories:create_app('env')")
    proc = subprocess.Popen(
        [sys.executable, "-m", "sluice", "serve", "--bind", "127.0.0.1:0"],
        cwd=ROOT,
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stderr is not None
    try:
        line = proc.stderr.readline()
        for _ in range(50):
            if not line or "Listening on" in line:
                break
            line = proc.stderr.readline()
        url = line.split("Listening on ")[1].strip()
        assert requests.get(url, timeout=5).content == b"env"
    finally:
        proc.terminate()
        proc.wait(15)
        proc.stderr.close()


def test_cli_bad_metrics_bind_exits_with_config_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "tests.apps.metrics_app:app", "--metrics-bind", "9100"]) == EXIT_CONFIG
    assert "invalid value '9100' for --metrics-bind: give HOST:PORT or [IPV6]:PORT" in capsys.readouterr().err


def test_cli_metrics_bind_in_use_exits_with_config_error(capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    try:
        code = main(
            ["serve", "tests.apps.metrics_app:app", "--bind", "127.0.0.1:0", "--metrics-bind", f"127.0.0.1:{port}"]
        )
    finally:
        taken.close()
    assert code == EXIT_CONFIG
    assert f"--metrics-bind: cannot bind 127.0.0.1:{port}: " in capsys.readouterr().err
