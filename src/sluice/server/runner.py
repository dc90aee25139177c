"""Run one server process: bind the listeners, build the worker, handle signals, pid file, worker hooks."""

from __future__ import annotations

import logging
import os
import resource
import socket
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from sluice.config import Config
from sluice.errors import ConfigError
from sluice.server.listeners import bind
from sluice.server.listeners import inherit_systemd
from sluice.server.protocol import Limits
from sluice.server.worker import Buffers
from sluice.server.worker import Timeouts
from sluice.server.worker import Worker
from sluice.server.wsgi import ServerInfo
from sluice.server.wsgi import WSGIApp
from sluice.trust import TrustedProxies

if TYPE_CHECKING:
    from ssl import SSLContext

log = logging.getLogger("sluice.error")


def tls_context(config: Config) -> SSLContext | None:
    """The server's TLS context for ``--certfile``/``--keyfile``, or None to serve plain HTTP.

    Raises:
        ConfigError: a key without a certificate, or files that cannot be
            loaded (named, with the reason).
    """
    if config.certfile is None:
        if config.keyfile is not None:
            raise ConfigError("--keyfile needs --certfile (the certificate it belongs to)")
        return None
    from sluice.server.tls import server_context  # ssl is loaded only to serve TLS

    return server_context(config.certfile, config.keyfile)


def traced(config: Config) -> Callable[[WSGIApp], WSGIApp] | None:
    """What wraps the app for ``--otel`` (:func:`sluice.otel.instrument`), or None when it is off.

    Raises:
        ConfigError: ``--otel`` without the OpenTelemetry packages; the
            message says what to install.
    """
    if not config.otel:
        return None
    try:
        from sluice.otel import instrument  # loaded only for --otel
    except ImportError as exc:
        raise ConfigError(str(exc)) from None
    return instrument


def bind_listeners(config: Config) -> list[socket.socket]:
    """Take systemd's sockets (``LISTEN_FDS``) if passed, else bind every ``config.bind`` address.

    On a failure the sockets bound so far are closed.

    Raises:
        ConfigError: an address is malformed or cannot be bound.
    """
    # A certificate that cannot be loaded, or --otel without its packages,
    # stops the start here, before any bind.
    tls_context(config)
    traced(config)
    inherited = inherit_systemd(os.environ)
    if inherited:
        log.info("Using %d socket(s) from systemd (LISTEN_FDS); --bind is ignored", len(inherited))
        return inherited
    listeners: list[socket.socket] = []
    try:
        for spec in config.bind:
            listeners.append(bind(spec, config.backlog, config.unix_socket_mode))
    except Exception:
        for sock in listeners:
            sock.close()
        raise
    return listeners


def build_worker(
    app: WSGIApp,
    listeners: list[socket.socket],
    config: Config,
    max_requests: int = 0,
    on_tick: Callable[[], None] | None = None,
    recycle_stuck: bool = False,
    on_retire: Callable[[], None] | None = None,
) -> Worker:
    """Build a worker for ``app`` on already bound ``listeners`` with ``config``'s limits and timeouts.

    ``recycle_stuck``: a supervisor replaces the process, so the worker
    stops when threads stay stuck past ``--timeout``.
    """
    limits = Limits(
        max_request_line=config.max_request_line,
        max_header_bytes=config.max_header_bytes,
        max_header_fields=config.max_header_fields,
        max_body_size=config.max_body_size or None,
    )
    timeouts = Timeouts(
        keepalive=config.keepalive_timeout,
        header=config.header_timeout,
        body=config.body_timeout,
        write=config.write_timeout,
        graceful=config.graceful_timeout,
        min_send_rate=config.min_send_rate,
        min_recv_rate=config.min_recv_rate,
    )
    context = tls_context(config)
    instrument = traced(config)
    if instrument is not None:
        app = instrument(app)
    return Worker(
        app,
        listeners,
        threads=config.threads,
        limits=limits,
        timeouts=timeouts,
        info=ServerInfo(script_name=config.root_path, url_scheme="https" if context is not None else "http"),
        access_log_enabled=config.access_log is not None,
        access_log_format=config.access_log_format,
        trusted_proxies=TrustedProxies(config.trusted_proxies),
        max_requests=max_requests,
        on_tick=on_tick,
        ssl_context=context,
        health_path=config.health_path,
        ready_path=config.ready_path,
        request_timeout=config.timeout,
        recycle_stuck=recycle_stuck,
        on_retire=on_retire,
        metrics=config.metrics_bind is not None,
        buffers=Buffers(
            response_memory=config.response_buffer,
            response_spool=config.max_response_spool,
            request_memory=config.request_buffer,
        ),
    )


