"""Tests of app commands: ``app.cli``, ``bp.cli``, ``sluice --app``, ``routes``, ``shell``, the CLI runner."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import pytest

from sluice.cli import EXIT_APP_LOAD
from sluice.cli import EXIT_CONFIG
from sluice.cli import main
from sluice.cli import with_appcontext
from sluice.ctx import current_app
from sluice import App
from sluice import Blueprint
from sluice.ctx import g
from sluice.ctx import has_app_context
from tests.apps import commands_app
from tests.live import ROOT

APP = "tests.apps.commands_app"


@pytest.fixture(autouse=True)
def _fresh_teardowns() -> Iterator[None]:
    commands_app.teardowns.clear()
    yield
    commands_app.teardowns.clear()


def _run(*args: str, stdin: str = "", env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = dict(os.environ)
    full_env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), full_env.get("PYTHONPATH", "")) if p)
    full_env.pop("SLUICE_APP", None)
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "sluice", *args],
        cwd=ROOT,
        env=full_env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


# -- app.test_cli_runner() -----------------------------------------------------------


def test_runner_invokes_app_command_in_app_context() -> None:
    result = commands_app.app.test_cli_runner().invoke(args=["hello", "--name", "ann"])
    assert result.exit_code == 0, result.output
    assert result.output == f"hello ann from {APP}\n"
    assert commands_app.teardowns == [None]
    assert not has_app_context()


def test_runner_command_error_reaches_teardown() -> None:
    result = commands_app.app.test_cli_runner().invoke(args=["fail"])
    assert result.exit_code == 1
    assert isinstance(result.exception, RuntimeError)
    assert str(result.exception) == "boom in a command"
    assert len(commands_app.teardowns) == 1
    assert commands_app.teardowns[0] is result.exception


def test_runner_ctx_exit_is_not_an_error_for_teardown() -> None:
    result = commands_app.app.test_cli_runner().invoke(args=["exit-four"])
    assert result.exit_code == 4
    assert commands_app.teardowns == [None]


def test_runner_nested_app_group() -> None:
    result = commands_app.app.test_cli_runner().invoke(args=["user-admin", "create", "bob"])
    assert result.exit_code == 0, result.output
    assert result.output == f"created bob in {APP}\n"


def test_runner_plain_click_command_added_gets_app_context() -> None:
    result = commands_app.app.test_cli_runner().invoke(args=["plain"])
    assert result.exit_code == 0, result.output
    assert result.output == f"plain sees {APP}\n"
    assert commands_app.teardowns == [None]


def test_runner_invokes_a_command_object_with_appcontext() -> None:
    @click.command()
    @with_appcontext
    def standalone() -> None:
        g.user = "standalone"
        click.echo(f"{current_app.import_name} {g.user}")

    result = commands_app.app.test_cli_runner().invoke(standalone)
    assert result.exit_code == 0, result.output
    assert result.output == f"{APP} standalone\n"


def test_runner_passes_options_to_click_runner() -> None:
    app = App("env")

    @app.cli.command()
    def show() -> None:
        click.echo(os.environ.get("SLUICE_TEST_VALUE", "unset"))

    assert app.test_cli_runner(env={"SLUICE_TEST_VALUE": "set"}).invoke(args=["show"]).output == "set\n"


def test_runner_args_as_string() -> None:
    result = commands_app.app.test_cli_runner().invoke(args="hello --name 'a b'")
    assert result.output == f"hello a b from {APP}\n"


def test_with_appcontext_without_app_says_how_to_get_one() -> None:
    @click.command()
    @with_appcontext
    def orphan() -> None:
        click.echo("never")

    result = click.testing.CliRunner().invoke(orphan)
    assert result.exit_code == EXIT_CONFIG
    assert "no app for this command: run it as 'sluice --app MODULE COMMAND'" in result.output


def test_app_cli_command_decorator_without_parentheses() -> None:
    app = App("bare")

    @app.cli.command
    def bare() -> None:
        click.echo(current_app.import_name)

    result = app.test_cli_runner().invoke(args=["bare"])
    assert result.output == "bare\n"


def test_app_cli_command_without_appcontext() -> None:
    app = App("noctx")

    @app.cli.command(with_appcontext=False)
    def outside() -> None:
        click.echo(str(has_app_context()))

    result = app.test_cli_runner().invoke(cli=app.cli.commands["outside"])
    assert result.output == "False\n"


# -- blueprints ------------------------------------------------------------------


def test_blueprint_commands_in_group_named_for_blueprint() -> None:
    result = commands_app.app.test_cli_runner().invoke(args=["admin", "reset"])
    assert result.exit_code == 0, result.output
    assert result.output == f"reset {APP}\n"


def test_blueprint_cli_group_none_merges_commands() -> None:
    result = commands_app.app.test_cli_runner().invoke(args=["tidy"])
    assert result.output == "tidy\n"


def test_blueprint_cli_group_registration_option_renames_group() -> None:
    bp = Blueprint("bp", __name__)

    @bp.cli.command("go")
    def go() -> None:
        click.echo("went")

    app = App("renamed")
    app.register_blueprint(bp, cli_group="ops")
    assert sorted(app.cli.commands) == ["ops"]
    assert app.test_cli_runner().invoke(args=["ops", "go"]).output == "went\n"


def test_blueprint_without_commands_adds_no_group() -> None:
    assert "quiet" not in commands_app.app.cli.commands
    assert "cli" not in vars(commands_app.quiet)


# -- sluice --app, through main() --------------------------------------------------


def test_main_runs_app_command_in_app_context(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--app", APP, "hello", "--name", "cy"]) == 0
    assert capsys.readouterr().out == f"hello cy from {APP}\n"
    assert commands_app.teardowns == [None]


def test_main_short_app_option(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-A", APP, "tidy"]) == 0
    assert capsys.readouterr().out == "tidy\n"


def test_main_app_from_environment(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLUICE_APP", APP)
    assert main(["hello"]) == 0
    assert capsys.readouterr().out == f"hello world from {APP}\n"


def test_main_command_error_reaches_teardown_and_propagates() -> None:
    with pytest.raises(RuntimeError, match="boom in a command"):
        main(["--app", APP, "fail"])
    assert len(commands_app.teardowns) == 1
    assert isinstance(commands_app.teardowns[0], RuntimeError)
    assert not has_app_context()


def test_main_returns_command_exit_status() -> None:
    assert main(["--app", APP, "exit-four"]) == 4


def test_main_blueprint_and_nested_commands(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--app", APP, "admin", "reset"]) == 0
    assert main(["--app", APP, "user-admin", "create", "dee"]) == 0
    assert capsys.readouterr().out == f"reset {APP}\ncreated dee in {APP}\n"


def test_main_help_lists_app_commands(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--app", APP, "--help"]) == 0
    out = capsys.readouterr().out
    for name in ("hello", "fail", "user-admin", "admin", "tidy", "plain", "serve", "routes", "shell", "config"):
        assert re.search(rf"\n  {name}( |\n)", out), name


def test_main_help_lists_app_commands_from_environment(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLUICE_APP", APP)
    assert main(["--help"]) == 0
    assert "\n  hello " in capsys.readouterr().out


def test_main_help_with_broken_app_lists_builtins_and_says_why(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--app", "tests.apps.import_fails", "--help"]) == 0
    captured = capsys.readouterr()
    assert "\n  serve " in captured.out
    assert (
        "Error: cannot load the app: importing 'tests.apps.import_fails' failed: "
        "RuntimeError: this module fails at import time (its commands are not listed)"
    ) in captured.err
    assert "Traceback" not in captured.err


def test_main_unknown_command_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--app", APP, "nope"]) == EXIT_CONFIG
    assert "Error: No such command 'nope'.\n" in capsys.readouterr().err


def test_main_unknown_command_without_app_hints_at_app(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("SLUICE_APP", raising=False)
    monkeypatch.chdir(tmp_path)
    assert main(["nope"]) == EXIT_CONFIG
    assert "No such command 'nope'. To run an app's command, name the app with --app" in capsys.readouterr().err


def test_main_command_of_app_that_fails_to_import_exits_3(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--app", "tests.apps.import_fails", "hello"]) == EXIT_APP_LOAD
    err = capsys.readouterr().err
    assert err.count("Traceback") == 1
    assert err.rstrip().endswith(
        "Error: cannot load the app: importing 'tests.apps.import_fails' failed: "
        "RuntimeError: this module fails at import time"
    )


def test_main_command_of_missing_module_exits_3_without_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--app", "no_such_module_xyz", "hello"]) == EXIT_APP_LOAD
    err = capsys.readouterr().err
    assert "Error: cannot load the app: no module named 'no_such_module_xyz'" in err
    assert "Traceback" not in err


def test_main_app_command_on_non_sluice_app_exits_3(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--app", "tests.apps.wsgi_apps:validated", "routes"]) == EXIT_APP_LOAD
    assert (
        "Error: cannot load the app: 'tests.apps.wsgi_apps:validated' is a function, not a sluice App"
        in capsys.readouterr().err
    )


# -- routes --------------------------------------------------------------------------

_ROUTES_BY_ENDPOINT = """\
Endpoint  Methods    Rule
--------  ---------  -----------------------
about     POST       /about
index     GET        /
new_user  GET        /users/new
static    GET        /static/<path:filename>
user      GET, POST  /users/<int:user_id>
"""


def test_routes_sorted_by_endpoint(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--app", APP, "routes"]) == 0
    assert capsys.readouterr().out == _ROUTES_BY_ENDPOINT


@pytest.mark.parametrize(
    ("sort", "order"),
    [
        # The app's static route (App(static_folder="static"), the default) is listed as Flask lists it.
        pytest.param("rule", ["index", "about", "static", "user", "new_user"], id="rule"),
        pytest.param("methods", ["static", "index", "new_user", "user", "about"], id="methods"),
        # Static paths are looked up before dynamic rules, whatever the registration order.
        pytest.param("match", ["index", "about", "new_user", "static", "user"], id="match"),
    ],
)
def test_routes_sort(sort: str, order: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--app", APP, "routes", "--sort", sort]) == 0
    lines = capsys.readouterr().out.splitlines()[2:]
    assert [line.split()[0] for line in lines] == order


def test_routes_all_methods(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--app", APP, "routes", "--all-methods", "-s", "rule"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[2] == "index     GET, HEAD, OPTIONS        /"
    assert lines[5] == "user      GET, HEAD, OPTIONS, POST  /users/<int:user_id>"


def test_routes_bad_sort_is_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--app", APP, "routes", "--sort", "size"]) == EXIT_CONFIG
    assert "Invalid value for '--sort' / '-s'" in capsys.readouterr().err


def test_routes_none_registered() -> None:
    result = App("empty", static_folder=None).test_cli_runner().invoke(cli=_builtin("routes"))
    assert result.exit_code == 0, result.output
    assert result.output == "No routes were registered.\n"


def _builtin(name: str) -> click.Command:
    from sluice.cli import cli

    command = cli.commands[name]
    return command


# -- shell ---------------------------------------------------------------------------------


def test_shell_via_runner_has_app_g_and_processor_names() -> None:
    source = "g.seen = 'yes'\nprint(app.import_name, answer, g.seen)\n"
    result = commands_app.app.test_cli_runner().invoke(cli=_builtin("shell"), input=source)
    assert result.exit_code == 0, result.output
    assert f"{APP} 42 yes" in result.output
    assert commands_app.teardowns == [None]


def test_shell_runs_pythonstartup_first(tmp_path: Path) -> None:
    startup = tmp_path / "startup.py"
    startup.write_text("greeting = 'from startup'\n")
    result = commands_app.app.test_cli_runner().invoke(
        cli=_builtin("shell"), input="print(greeting)\n", env={"PYTHONSTARTUP": str(startup)}
    )
    assert "from startup" in result.output


def test_shell_subprocess_reads_stdin() -> None:
    result = _run("--app", APP, "shell", stdin="print(app.import_name, answer)\nprint(g.get('x', 'g-ok'))\n")
    assert result.returncode == 0, result.stderr
    assert f"{APP} 42\n" in result.stdout
    assert "g-ok\n" in result.stdout
    assert f"App: {APP}\nInstance: " in result.stderr


# -- python -m sluice --app, in a subprocess -----------------------------------------------


def test_subprocess_app_command_runs_teardown_after(tmp_path: Path) -> None:
    markers = tmp_path / "markers"
    result = _run("--app", APP, "hello", "--name", "eve", env={"SLUICE_TEST_MARKERS": str(markers)})
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"hello eve from {APP}\n"
    assert markers.read_text() == "teardown None g.user='eve'\n"


def test_subprocess_failing_command_shows_user_traceback(tmp_path: Path) -> None:
    markers = tmp_path / "markers"
    result = _run("--app", APP, "fail", env={"SLUICE_TEST_MARKERS": str(markers)})
    assert result.returncode == 1
    assert result.stderr.rstrip().endswith("RuntimeError: boom in a command")
    assert "commands_app.py" in result.stderr
    assert markers.read_text() == "teardown RuntimeError('boom in a command') g.user='failing'\n"


def test_subprocess_app_from_environment() -> None:
    result = _run("user-admin", "create", "fay", env={"SLUICE_APP": APP})
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"created fay in {APP}\n"


# -- cost --------------------------------------------------------------------------------------


def test_app_without_commands_does_not_import_click() -> None:
    # The fixture app imports click itself, so check a bare App.
    code = (
        "import sys\n"
        "from sluice import App\n"
        "app = App('x')\n"
        "before = 'click' in sys.modules\n"
        "app.cli\n"
        "print(before, 'click' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60, cwd=ROOT
    )
    assert out.stdout.strip() == "False True"
