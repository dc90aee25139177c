"""Shared fixtures: live servers and the service-skip policy."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import pytest

from tests.live import LiveServer, start_server


def require_service(available: bool, reason: str) -> None:
    """Skip when a service is missing, but fail in CI (SLUICE_REQUIRE_SERVICES=1)."""
    if available:
        return
    if os.environ.get("SLUICE_REQUIRE_SERVICES") == "1":
        pytest.fail(f"required service missing in CI: {reason}")
    pytest.skip(reason)


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
