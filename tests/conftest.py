"""Shared fixtures: live servers and the service-skip policy."""

from __future__ import annotations

import threading
from collections.abc import Callable
from collections.abc import Iterator
from typing import Any

import pytest

from tests.live import LiveServer
from tests.live import start_server


@pytest.fixture
def live_server() -> Iterator[Callable[..., LiveServer]]:
    """Factory fixture: ``live_server("module:attr", *args)`` starts a server, stopped afterwards."""
    started: list[LiveServer] = []

    def factory(target: str, *args: str, **kwargs: object) -> LiveServer:
        server = start_server(target, *args, **kwargs)  # type: ignore[arg-type]
        started.append(server)
        return server

    yield factory
    for server in started:
        server.stop()


#: A worker running in this process: the Worker, its port, its loop thread.
InProcess = tuple[Any, int, threading.Thread]


@pytest.fixture
def in_process_worker() -> Iterator[Callable[..., InProcess]]:
    """Factory fixture: ``in_process_worker(app, **Worker_kwargs)`` runs a Worker on a loopback port in a thread.

    Every worker started is stopped and joined afterwards.
    """
    from sluice.server.listeners import bind
    from sluice.server.worker import Worker

    started: list[tuple[Worker, threading.Thread]] = []

    def factory(app: Any, **kwargs: Any) -> InProcess:
        sock = bind("127.0.0.1:0", 128)
        worker = Worker(app, [sock], **kwargs)
        thread = threading.Thread(target=worker.run, daemon=True)
        thread.start()
        started.append((worker, thread))
        return worker, sock.getsockname()[1], thread

    yield factory
    for worker, thread in started:
        worker.stop()
        thread.join(10)
