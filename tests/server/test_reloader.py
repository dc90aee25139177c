"""The development server's parts: which changes reload, where the app lives, the debug pages."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sluice.server.debugpage import DebugMiddleware
from sluice.server.debugpage import LoadErrorApp
from sluice.server.debugpage import from_loopback
from sluice.server.reloader import ReloadFilter
from sluice.server.reloader import app_directory
from sluice.server.reloader import read_changes
from sluice.server.reloader import start_watcher
from sluice.server.wsgi import FileWrapper

ROOT = Path("/srv/project")


@pytest.mark.parametrize(
    ("path", "reloads"),
    [
        ("app.py", True),
        ("pkg/sub/views.py", True),
        ("templates/index.html", False),
        ("notes.txt", False),
        ("pkg/__pycache__/views.cpython-311.pyc", False),
        ("__pycache__/x.py", False),
        (".venv/lib/python3.11/site-packages/flask/app.py", False),
        ("venv/lib/x.py", False),
        ("node_modules/x/y.py", False),
        (".git/hooks/pre-commit.py", False),
        ("pkg/.#views.py", False),
        ("pkg/views.py~", False),
        ("pkg/.views.py.swp", False),
        ("pkg/views.pyc", False),
    ],
)
def test_python_files_below_the_app_reload_tool_folders_do_not(path: str, reloads: bool) -> None:
    assert ReloadFilter(ROOT)(str(ROOT / path)) is reloads


@pytest.mark.parametrize(
    ("glob", "path", "reloads"),
    [
        ("*.toml", "settings.toml", True),
        ("*.toml", "conf/deep/settings.toml", True),  # no "/": a file name in any folder
        ("conf/*.ini", "conf/site.ini", True),
        ("conf/*.ini", "conf/deep/site.ini", False),  # "*" stays in one folder
        ("conf/**/*.ini", "conf/site.ini", True),
        ("conf/**/*.ini", "conf/a/b/site.ini", True),
        ("conf/**/*.ini", "other/site.ini", False),
        ("./conf/?.ini", "conf/a.ini", True),
        ("conf/?.ini", "conf/ab.ini", False),
        ("data/[ab].csv", "data/a.csv", True),
        ("data/[!ab].csv", "data/a.csv", False),
        ("data/[!ab].csv", "data/c.csv", True),
        ("templates/**", "templates/x/y.html", True),
        ("*.html", "__pycache__/x.html", False),  # ignored folders stay ignored
    ],
)
def test_reload_include_globs_match_relative_paths(glob: str, path: str, reloads: bool) -> None:
    assert ReloadFilter(ROOT, [glob])(str(ROOT / path)) is reloads


def test_paths_outside_the_app_and_bad_globs() -> None:
    assert ReloadFilter(ROOT)("/elsewhere/app.py") is False
    assert ReloadFilter(ROOT)(str(ROOT)) is False
    with pytest.raises(ValueError, match="relative to the app's directory"):
        ReloadFilter(ROOT, ["/etc/*.conf"])
    with pytest.raises(ValueError):
        ReloadFilter(ROOT, [" "])
    assert ReloadFilter(ROOT, ["a/*.ini", "*.toml"]).describe() == "*.py and a/*.ini, *.toml"


def test_app_directory_is_found_without_importing(tmp_path: Path) -> None:
    (tmp_path / "mod_devserver_probe.py").write_text("raise SystemExit('imported!')\n")
    pkg = tmp_path / "pkg_devserver_probe"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("raise SystemExit('imported!')\n")
    (pkg / "wsgi.py").write_text("")
    here = str(tmp_path)
    assert app_directory("mod_devserver_probe:app", here) == tmp_path.resolve()
    assert app_directory("pkg_devserver_probe.wsgi:create_app()", here) == tmp_path.resolve()
    assert app_directory(None, here) == tmp_path.resolve()
    assert app_directory("no_such_module_anywhere", here) == tmp_path.resolve()
    # An installed package: its own folder, not all of site-packages.
    import _pytest

    assert app_directory("_pytest.main:x", here) == Path(_pytest.__file__).resolve().parent


def test_the_watcher_reports_each_change_and_stops_with_its_master(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("a = 1\n")
    (tmp_path / "sub").mkdir()
    pid, pipe = start_watcher(ReloadFilter(tmp_path.resolve(), ["*.cfg"]))
    try:
        time.sleep(0.5)  # the watch is set up
        (tmp_path / "app.py").write_text("a = 2\n")
        (tmp_path / "ignored.txt").write_text("x\n")
        deadline = time.monotonic() + 10
        seen: list[str] = []
        while "app.py" not in seen and time.monotonic() < deadline:
            seen += read_changes(pipe) or []
            time.sleep(0.02)
        assert "app.py" in seen and "ignored.txt" not in seen
        (tmp_path / "sub" / "x.cfg").write_text("x\n")
        while "sub/x.cfg" not in seen and time.monotonic() < deadline:
            seen += read_changes(pipe) or []
            time.sleep(0.02)
        assert "sub/x.cfg" in seen
    finally:
        os.kill(pid, signal.SIGTERM)
        _, status = os.waitpid(pid, 0)
        os.close(pipe)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGTERM


# -- the debug pages -----------------------------------------------------------------------


class _Start:
    def __init__(self) -> None:
        self.calls: list[tuple[str, list[tuple[str, str]], Any]] = []

    def __call__(self, status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        self.calls.append((status, headers, exc_info))
        return lambda data: None


def _environ(peer: str) -> dict[str, Any]:
    return {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/p",
        "QUERY_STRING": "q=<1>",
        "SCRIPT_NAME": "",
        "REMOTE_ADDR": peer,
        "wsgi.file_wrapper": FileWrapper,
    }


def _failing(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    raise LookupError("<b>secret</b>")


@pytest.mark.parametrize(
    ("peer", "local"),
    [("127.0.0.1", True), ("127.9.9.9", True), ("::1", True), ("::ffff:127.0.0.1", True), ("fe80::1%lo", False),
     ("10.0.0.1", False), ("::ffff:10.0.0.1", False), ("2001:db8::1", False), ("", False), ("unix", False)],
)
def test_only_loopback_peers_are_local(peer: str, local: bool) -> None:
    assert from_loopback({"REMOTE_ADDR": peer}) is local


def test_a_remote_peer_gets_a_plain_500_and_a_local_one_the_page(caplog: pytest.LogCaptureFixture) -> None:
    app = DebugMiddleware(_failing)
    start = _Start()
    body = b"".join(app(_environ("10.1.2.3"), start))
    assert start.calls[0][0] == "500 Internal Server Error"
    assert b"secret" not in body and b"LookupError" not in body and b"Traceback" not in body
    start = _Start()
    page = b"".join(app(_environ("127.0.0.1"), start)).decode()
    assert start.calls[0][0] == "500 Internal Server Error"
    assert start.calls[0][2] is not None  # exc_info passed, as PEP 3333 asks for an error page
    assert "LookupError" in page and "&lt;b&gt;secret&lt;/b&gt;" in page and "<b>secret</b>" not in page
    assert "GET /p?q=&lt;1&gt;" in page
    assert "in _failing" in page
    assert caplog.text.count("Exception on GET /p?q=<1>") == 2


def test_list_and_file_bodies_pass_through(tmp_path: Path) -> None:
    listed = [b"a", b"b"]
    assert DebugMiddleware(lambda e, s: listed)(_environ("127.0.0.1"), _Start()) is listed
    path = tmp_path / "f"
    path.write_bytes(b"data")
    with open(path, "rb") as f:
        wrapper = FileWrapper(f)
        assert DebugMiddleware(lambda e, s: wrapper)(_environ("127.0.0.1"), _Start()) is wrapper


def test_an_exception_chain_is_shown_whole() -> None:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        try:
            environ["no such key"]
        except KeyError as exc:
            raise ValueError("outer") from exc
        return []

    page = b"".join(DebugMiddleware(app)(_environ("::1"), _Start())).decode()
    page = page[page.index("<main>") :]
    assert page.index("KeyError") < page.index("direct cause") < page.index("ValueError: outer")


def test_a_body_failing_before_its_first_chunk_is_replaced_and_closed() -> None:
    closed: list[bool] = []

    class Body:
        def __iter__(self) -> Iterator[bytes]:
            yield b""
            raise OSError("disk gone")

        def close(self) -> None:
            closed.append(True)

    start = _Start()
    page = b"".join(DebugMiddleware(lambda e, s: Body())(_environ("127.0.0.1"), start))
    assert b"disk gone" in page and closed == [True]


def test_a_body_failing_after_its_first_chunk_raises_on() -> None:
    def gen() -> Iterator[bytes]:
        yield b"x"
        raise OSError("late")

    body = DebugMiddleware(lambda e, s: gen())(_environ("127.0.0.1"), _Start())
    iterator = iter(body)
    assert next(iterator) == b"x"
    with pytest.raises(OSError, match="late"):
        next(iterator)


def test_the_load_error_page_names_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "broken_mod.py"
    bad.write_text("x = 1\ny = (\n")
    try:
        compile(bad.read_text(), str(bad), "exec")
    except SyntaxError as exc:
        error = RuntimeError("cannot load the app")
        error.__cause__ = exc
    page_app = LoadErrorApp(error)
    assert page_app.location is not None and page_app.location[0] == str(bad)
    page = b"".join(page_app(_environ("127.0.0.1"), _Start())).decode()
    assert f"{bad}, line {page_app.location[1]}" in page
    assert "SyntaxError" in page
    remote = b"".join(page_app(_environ("192.0.2.1"), _Start()))
    assert b"SyntaxError" not in remote and b"broken_mod" not in remote


def test_a_load_error_inside_a_library_names_the_apps_line(tmp_path: Path) -> None:
    import json

    source = tmp_path / "settings_mod.py"
    source.write_text("import json\n\nSETTINGS = json.loads('{bad json')\n")
    code = compile(source.read_text(), str(source), "exec")
    try:
        exec(code, {"json": json})
    except ValueError as exc:
        error = RuntimeError("cannot load the app")
        error.__cause__ = exc
    assert LoadErrorApp(error).location == (str(source), 3)


def _inotify_watches(pid: int) -> int:
    count = 0
    for info in Path(f"/proc/{pid}/fdinfo").iterdir():
        try:
            count += info.read_text().count("inotify wd:")
        except OSError:
            pass
    return count


def test_ignored_folders_cost_no_watch_and_new_folders_are_watched(tmp_path: Path) -> None:
    root = tmp_path.resolve()
    for n in range(50):
        (root / ".venv" / "lib" / f"pkg{n}").mkdir(parents=True)
        (root / "node_modules" / f"m{n}").mkdir(parents=True)
    (root / "env311").mkdir()
    (root / "env311" / "pyvenv.cfg").write_text("home = /usr\n")
    (root / "pkg" / "sub").mkdir(parents=True)
    (root / "app.py").write_text("")
    pid, pipe = start_watcher(ReloadFilter(root))
    try:
        deadline = time.monotonic() + 10
        while _inotify_watches(pid) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)
        # The top level, pkg and pkg/sub: none for the 100 ignored folders or the environment.
        assert _inotify_watches(pid) == 3
        (root / "newpkg").mkdir()
        seen: list[str] = []
        while _inotify_watches(pid) < 4 and time.monotonic() < deadline:
            time.sleep(0.05)
        (root / "newpkg" / "mod.py").write_text("x = 1\n")
        while "newpkg/mod.py" not in seen and time.monotonic() < deadline:
            seen += read_changes(pipe) or []
            time.sleep(0.02)
        assert "newpkg/mod.py" in seen
        (root / "node_modules" / "m1" / "x.py").write_text("")
        (root / "pkg" / "sub" / "deep.py").write_text("")
        while "pkg/sub/deep.py" not in seen and time.monotonic() < deadline:
            seen += read_changes(pipe) or []
            time.sleep(0.02)
        assert "pkg/sub/deep.py" in seen and not any(p.startswith("node_modules") for p in seen)
    finally:
        os.kill(pid, signal.SIGTERM)
        os.waitpid(pid, 0)
        os.close(pipe)
