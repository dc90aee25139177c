"""``@app.on_worker_start`` / ``@app.on_worker_stop`` registration and how the server runs them."""

from __future__ import annotations

import logging

import pytest

from sluice import App
from sluice.server.runner import run_worker_hooks


def test_worker_hooks_run_in_order_and_return_the_function() -> None:
    app = App(__name__)
    calls: list[str] = []

    @app.on_worker_start
    def first() -> None:
        calls.append("start 1")

    @app.on_worker_start
    def second() -> None:
        calls.append("start 2")

    @app.on_worker_stop
    def stop() -> None:
        calls.append("stop")

    assert first.__name__ == "first"
    run_worker_hooks(app, "start")
    run_worker_hooks(app, "stop")
    assert calls == ["start 1", "start 2", "stop"]


def test_worker_start_hook_error_propagates_and_stop_hook_error_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    app = App(__name__)

    @app.on_worker_start
    def broken_start() -> None:
        raise OSError("database down")

    @app.on_worker_stop
    def broken_stop() -> None:
        raise OSError("already closed")

    with pytest.raises(OSError, match="database down"):
        run_worker_hooks(app, "start")
    logger = logging.getLogger("sluice")
    propagate, logger.propagate = logger.propagate, True
    try:
        with caplog.at_level(logging.ERROR, logger="sluice.error"):
            run_worker_hooks(app, "stop")
    finally:
        logger.propagate = propagate
    assert "on_worker_stop hook" in caplog.text and "already closed" in caplog.text


def test_worker_hooks_registration_closes_after_freeze() -> None:
    app = App(__name__)
    app.freeze()
    with pytest.raises(RuntimeError, match="cannot register an on_worker_start hook"):
        app.on_worker_start(lambda: None)
    with pytest.raises(RuntimeError, match="cannot register an on_worker_stop hook"):
        app.on_worker_stop(lambda: None)