def make_worker(app: WSGIApp, config: Config) -> Worker:
    """Bind every ``config.bind`` address and build a worker for ``app``.

    Raises:
        ConfigError: an address is malformed or cannot be bound.
    """
    return build_worker(app, bind_listeners(config), config)


def run_worker_hooks(app: object, which: str) -> None:
    """Call the app's ``worker_start_funcs`` or ``worker_stop_funcs`` (any WSGI app may offer them).

    ``@app.on_worker_start`` and ``@app.on_worker_stop`` fill these lists on a
    sluice App; a start hook's exception propagates (the worker cannot
    serve), a stop hook's is logged.
    """
    for func in list(getattr(app, f"worker_{which}_funcs", ())):
        if which == "start":
            func()
            continue
        try:
            func()
        except Exception:
            log.exception("on_worker_stop hook %r failed", func)


def write_pid_file(path: str) -> None:
    """Write this process's id to ``path`` (replaced atomically)."""
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w") as f:
        f.write(f"{os.getpid()}\n")
    os.replace(tmp, path)


def remove_pid_file(path: str, pid: int) -> None:
    """Remove ``path`` if it still names ``pid`` (a newer server may have replaced it)."""
    try:
        with open(path) as f:
            if f.read().strip() != str(pid):
                return
        os.unlink(path)
    except OSError:
        pass


def raise_open_files_limit() -> int:
    """Raise the soft limit on open files to the hard limit; return the new soft limit.

    Every connection is a file descriptor, and the usual soft limit (1024)
    is far below what one epoll loop can hold.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        hard = max(soft, 1 << 20)
    if soft != resource.RLIM_INFINITY and soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError) as exc:
            log.warning("could not raise the open-files limit from %d to %d: %s", soft, hard, exc)
            return soft
        return hard
    return soft


def run(app: WSGIApp, config: Config) -> None:
    """Serve ``app`` until SIGTERM or SIGINT, then drain and return.

    With one worker (and no ``max_requests`` or ``metrics_bind``) this process serves: signal
    handlers are installed only when called from the main thread, and the
    app's worker hooks run before the first request and after the drain.
    Otherwise this process becomes the master of forked workers that share
    the already imported ``app`` (see :mod:`sluice.server.supervisor`).

    Raises:
        ConfigError: an address cannot be bound, or workers were asked for
            outside the main thread.
    """
    if config.workers > 1 or config.max_requests or config.metrics_bind:
        # The app is already imported here, as with --preload: the master
        # forks workers that share it (SIGHUP replaces them, same code).
        from sluice.server.supervisor import Supervisor

        if threading.current_thread() is not threading.main_thread():
            raise ConfigError(
                "workers > 1, max_requests and metrics_bind need the main thread (the master handles signals)"
            )
        Supervisor(lambda: app, config).run()
        return
    raise_open_files_limit()
    worker = make_worker(app, config)
    if threading.current_thread() is threading.main_thread():
        worker.install_signal_handlers()
    if config.pid:
        write_pid_file(config.pid)
    try:
        run_worker_hooks(app, "start")
        worker.run()
        run_worker_hooks(app, "stop")
    finally:
        if config.pid:
            remove_pid_file(config.pid, os.getpid())
    log.info("Stopped")
