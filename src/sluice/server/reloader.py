"""The development server's file watcher: which files reload the app, and the process that watches them.

Design: ``sluice run`` reloads by starting a new worker process, never by
re-importing inside one, so the master must not import the app. It learns
the app's directory without importing it (:func:`app_directory`: the
``sys.path`` entry that holds the app's top-level module or package,
normally the current directory) and forks one watcher process before any
worker. The watcher waits on the kernel's file events (``watchfiles``,
inotify on Linux: nothing is polled, so an idle app of any size costs no
CPU) and writes the relative paths of each batch of changes that match
:class:`ReloadFilter` to a pipe the master selects on. A process rather than
a thread keeps the master single-threaded, so its forks of workers never
copy a lock that another thread holds.

What reloads: a ``.py`` file anywhere below the app's directory, and any
file matching a ``--reload-include`` glob, matched against the path
relative to that directory. A glob without ``/`` matches a file name in
any folder (``*.toml``); one with ``/`` matches the whole relative path,
where ``*`` and ``?`` stay inside one folder and ``**`` spans folders
(``templates/**/*.txt``). Folders of tools (``.git``, ``__pycache__``,
virtual environments, ``node_modules``, caches) and editors' scratch files
never reload. So that such folders cost no kernel watch at all (a large
``node_modules`` could exhaust the inotify watch limit), the watcher
watches the top level alone with one watch and every other top-level
folder to its depth with another, restarted when a top-level folder is
made or removed.
"""

from __future__ import annotations

import importlib.machinery
import logging
import os
import re
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

log = logging.getLogger("sluice.error")

#: Folders whose files never reload the app (tools' caches, environments, VCS).
IGNORED_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        "__pycache__",
        ".venv",
        "venv",
        ".tox",
        ".nox",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".hypothesis",
        ".idea",
        ".vscode",
        "node_modules",
        "site-packages",
    }
)
# Editors' lock, swap and backup files.
_SCRATCH = re.compile(r"^\.#|\.sw.$|~$|^\.~lock\.|^#.*#$")
_MESSAGE_MAX = 4000  # one write below PIPE_BUF stays whole
_DEBOUNCE_MS = 50  # a save often writes several events; they reload once
_PARENT_CHECK_MS = 1000


_INSTALLED = frozenset({"site-packages", "dist-packages"})


def app_directory(target: str | None, cwd: str | None = None) -> Path:
    """The folder the app is loaded from: the ``sys.path`` entry holding its top-level module.

    Found without importing anything (a top-level module's spec is looked up
    on the path the app is imported from: the current directory first, as
    :func:`sluice.cli.load_app` puts it); the current directory when the
    module cannot be found or is not a file. For a package installed in
    ``site-packages``, its own folder (not every package installed beside
    it); for an installed single module, the current directory.

    Args:
        target: ``MODULE[:ATTR]``, or None for ``wsgi``/``app`` in the current directory.
        cwd: the current directory (default ``os.getcwd()``).
    """
    here = Path(cwd or os.getcwd()).resolve()
    if not target:
        return here
    top = target.partition(":")[0].split(".")[0].strip()
    if not top:
        return here
    spec = importlib.machinery.PathFinder.find_spec(top, [str(here), *sys.path])
    if spec is None or not spec.origin or spec.origin in ("built-in", "frozen"):
        locations = list(spec.submodule_search_locations or ()) if spec is not None else []
        if not locations:
            return here
        return Path(locations[0]).resolve().parent
    origin = Path(spec.origin).resolve()
    if _INSTALLED.intersection(origin.parts):
        # An installed package: its own folder, not every package installed beside it.
        return origin.parent if spec.submodule_search_locations else here
    # A package's origin is its __init__.py; the path entry is above its folder.
    return origin.parent.parent if spec.submodule_search_locations else origin.parent


