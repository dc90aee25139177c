"""A sluice App served by ``sluice serve`` in live tests; events go to a marker file."""

from __future__ import annotations

import os
from collections.abc import Iterator

from sluice import signals
from sluice.app import App
from sluice.ctx import request
from sluice.wrappers.response import Response

app = App(__name__)
app.config["SECRET_KEY"] = "live-test-secret-key-0123456789abcdef"


def _mark(event: str) -> None:
    path = os.environ.get("SLUICE_TEST_MARKERS")
    if path:
        with open(path, "a") as f:
            f.write(event + "\n")


@app.get("/hello")
def hello() -> str:
    return "hello from sluice"


@app.get("/users/<int:user_id>")
def user(user_id: int) -> dict[str, int]:
    return {"id": user_id}


@app.get("/stream")
def stream() -> Iterator[str]:
    def gen() -> Iterator[str]:
        _mark(f"first chunk sees {request.path}")
        yield "one,"
        yield "two"
        _mark("last chunk")

    return gen()


@app.teardown_request
def teardown(exc: BaseException | None) -> None:
    _mark(f"teardown {request.path}")


def _closed(sender: App, response: Response) -> None:
    _mark("response_closed")


signals.response_closed.connect(_closed, sender=app)
