"""Pre-fork master: bind once, fork workers, watch their heartbeats, reap, reload, scale.

Design: the master binds the listening sockets once and forks ``workers``
processes that share them (the kernel hands each connection to one
worker's ``accept``). Each worker is tied to the master by a pipe it writes
to: ``R`` once the app imported and the worker is about to serve, ``.`` on
each tick of its loop (about once a second: the heartbeat), or ``E`` and
the error text when the app cannot be loaded, before it exits with status
3. With ``--metrics-bind`` the heartbeat is a metrics snapshot instead
(``M``, a length and the worker's counters: :mod:`sluice.server.metrics`),
which the master sums and serves on its own loop
(:mod:`sluice.server.exporter`). Signal handlers do nothing but wake the master (``signal.set_wakeup_fd``
writes the signal number to a pipe); one loop reads those numbers, the
workers' pipes, reaps children with ``waitpid(WNOHANG)`` and then brings
the process table back to its target.

Rules the loop keeps:

- ``generation`` is the set of workers the master keeps at ``count``. A
  SIGHUP starts generation + 1; the older workers keep serving until every
  worker of the new generation reported ``R``, then get SIGTERM (graceful).
  A new generation that fails to load (a worker exits before ``R``) is
  abandoned: its other workers get SIGTERM and the old generation stays.
- A worker that dies before ``R`` delays the next spawn (doubling back-off,
  reset by any ``R``). If the app fails to load before any worker was ever
  ready, the master stops and exits with status 3, showing the error once.
- A worker whose last byte is older than ``timeout`` gets SIGABRT
  (faulthandler in the worker writes every thread's stack to stderr, the
  error log, and the process dies), then SIGKILL if it is still there.
- A worker sent SIGTERM that outlives ``graceful_timeout`` (plus a margin
  for its own clean-up) gets SIGKILL.

In a worker, SIGTERM/SIGINT run ``retire`` on the main thread (the loop's),
which calls ``Worker.stop()`` (safe in a signal handler). ``on_tick`` (the
heartbeat) runs on the loop thread. ``--max-requests`` is the Worker's own
(with the jitter added here): after that many responses it tells the master
``Q`` through ``on_retire`` and stops itself gracefully.
"""

from __future__ import annotations

import errno
import faulthandler
import gc
import logging
import os
import random
import selectors
import signal
import socket
import sys
import time
import traceback
from collections.abc import Callable
from typing import TYPE_CHECKING
from typing import Any

from sluice.config import Config
from sluice.server.listeners import close_listener
from sluice.server.metrics import FRAME
from sluice.server.metrics import Aggregate
from sluice.server.metrics import read_frames
from sluice.server.runner import bind_listeners
from sluice.server.runner import build_worker
from sluice.server.runner import raise_open_files_limit
from sluice.server.runner import remove_pid_file
from sluice.server.runner import run_worker_hooks
from sluice.server.runner import write_pid_file
from sluice.server.wsgi import WSGIApp

if TYPE_CHECKING:
    from sluice.server.exporter import MetricsServer

log = logging.getLogger("sluice.error")

#: A worker's exit status when the app cannot be loaded (the CLI's EXIT_APP_LOAD).
EXIT_APP_LOAD = 3

_READY = b"R"
_BEAT = b"."
_ERROR = b"E"
_RETIRING = b"Q"
_MAX_ERROR_BYTES = 60000  # below the pipe's 64 KiB, so the worker never blocks on it
_BACKOFF_MAX = 5.0
_KILL_MARGIN = 5.0  # seconds past graceful_timeout before a stopping worker is killed
_ABORT_GRACE = 2.0  # seconds between SIGABRT (stack dump) and SIGKILL

_HANDLED = (
    signal.SIGTERM,
    signal.SIGINT,
    signal.SIGQUIT,
    signal.SIGHUP,
    signal.SIGTTIN,
    signal.SIGTTOU,
    signal.SIGCHLD,
)


class BootError(Exception):
    """The app could not be loaded in a worker; the message is the whole report to show."""


