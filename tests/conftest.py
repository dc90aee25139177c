"""Shared fixtures: live servers and the service-skip policy."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterator

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
