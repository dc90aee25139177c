"""``sluice run``: the production server with a reloader, a debug page and a loopback bind.

Design: the development server is :class:`~sluice.server.supervisor.Supervisor`
(the master that ``sluice serve --workers N`` runs) with three changes, so
an app meets the same parser, keep-alive, limits and ``file_wrapper`` in
development as in production:

- **Reload by process.** The master never imports the app. A watcher
  process (:mod:`sluice.server.reloader`) reports changed files; the master
  then stops the workers gracefully (they stop accepting at once and finish
  what is in flight) and forks new ones, which import the new code. The
  listening socket stays open in the master the whole time, so a request
  made during a reload waits in the kernel's accept queue for the new
  worker instead of being refused, and the first request after a save is
  answered by the new code.
- **A load error is served, not fatal.** A worker whose app cannot be
  loaded (a syntax error, an import error, an exception in a factory)
  logs the error and serves :class:`~sluice.server.debugpage.LoadErrorApp`:
  a 500 page naming the file and line, until a save reloads working code.
- **Debug mode.** The app's ``debug`` is set (a sluice or Flask app then
  lets its exceptions out and reloads templates), and the app is wrapped
  in :class:`~sluice.server.debugpage.DebugMiddleware`: a traceback page for
  clients on the loopback interface, a plain 500 for anyone else.
"""

from __future__ import annotations

import logging
import os
import selectors
import signal
import time
from collections.abc import Callable
from collections.abc import Sequence
from pathlib import Path

from sluice.config import Config
from sluice.server.debugpage import DebugMiddleware
from sluice.server.debugpage import LoadErrorApp
from sluice.server.reloader import ReloadFilter
from sluice.server.reloader import read_changes
from sluice.server.reloader import start_watcher
from sluice.server.runner import run_worker_hooks
from sluice.server.supervisor import Supervisor
from sluice.server.wsgi import WSGIApp

log = logging.getLogger("sluice.error")

_WATCHER_STOP_WAIT = 2.0


def set_debug(app: object) -> None:
    """Turn on the app's debug mode when it has one (sluice and Flask apps: ``app.debug``)."""
    if hasattr(app, "debug"):
        try:
            app.debug = True
        except AttributeError:
            pass


class DevSupervisor(Supervisor):
    """The master of ``sluice run``: reloads on file changes and serves load errors.

    Args:
        load_app: returns the WSGI app; called in each worker after the fork.
        config: the resolved settings, as for ``sluice serve``.
        root: the app's directory (watched, and what ``include`` is relative to).
        include: ``--reload-include`` globs.
        reload: watch files and reload (``--no-reload`` turns it off).
        debug: debug mode and the traceback page (``--no-debug`` turns them off).
    """

    def __init__(
        self,
        load_app: Callable[[], WSGIApp],
        config: Config,
        root: Path,
        include: Sequence[str] = (),
        reload: bool = True,
        debug: bool = True,
    ) -> None:
        super().__init__(load_app, config)
        self.reload_filter = ReloadFilter(root, include)
        self.reload = reload
        self.debug = debug
        self.watcher_pid = 0
        self.watcher_pipe = -1

    # -- in the master --------------------------------------------------------------

    def _loop(self) -> None:
        if self.reload:
            self.watcher_pid, self.watcher_pipe = start_watcher(self.reload_filter)
            self.master_fds.append(self.watcher_pipe)
            self._selector.register(self.watcher_pipe, selectors.EVENT_READ, self._on_changes)
            log.info("Watching %s for changes to %s", self.reload_filter.root, self.reload_filter.describe())
        try:
            super()._loop()
        finally:
            self._stop_watcher()

    def _on_changes(self, fd: int, events: int) -> None:
        paths = read_changes(self.watcher_pipe)
        if paths is None:
            self._selector.unregister(self.watcher_pipe)
            return
        if not paths or self.stopping:
            return
        shown = ", ".join(paths[:5]) + (f" and {len(paths) - 5} more" if len(paths) > 5 else "")
        log.info("Detected a change in %s: reloading", shown)
        self.reload_now()

    def reload_now(self) -> None:
        """Replace the workers now: the old ones stop accepting and finish; new ones import the code."""
        for proc in list(self.workers.values()):
            self._terminate(proc)
        self.generation += 1
        self.previous_generation = None
        self.backoff = 0.0
        self.spawn_after = 0.0

    def on_other_exit(self, pid: int, status: int) -> None:
        """The watcher died: keep serving, without reloads."""
        if pid == self.watcher_pid:
            self.watcher_pid = 0
            if not self.stopping:
                log.error("the file watcher exited (status %s): reloading is off until restart", status)

    def _stop_watcher(self) -> None:
        if self.watcher_pipe != -1:
            try:
                self._selector.unregister(self.watcher_pipe)
            except (KeyError, ValueError):
                pass
            os.close(self.watcher_pipe)
            self.master_fds.remove(self.watcher_pipe)
            self.watcher_pipe = -1
        if not self.watcher_pid:
            return
        pid, self.watcher_pid = self.watcher_pid, 0
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + _WATCHER_STOP_WAIT
        while time.monotonic() < deadline:
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                return
            if done:
                return
            time.sleep(0.01)
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)

    # -- in the worker ------------------------------------------------------------------

    def load_in_worker(self) -> WSGIApp:
        """Load the app in debug mode; if it cannot load, serve the error instead."""
        try:
            app = self.load_app()
            if self.debug:
                set_debug(app)
            run_worker_hooks(app, "start")
        except (Exception, SystemExit) as exc:
            page = LoadErrorApp(exc)
            report = getattr(exc, "report", None)
            text = report() if callable(report) else f"{type(exc).__name__}: {exc}"
            log.error("%s\nServing a 500 error page until the code is fixed: %s", text, page.summary())
            return page
        return DebugMiddleware(app) if self.debug else app
