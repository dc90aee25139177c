"""Dispatch corners of the App's fast path."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from sluice.app import App
from sluice.ctx import request
from sluice.helpers import after_this_request
from sluice.wrappers.response import Response
from tests.validated import validated_client


def test_rule_without_view_is_a_logged_500_naming_the_endpoint(caplog: pytest.LogCaptureFixture) -> None:
    app = App(__name__)
    app.add_url_rule("/orphan", "orphan")
    with caplog.at_level(logging.ERROR, logger="sluice.app"):
        r = validated_client(app).get("/orphan")
    assert r.status_code == 500 and b"orphan" not in r.data
    assert "no view function for endpoint 'orphan'" in caplog.text


def test_callbacks_added_in_a_view_run_in_order() -> None:
    app = App(__name__)
    events: list[str] = []

    @app.get("/")
    def view() -> str:
        request.add_response_callback(lambda rq, rs: events.append(f"response 1 {rs.status_code}"))
        request.add_response_callback(lambda rq, rs: events.append("response 2"))
        request.add_finished_callback(lambda rq: events.append("finished 1"))
        request.add_finished_callback(lambda rq: events.append("finished 2"))

        @after_this_request
        def first(response: Response) -> Response:
            events.append("after 1")
            return response

        @after_this_request
        def second(response: Response) -> Response:
            events.append("after 2")
            return response

        return "ok"

    assert validated_client(app).get("/").text == "ok"
    # after_this_request functions run newest first, as Flask's do.
    assert events == ["after 2", "after 1", "response 1 200", "response 2", "finished 1", "finished 2"]


def test_response_subclass_with_own_call_still_ends_the_request() -> None:
    class Wrapped(Response):
        def __call__(self, environ, start_response):  # type: ignore[no-untyped-def]
            start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "7")])
            return [b"wrapped"]

    app = App(__name__)
    torn: list[BaseException | None] = []
    app.teardown_request(torn.append)
    app.add_url_rule("/", "index", lambda: Wrapped("ignored"))
    r = validated_client(app).get("/")
    assert r.data == b"wrapped" and torn == [None]


def test_response_class_with_own_init_is_constructed_for_str_views() -> None:
    class Tagged(Response):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.headers.set("X-Tagged", "yes")

    app = App(__name__)
    app.response_class = Tagged
    app.add_url_rule("/", "index", lambda: "text")
    r = validated_client(app).get("/")
    assert r.text == "text" and r.headers["X-Tagged"] == "yes"


def test_middleware_chain_built_once_by_concurrent_first_requests() -> None:
    import threading
    import time

    built: list[int] = []

    def slow_factory(get_response: Any) -> Any:
        built.append(1)
        time.sleep(0.05)  # wide window for a second thread to build it too
        return get_response

    app = App(__name__, middleware=[slow_factory])
    app.add_url_rule("/", "index", lambda: "ok")
    answers: list[str] = []
    threads = [threading.Thread(target=lambda: answers.append(validated_client(app).get("/").text)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert built == [1] and answers == ["ok"] * 8