def _glob_regex(pattern: str) -> re.Pattern[str]:
    """Compile one ``--reload-include`` glob (see the module's design note) to a regex."""
    parts: list[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if pattern.startswith("**/", i):
            parts.append("(?:.*/)?")
            i += 3
            continue
        if pattern.startswith("**", i):
            parts.append(".*")
            i += 2
            continue
        if char == "*":
            parts.append("[^/]*")
        elif char == "?":
            parts.append("[^/]")
        elif char == "[":
            end = pattern.find("]", i + 2)
            if end == -1:
                parts.append(re.escape(char))
            else:
                body = pattern[i + 1 : end]
                if body.startswith("!"):
                    body = "^" + body[1:]
                parts.append("[" + body.replace("\\", "\\\\") + "]")
                i = end
        else:
            parts.append(re.escape(char))
        i += 1
    return re.compile("".join(parts) + r"\Z")


class ReloadFilter:
    """Decide whether a changed file reloads the app.

    Args:
        root: the app's directory; paths are judged relative to it.
        include: ``--reload-include`` globs (see the module's design note).

    Raises:
        ValueError: a glob is empty or absolute.
    """

    def __init__(self, root: Path, include: Sequence[str] = ()) -> None:
        self.root = root
        self.include = tuple(include)
        self._names: list[re.Pattern[str]] = []
        self._paths: list[re.Pattern[str]] = []
        for glob in self.include:
            text = glob.strip().replace(os.sep, "/")
            if not text or text.startswith("/"):
                raise ValueError(f"--reload-include {glob!r}: give a glob relative to the app's directory {root}")
            text = text.removeprefix("./")
            (self._paths if "/" in text else self._names).append(_glob_regex(text))

    def relative(self, path: str) -> str | None:
        """The path relative to the root with ``/`` separators, or None when outside it."""
        try:
            rel = Path(path).relative_to(self.root)
        except ValueError:
            return None
        return rel.as_posix()

    def __call__(self, path: str) -> bool:
        """True when a change of ``path`` (absolute) should reload the app."""
        rel = self.relative(path)
        if rel is None or rel == ".":
            return False
        *folders, name = rel.split("/")
        if any(folder in IGNORED_DIRS for folder in folders) or _SCRATCH.search(name):
            return False
        if name.endswith(".py"):
            return True
        return any(p.match(name) for p in self._names) or any(p.match(rel) for p in self._paths)

    def describe(self) -> str:
        """What is watched, for the start-up log line."""
        globs = ", ".join(self.include)
        return "*.py" + (f" and {globs}" if globs else "")


def start_watcher(reload_filter: ReloadFilter) -> tuple[int, int]:
    """Fork the watcher process; return its pid and the read end of its pipe.

    Each batch of changes arrives on the pipe as one write: the relative
    paths, separated by newlines, ending with a NUL byte. The watcher exits
    when its parent is gone or on SIGTERM.
    """
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the forked child (its exit status is checked by tests)
        status = 0
        try:
            os.close(read_end)
            _watch(reload_filter, write_end, os.getppid())
        except BaseException:
            status = 1
            log.exception("the file watcher stopped")
        finally:
            os._exit(status)
    os.close(write_end)
    os.set_blocking(read_end, False)
    return pid, read_end


def watched_folders(root: Path) -> list[Path]:
    """The top-level folders of ``root`` watched to their depth: all but ignored ones and virtual environments."""
    folders = []
    try:
        entries = sorted(root.iterdir())
    except OSError:
        return []
    for entry in entries:
        try:
            if not entry.is_dir() or entry.name in IGNORED_DIRS or (entry / "pyvenv.cfg").exists():
                continue
        except OSError:
            continue
        folders.append(entry)
    return folders


def _watch(reload_filter: ReloadFilter, pipe: int, parent: int) -> None:  # pragma: no cover - child process
    # Ctrl-C reaches the whole process group; the master stops us itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    os.set_blocking(pipe, False)
    import threading

    import watchfiles

    root = reload_filter.root
    stopped = threading.Event()
    deep_stop = threading.Event()

    def send(batch: set[tuple[watchfiles.Change, str]]) -> None:
        paths = sorted({reload_filter.relative(path) or path for _, path in batch})
        message = "\n".join(paths).encode("utf-8", "replace")[:_MESSAGE_MAX] + b"\0"
        try:
            os.write(pipe, message)  # below PIPE_BUF: whole, whichever thread writes
        except BlockingIOError:
            pass  # the master has unread changes: a reload is coming anyway
        except BrokenPipeError:
            stopped.set()

    def top_level(change: watchfiles.Change, path: str) -> bool:
        # A folder made or removed at the top changes what is watched in depth.
        if Path(path).parent == root and Path(path).name not in IGNORED_DIRS:
            if change != watchfiles.Change.modified and (change == watchfiles.Change.deleted or os.path.isdir(path)):
                deep_stop.set()
        return reload_filter(path)

    def watch_top() -> None:
        # The top level alone: ignored folders there get no watch at all.
        for batch in watchfiles.watch(
            root, watch_filter=top_level, debounce=_DEBOUNCE_MS, stop_event=stopped, recursive=False,
            raise_interrupt=False, ignore_permission_denied=True,
        ):
            send(batch)
        stopped.set()

    def watch_deep() -> None:
        # Each other top-level folder to its depth; restarted when they change.
        while not stopped.is_set():
            deep_stop.clear()
            folders = watched_folders(root)
            if not folders:
                deep_stop.wait(_PARENT_CHECK_MS / 1000)
                continue
            for batch in watchfiles.watch(
                *folders, watch_filter=lambda change, path: reload_filter(path), debounce=_DEBOUNCE_MS,
                stop_event=_Either(stopped, deep_stop), raise_interrupt=False, ignore_permission_denied=True,
            ):
                send(batch)

    threads = [threading.Thread(target=watch_top, daemon=True), threading.Thread(target=watch_deep, daemon=True)]
    for thread in threads:
        thread.start()
    while not stopped.wait(_PARENT_CHECK_MS / 1000):
        if os.getppid() != parent:
            stopped.set()
    for thread in threads:
        thread.join(2.0)


class _Either:
    """A stop event set when either of two events is (what ``watchfiles.watch`` asks: ``is_set()``)."""

    def __init__(self, first: Any, second: Any) -> None:
        self.first = first
        self.second = second

    def is_set(self) -> bool:
        return bool(self.first.is_set() or self.second.is_set())


def read_changes(pipe: int) -> list[str] | None:
    """Read what the watcher wrote: the changed paths, [] when nothing complete, None at EOF."""
    chunks = b""
    while True:
        try:
            data = os.read(pipe, 65536)
        except BlockingIOError:
            break
        if not data:
            return None if not chunks else _split(chunks)
        chunks += data
    return _split(chunks)


def _split(data: bytes) -> list[str]:
    paths: list[str] = []
    for message in data.split(b"\0"):
        paths.extend(p for p in message.decode("utf-8", "replace").split("\n") if p)
    return paths
