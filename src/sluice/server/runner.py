"""Run one server process: bind the listeners, start the worker, handle signals."""

from __future__ import annotations

import logging
import resource
import threading

from sluice.config import Config
from sluice.server.gateway import ServerInfo
from sluice.server.gateway import WSGIApp
from sluice.server.listeners import bind
from sluice.server.protocol import Limits
from sluice.server.worker import Timeouts
from sluice.server.worker import Worker

log = logging.getLogger("sluice.error")


def make_worker(app: WSGIApp, config: Config) -> Worker:
    """Bind every ``config.bind`` address and build a worker for ``app``.

    Raises:
        ConfigError: an address is malformed or cannot be bound.
    """
    listeners = []
    try:
        for spec in config.bind:
            listeners.append(bind(spec, config.backlog))
    except Exception:
        for sock in listeners:
            sock.close()
        raise
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
    )
    return Worker(
        app,
        listeners,
        threads=config.threads,
        limits=limits,
        timeouts=timeouts,
        info=ServerInfo(script_name=config.root_path),
        access_log_enabled=config.access_log is not None,
    )


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

    Signal handlers are installed only when called from the main thread.
    """
    raise_open_files_limit()
    worker = make_worker(app, config)
    if threading.current_thread() is threading.main_thread():
        worker.install_signal_handlers()
    worker.run()
    log.info("Stopped")