class WorkerProcess:
    """The master's record of one forked worker.

    Args:
        pid: its process id.
        generation: the generation it belongs to.
        pipe: the read end of its status pipe.
        now: the monotonic time it was forked.
    """

    def __init__(self, pid: int, generation: int, pipe: int, now: float) -> None:
        self.pid = pid
        self.generation = generation
        self.pipe = pipe
        self.ready = False
        self.last_beat = now
        self.stop_sent_at: float | None = None
        self.abort_sent_at: float | None = None
        self.killed = False
        self.error = b""
        self.reading_error = False
        #: What it wrote that is not parsed yet (part of a metrics frame).
        self.inbox = bytearray()
        #: It said it retires by itself (--max-requests).
        self.retiring = False


class Supervisor:
    """Run ``workers`` forked worker processes for an app until SIGTERM, SIGINT or SIGQUIT.

    Args:
        load_app: returns the WSGI app; called in each worker after the fork
            (or once in the master with ``config.preload``). It raises
            :class:`BootError` (or any exception) when the app cannot load.
        config: the resolved settings (``workers``, ``timeout``,
            ``max_requests``, ``max_requests_jitter``, ``preload``, ``pid``,
            ``graceful_timeout`` and what each worker needs).
    """

    def __init__(self, load_app: Callable[[], WSGIApp], config: Config) -> None:
        self.load_app = load_app
        self.config = config
        self.count: int = config.workers
        self.generation = 1
        self.previous_generation: int | None = None
        self.workers: dict[int, WorkerProcess] = {}
        self.listeners: list[socket.socket] = []
        self.app: WSGIApp | None = None
        self.stopping = False
        self.exit_status = 0
        self.ever_ready = False
        self.backoff = 0.0
        self.spawn_after = 0.0
        self._signals: list[int] = []
        self._selector = selectors.DefaultSelector()
        self._sig_r = -1
        self._sig_w = -1
        #: The master's own descriptors besides the signal pipe and the
        #: workers' pipes; a forked worker closes them.
        self.master_fds: list[int] = []
        #: With ``metrics_bind``: the workers' summed metrics and the endpoint serving them.
        self.metrics: Aggregate | None = None
        self.exporter: MetricsServer | None = None

    # -- lifecycle ---------------------------------------------------------------

    def run(self) -> int:
        """Bind, fork the workers and supervise them; return the exit status.

        Raises:
            ConfigError: an address cannot be bound.
            BootError: with ``preload``, the app cannot be loaded.
        """
        raise_open_files_limit()
        self.listeners = bind_listeners(self.config)
        try:
            if self.config.preload:
                self.app = self.load_app()
            if self.config.pid:
                write_pid_file(self.config.pid)
            if self.config.metrics_bind:
                self._start_metrics(self.config.metrics_bind)
            self._install_signals()
            log.info(
                "Master %d: %d worker(s)%s", os.getpid(), self.count, " (app preloaded)" if self.app else ""
            )
            # Objects alive now are shared copy-on-write with every worker;
            # frozen, the collector does not touch (and so copy) their pages.
            gc.freeze()
            self._loop()
        finally:
            self._close()
        log.info("Master %d: stopped", os.getpid())
        return self.exit_status

    def _start_metrics(self, address: str) -> None:
        from sluice.server.exporter import MetricsServer
        from sluice.server.metrics import render

        aggregate = self.metrics = Aggregate()
        render(aggregate, 0)  # imports prometheus_client now, before the fork, and checks it works
        self.exporter = MetricsServer(address, self._selector, lambda: render(aggregate, len(self.workers)))
        log.info("Metrics on %s", self.exporter.url)

    def _install_signals(self) -> None:
        self._sig_r, self._sig_w = os.pipe()
        os.set_blocking(self._sig_r, False)
        os.set_blocking(self._sig_w, False)
        signal.set_wakeup_fd(self._sig_w, warn_on_full_buffer=False)
        for sig in _HANDLED:
            signal.signal(sig, _wake_only)
        self._selector.register(self._sig_r, selectors.EVENT_READ)

    def _close(self) -> None:
        if self._sig_w != -1:
            signal.set_wakeup_fd(-1)
            for sig in _HANDLED:
                signal.signal(sig, signal.SIG_DFL)
            os.close(self._sig_r)
            os.close(self._sig_w)
            self._sig_r = self._sig_w = -1
        if self.exporter is not None:
            self.exporter.close()
        self._selector.close()
        for sock in self.listeners:
            close_listener(sock)
        if self.config.pid:
            remove_pid_file(self.config.pid, os.getpid())

    # -- the loop ------------------------------------------------------------------

    def _loop(self) -> None:
        while True:
            for key, events in self._selector.select(timeout=0.25):
                if key.fd == self._sig_r:
                    self._read_signals()
                elif type(key.data) is WorkerProcess:
                    self._read_worker(key.data)
                else:
                    key.data(key.fd, events)  # the metrics endpoint, the dev server's watcher
            self.handle_signals()
            self.reap_workers()
            now = time.monotonic()
            if self.exporter is not None:
                self.exporter.expire(now)
            if self.stopping:
                if not self.workers:
                    return
                self.kill_overdue(now)
                continue
            self.check_generation()
            if self.stopping:
                continue
            self.check_heartbeats(now)
            self.kill_overdue(now)
            self.scale(now)

    def _read_signals(self) -> None:
        try:
            data = os.read(self._sig_r, 4096)
        except BlockingIOError:
            return
        self._signals.extend(data)

    def handle_signals(self) -> None:
        """Act on the queued signals, in order."""
        while self._signals:
            sig = self._signals.pop(0)
            if sig in (signal.SIGTERM, signal.SIGINT):
                self.handle_term(sig)
            elif sig == signal.SIGQUIT:
                self.handle_quit()
            elif sig == signal.SIGHUP:
                self.handle_hup()
            elif sig == signal.SIGTTIN:
                self.count += 1
                log.info("SIGTTIN: %d worker(s)", self.count)
            elif sig == signal.SIGTTOU:
                self.count = max(1, self.count - 1)
                log.info("SIGTTOU: %d worker(s)", self.count)

    def handle_term(self, sig: int) -> None:
        """Stop gracefully: every worker finishes its in-flight requests."""
        if not self.stopping:
            log.info("%s: stopping %d worker(s) gracefully", signal.Signals(sig).name, len(self.workers))
            self.stop(graceful=True)

    def handle_quit(self) -> None:
        """Stop at once: every worker is killed."""
        log.info("SIGQUIT: killing %d worker(s)", len(self.workers))
        self.stop(graceful=False)

    def stop(self, graceful: bool) -> None:
        """Stop every worker (SIGTERM, or SIGKILL when not ``graceful``); the loop ends when all exited."""
        self.stopping = True
        for proc in list(self.workers.values()):
            if graceful:
                self._terminate(proc)
            else:
                proc.killed = True
                self._signal(proc.pid, signal.SIGKILL)

    def handle_hup(self) -> None:
        """Start a new generation; the current one retires when the new one is ready."""
        if self.config.preload:
            log.info("SIGHUP: replacing workers (the app was preloaded: its code is not re-imported)")
        else:
            log.info("SIGHUP: starting generation %d (re-imports the app)", self.generation + 1)
        if self.previous_generation is None:
            self.previous_generation = self.generation
        else:
            # A reload during a reload: the half-started generation is dropped.
            self._retire(self.generation)
        self.generation += 1
        self.spawn_after = 0.0

    def check_generation(self) -> None:
        """Retire the old generation once the new one is all ready."""
        if self.previous_generation is None:
            return
        current = [p for p in self.workers.values() if p.generation == self.generation and p.stop_sent_at is None]
        if len(current) >= self.count and all(p.ready for p in current):
            old = [p for p in self.workers.values() if p.generation != self.generation]
            log.info("generation %d ready: retiring %d old worker(s)", self.generation, len(old))
            for proc in old:
                self._terminate(proc)
            self.previous_generation = None

    def check_heartbeats(self, now: float) -> None:
        """Dump the stacks of and replace workers whose loop stopped sending heartbeats."""
        timeout = self.config.timeout
        for proc in list(self.workers.values()):
            if proc.abort_sent_at is not None or now - proc.last_beat <= timeout:
                continue
            log.error(
                "worker %d: no heartbeat for %.1f s (--timeout %g): dumping its stacks and replacing it",
                proc.pid,
                now - proc.last_beat,
                timeout,
            )
            proc.abort_sent_at = now
            self._signal(proc.pid, signal.SIGABRT)

    def kill_overdue(self, now: float) -> None:
        """SIGKILL workers that outlived their graceful stop or their stack dump."""
        limit = self.config.graceful_timeout + _KILL_MARGIN
        for proc in list(self.workers.values()):
            if proc.killed:
                continue
            if (proc.stop_sent_at is not None and now - proc.stop_sent_at > limit) or (
                proc.abort_sent_at is not None and now - proc.abort_sent_at > _ABORT_GRACE
            ):
                log.warning("worker %d: still running; killing it", proc.pid)
                proc.killed = True
                self._signal(proc.pid, signal.SIGKILL)

    def scale(self, now: float) -> None:
        """Start or retire workers of the current generation until there are ``count``."""
        current = [
            p
            for p in self.workers.values()
            if p.generation == self.generation and p.stop_sent_at is None and p.abort_sent_at is None
        ]
        if len(current) > self.count:
            for proc in sorted(current, key=lambda p: p.pid)[: len(current) - self.count]:
                self._terminate(proc)
            return
        missing = self.count - len(current)
        while missing > 0 and now >= self.spawn_after:
            self.spawn_worker()
            missing -= 1

    # -- workers -------------------------------------------------------------------

    def spawn_worker(self) -> None:
        """Fork one worker of the current generation."""
        read_end, write_end = os.pipe()
        # Signals wait until the child replaced the master's handlers: one
        # delivered in between would go to the master's queue, not the child.
        signal.pthread_sigmask(signal.SIG_BLOCK, _HANDLED)
        try:
            pid = os.fork()
            if pid == 0:
                os.close(read_end)
                self._worker_main(write_end)  # never returns
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, _HANDLED)
        os.close(write_end)
        os.set_blocking(read_end, False)
        proc = WorkerProcess(pid, self.generation, read_end, time.monotonic())
        self.workers[pid] = proc
        self._selector.register(read_end, selectors.EVENT_READ, proc)

    def _read_worker(self, proc: WorkerProcess) -> bool:
        """Read what the worker wrote; return False once nothing more is there (EOF or empty)."""
        try:
            data = os.read(proc.pipe, 65536)
        except BlockingIOError:
            return False
        except OSError:
            data = b""
        if not data:
            self._selector.unregister(proc.pipe)
            os.close(proc.pipe)
            proc.pipe = -1
            return False
        proc.last_beat = time.monotonic()
        if proc.reading_error:
            proc.error += data
            return True
        inbox = proc.inbox
        inbox += data
        for kind, values in read_frames(inbox):
            if kind == _READY and not proc.ready:
                proc.ready = True
                self.ever_ready = True
                self.backoff = 0.0
                log.info("worker %d (generation %d) ready", proc.pid, proc.generation)
            elif kind == _RETIRING:
                proc.retiring = True
                if proc.stop_sent_at is None:
                    # It stops by itself (--max-requests); its replacement starts now.
                    proc.stop_sent_at = time.monotonic()
            elif kind == FRAME and values is not None and self.metrics is not None:
                self.metrics.update(proc.pid, values)
        if inbox[:1] == _ERROR:
            proc.reading_error = True
            proc.error = bytes(inbox[1:])
            inbox.clear()
        return True

    def reap_workers(self) -> None:
        """Collect exited workers and decide what each exit means."""
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            proc = self.workers.pop(pid, None)
            if proc is None:
                self.on_other_exit(pid, status)
                continue
            # What the worker wrote before it died (its error text); it cannot write more.
            while proc.pipe != -1 and self._read_worker(proc):
                pass
            if proc.pipe != -1:
                self._selector.unregister(proc.pipe)
                os.close(proc.pipe)
                proc.pipe = -1
            if self.metrics is not None:
                # Its last snapshot's counters stay in the totals.
                self.metrics.retire(pid)
            self._on_exit(proc, status)

    def _on_exit(self, proc: WorkerProcess, status: int) -> None:
        code = os.waitstatus_to_exitcode(status)
        how = f"exited with status {code}" if code >= 0 else f"was killed by {signal.Signals(-code).name}"
        expected = proc.stop_sent_at is not None or self.stopping
        if proc.ready:
            level = logging.INFO if expected or code == 0 else logging.WARNING
            log.log(level, "worker %d (generation %d) %s", proc.pid, proc.generation, how)
            reason = _restart_reason(proc)
            if reason is not None and not self.stopping and self.metrics is not None:
                self.metrics.count_restart(reason)
            return
        error = proc.error.decode("utf-8", "replace").rstrip()
        if self.stopping or expected:
            return
        if proc.generation == self.generation and self.previous_generation is not None:
            log.error(
                "reload abandoned: a worker of generation %d %s before it was ready; "
                "generation %d keeps serving\n%s",
                proc.generation,
                how,
                self.previous_generation,
                error,
            )
            self._retire(self.generation)
            self.generation = self.previous_generation
            self.previous_generation = None
            return
        if code == EXIT_APP_LOAD and not self.ever_ready:
            # Shown once: the master stops before another worker reports the same error.
            sys.stderr.write(error + "\n")
            sys.stderr.flush()
            self.exit_status = EXIT_APP_LOAD
            self.stop(graceful=False)
            return
        if self.metrics is not None:
            self.metrics.count_restart("crash")
        self.backoff = min(max(self.backoff * 2, 0.1), _BACKOFF_MAX)
        self.spawn_after = time.monotonic() + self.backoff
        log.error(
            "worker %d %s before it was ready; next start in %.1f s\n%s", proc.pid, how, self.backoff, error
        )

    def on_other_exit(self, pid: int, status: int) -> None:
        """A child that is not a worker exited (a subclass's helper process)."""

    def _retire(self, generation: int) -> None:
        for proc in list(self.workers.values()):
            if proc.generation == generation:
                self._terminate(proc)

    def _terminate(self, proc: WorkerProcess) -> None:
        if proc.stop_sent_at is None:
            proc.stop_sent_at = time.monotonic()
            self._signal(proc.pid, signal.SIGTERM)

    @staticmethod
    def _signal(pid: int, sig: int) -> None:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass

    # -- in the worker process -------------------------------------------------------

    def _worker_main(self, pipe: int) -> None:
        """Load the app, report readiness, serve, and exit; runs in the forked child."""
        status = 0
        try:
            status = self._serve_in_worker(pipe)
        except BaseException:
            traceback.print_exc()
            status = 1
        finally:
            for stream in (sys.stdout, sys.stderr):
                try:
                    stream.flush()
                except Exception:
                    pass
            os._exit(status)

    def load_in_worker(self) -> WSGIApp:
        """Return the app this worker serves (loaded now unless preloaded), its start hooks run.

        Raises:
            BaseException: what loading or a start hook raised; the worker
                reports it to the master and exits with status 3.
        """
        app = self.app if self.app is not None else self.load_app()
        run_worker_hooks(app, "start")
        return app

    def _serve_in_worker(self, pipe: int) -> int:
        master = os.getppid()
        signal.set_wakeup_fd(-1)
        for sig in _HANDLED:
            signal.signal(sig, signal.SIG_DFL)
        # A hang-up or terminal job control sent to the whole process group
        # is the master's business; by default these would kill or stop us.
        for sig in (signal.SIGHUP, signal.SIGTTIN, signal.SIGTTOU):
            signal.signal(sig, signal.SIG_IGN)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _HANDLED)
        os.close(self._sig_r)
        os.close(self._sig_w)
        for other in self.workers.values():
            if other.pipe != -1:
                os.close(other.pipe)
        for fd in self.master_fds:
            os.close(fd)
        self._selector.close()
        if self.exporter is not None:
            self.exporter.close_in_child()
        # SIGABRT from the master (no heartbeat): every thread's stack to the error log.
        faulthandler.enable(file=sys.stderr, all_threads=True)
        try:
            app = self.load_in_worker()
        except BaseException as exc:
            if isinstance(exc, BootError):
                text = str(exc)
            else:
                text = "".join(traceback.format_exception(exc)).rstrip()
            data = _ERROR + text.encode("utf-8", "replace")[:_MAX_ERROR_BYTES]
            _write_all(pipe, data)
            return EXIT_APP_LOAD
        config = self.config
        max_requests = 0
        if config.max_requests:
            max_requests = config.max_requests + random.randint(0, config.max_requests_jitter)

        def retiring_now() -> None:
            # --max-requests: the worker stops by itself; its replacement starts now.
            try:
                os.write(pipe, _RETIRING)
            except OSError:
                pass

        def beat() -> None:
            if os.getppid() != master:
                # The master died (SIGKILL): nobody would replace or stop us.
                log.warning("master %d is gone: stopping gracefully", master)
                worker.stop()
                return
            try:
                # A metrics frame is below PIPE_BUF: written whole or not at all.
                os.write(pipe, _BEAT if worker.stats is None else worker.metrics_snapshot())
            except OSError:
                # A full pipe means the master is busy, not that we are stuck.
                pass

        listeners = [_WorkerUnixSocket.adopt(sock) if sock.family == socket.AF_UNIX else sock for sock in self.listeners]
        worker = build_worker(
            app,
            listeners,
            config,
            max_requests=max_requests,
            on_tick=beat,
            recycle_stuck=True,
            on_retire=retiring_now,
        )

        def retire(signum: int, frame: object) -> None:
            # Worker.stop() stops accepting at once (the shared accept queue
            # is served by the other workers), finishes what is in flight,
            # and gives a connection accepted just before a moment to send
            # its first request, so a reload drops no connection. The unix
            # socket's file is the master's to remove.
            for sock in listeners:
                if isinstance(sock, _WorkerUnixSocket):
                    sock.release_path()
            worker.stop()

        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, retire)
        _write_all(pipe, _READY)
        os.set_blocking(pipe, False)  # a heartbeat never waits for the master
        worker.run()
        if worker.stats is not None:
            try:
                os.write(pipe, worker.metrics_snapshot())  # the last counts, so none is lost
            except OSError:
                pass
        run_worker_hooks(app, "stop")
        return 0


class _WorkerUnixSocket(socket.socket):
    """A worker's handle on the master's unix listening socket, whose file the worker must keep.

    NOTE: Worker.stop() removes a unix socket's file (right for one
    process), but under the master the file is shared by every generation:
    a retiring worker removing it would cut the new workers off. Once
    :meth:`release_path` was called, ``getsockname()`` answers ``""``, so
    that removal finds nothing to remove; the master removes the file at
    its own exit.
    """

    _path: str | None = None

    @classmethod
    def adopt(cls, sock: socket.socket) -> _WorkerUnixSocket:
        """Return a handle on the same listening socket (a duplicated descriptor)."""
        handle = cls(sock.family, sock.type, sock.proto, fileno=os.dup(sock.fileno()))
        handle.setblocking(False)
        handle._path = sock.getsockname()
        return handle

    def release_path(self) -> None:
        """From now on report no path (the worker is retiring)."""
        self._path = ""

    def getsockname(self) -> Any:
        """The bound path, or ``""`` after :meth:`release_path`."""
        return self._path if self._path is not None else super().getsockname()


def _restart_reason(proc: WorkerProcess) -> str | None:
    """Why a worker that was ready is replaced (sluice_worker_restarts_total), or None if the master retired it."""
    if proc.retiring:
        return "max_requests"
    if proc.abort_sent_at is not None:
        return "timeout"
    if proc.stop_sent_at is None:
        return "crash"
    return None


def _wake_only(signum: int, frame: object) -> None:
    """Signal handler: nothing; ``set_wakeup_fd`` already queued the signal number."""


def _write_all(fd: int, data: bytes) -> None:
    os.set_blocking(fd, True)
    view = memoryview(data)
    while view:
        try:
            written = os.write(fd, view)
        except InterruptedError:
            continue
        except OSError as exc:
            if exc.errno == errno.EPIPE:
                return
            raise
        view = view[written:]
