"""Error paths of the request pipeline, as a client and the app's hooks observe them.

Design: one fixture app, ``tests/apps/failing_app.py``, fails at each step of
DESIGN.md §1 (before_request hook, view, after_request hook, error handler,
middleware, ``make_response``, streaming body, teardown). Each failure is
checked with the test client (wrapped in ``wsgiref.validate``), through the
WSGI callable itself, and under a live ``sluice serve`` with ``requests`` or
a raw socket. The rules are Flask 3's (``full_dispatch_request``,
``handle_exception``, ``finalize_request``, ``do_teardown_request``) plus
sluice's own for middleware and for streaming bodies, whose request context
lives until the server closes the body:

- with TESTING, PROPAGATE_EXCEPTIONS and DEBUG off, an unhandled exception is
  a logged 500 (``errorhandler(500)`` when registered; after_request hooks
  run on it) and never leaves ``app(environ, start_response)``; with any of
  them on, it propagates;
- a failing error handler gives the generic 500, without recursion;
- an HTTPError raised in an inner middleware is the response the outer one sees;
- teardown functions and signals get the unhandled exception (the same
  object), None when it was handled; contexts are always popped;
- a failing teardown function stops neither the others nor the response;
- a streaming body that fails after its head reaches the teardown functions,
  and the server cuts the connection and goes on serving;
- nothing leaks: contexts, threads, file descriptors.
"""

from __future__ import annotations

import gc
import io
import json
import logging
import os
import re
import threading
import time
import uuid
from collections.abc import Iterable
from collections.abc import Iterator
from contextlib import contextmanager
from contextlib import suppress
from dataclasses import dataclass
from dataclasses import field
from typing import Any

import pytest
import requests

from sluice import signals
from sluice.app import App
from sluice.ctx import RequestContext
from sluice.ctx import has_app_context
from sluice.ctx import has_request_context
from sluice.errors import Forbidden
from sluice.errors import InternalServerError
from sluice.testing import TestClient
from tests.apps.failing_app import STREAM_FIRST_CHUNK
from tests.apps.failing_app import Boom
from tests.apps.failing_app import Record
from tests.apps.failing_app import make_app
from tests.client import RawClient
from tests.client import get as raw_get
from tests.live import LiveServer
from tests.live import start_server
from tests.validated import validated_client

STATUS_500 = "500 INTERNAL SERVER ERROR"
HTML_500, HTML = InternalServerError().get_body(prefers_json=False)
JSON_500, JSON = InternalServerError().get_body(prefers_json=True)

# Each place an unhandled exception can arise; every one is answered 500.
FAILING = [
    pytest.param("/before", id="before_request"),
    pytest.param("/view", id="view"),
    pytest.param("/after", id="after_request"),
    pytest.param("/handler", id="errorhandler"),
    pytest.param("/mw/before", id="middleware-before-get_response"),
    pytest.param("/mw/after", id="middleware-after-get_response"),
    pytest.param("/mw/inner-error", id="inner-middleware"),
    pytest.param("/none", id="make_response-None"),
    pytest.param("/int", id="make_response-int"),
]
FAILING_PATHS = [str(p.values[0]) for p in FAILING]
# The places inside the middleware chain, where after_request hooks apply.
INSIDE_MIDDLEWARE = [p for p in FAILING if not str(p.values[0]).startswith("/mw/")]
# The places below the middleware that copies the status it saw into X-Outer-Saw.
BELOW_OBSERVER = [p for p in FAILING if p.values[0] not in ("/mw/before", "/mw/after")]
# Views whose return value make_response refuses: the TypeError is sluice's.
MAKE_RESPONSE = {"/none": "'none'", "/int": "int"}
# Requests that fail, then are handled: the teardown functions get None.
HANDLED = [
    pytest.param("/ok", 200, id="no-error"),
    pytest.param("/handled", 418, id="errorhandler-answers"),
    pytest.param("/forbidden", 403, id="abort-403"),
    pytest.param("/mw/inner-403", 403, id="inner-middleware-403"),
]
PROPAGATING_CONFIGS = [
    pytest.param({"TESTING": True}, id="TESTING"),
    pytest.param({"PROPAGATE_EXCEPTIONS": True}, id="PROPAGATE_EXCEPTIONS"),
    pytest.param({"DEBUG": True}, id="DEBUG"),
]


# -- helpers ---------------------------------------------------------------------


class LogCapture(logging.Handler):
    """Keeps the records of the ``sluice`` loggers (attached to ``sluice`` itself)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def errors(self, logger: str | None = None) -> list[logging.LogRecord]:
        """The ERROR (and worse) records, of ``logger`` only if given."""
        return [r for r in self.records if r.levelno >= logging.ERROR and (logger is None or r.name == logger)]

    def logged_exceptions(self, logger: str | None = None) -> list[BaseException]:
        """The exceptions logged with their traceback at ERROR."""
        return [r.exc_info[1] for r in self.errors(logger) if r.exc_info and r.exc_info[1] is not None]

    def text(self, logger: str | None = None) -> str:
        """The ERROR records formatted with their tracebacks (chained exceptions included)."""
        formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
        return "\n".join(formatter.format(r) for r in self.errors(logger))


@pytest.fixture
def app_log() -> Iterator[LogCapture]:
    """Capture what the ``sluice`` loggers log, whatever another test did to their propagation."""
    logger = logging.getLogger("sluice")
    handler = LogCapture()
    level = logger.level
    logger.addHandler(handler)
    if not logger.isEnabledFor(logging.ERROR):
        logger.setLevel(logging.ERROR)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


@dataclass
class Heard:
    """What the signals of one app were sent with."""

    got_request_exception: list[BaseException] = field(default_factory=list)
    request_tearing_down: list[BaseException | None] = field(default_factory=list)
    appcontext_tearing_down: list[BaseException | None] = field(default_factory=list)


@contextmanager
def listening(app: App) -> Iterator[Heard]:
    """Record ``got_request_exception`` and the two tearing-down signals sent by ``app``."""
    heard = Heard()

    def on_exception(sender: object, **kwargs: Any) -> None:
        heard.got_request_exception.append(kwargs["exception"])

    def on_request_teardown(sender: object, **kwargs: Any) -> None:
        heard.request_tearing_down.append(kwargs["exc"])

    def on_appcontext_teardown(sender: object, **kwargs: Any) -> None:
        heard.appcontext_tearing_down.append(kwargs["exc"])

    signals.got_request_exception.connect(on_exception, sender=app)
    signals.request_tearing_down.connect(on_request_teardown, sender=app)
    signals.appcontext_tearing_down.connect(on_appcontext_teardown, sender=app)
    try:
        yield heard
    finally:
        signals.got_request_exception.disconnect(on_exception)
        signals.request_tearing_down.disconnect(on_request_teardown)
        signals.appcontext_tearing_down.disconnect(on_appcontext_teardown)


def failing_app(record: Record, **config: Any) -> App:
    """The fixture app, TESTING, PROPAGATE_EXCEPTIONS and DEBUG off unless ``config`` says otherwise."""
    app = make_app(record)
    app.config.update({"TESTING": False, "PROPAGATE_EXCEPTIONS": None, "DEBUG": False, **config})
    return app


def unhandled(path: str, record: Record, candidates: list[BaseException]) -> BaseException:
    """The exception that made the 500 of ``path``: the app's Boom, or make_response's TypeError among ``candidates``."""
    if path in MAKE_RESPONSE:
        matching = [e for e in candidates if isinstance(e, TypeError) and MAKE_RESPONSE[path] in str(e)]
        assert len(matching) == 1, f"expected make_response's TypeError naming {MAKE_RESPONSE[path]} in {candidates!r}"
        return matching[0]
    assert record.raised, f"{path} raised nothing"
    return record.raised[0]


class StartResponse:
    """A ``start_response`` that records its calls."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, list[tuple[str, str]], Any]] = []

    def __call__(self, status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        self.calls.append((status, list(headers), exc_info))
        return lambda data: None


def environ_for(app: App, path: str) -> dict[str, Any]:
    """The environ a server would build for ``GET path``."""
    return TestClient(app).build_environ(path)


def assert_no_context() -> None:
    assert not has_request_context(), "a request context is still active after the request"
    assert not has_app_context(), "an application context is still active after the request"


# -- rule 1: an unhandled exception is a logged 500 ------------------------------------


@pytest.mark.parametrize("path", FAILING)
def test_error_paths_unhandled_exception_is_500_html(path: str) -> None:
    r = validated_client(failing_app(Record())).get(path)
    assert r.status == STATUS_500
    assert r.header("Content-Type") == HTML
    assert r.data == HTML_500


@pytest.mark.parametrize("path", FAILING)
def test_error_paths_unhandled_exception_is_500_json_when_preferred(path: str) -> None:
    r = validated_client(failing_app(Record())).get(path, headers={"Accept": "application/json"})
    assert r.status == STATUS_500
    assert r.header("Content-Type") == JSON
    assert r.data == JSON_500


@pytest.mark.parametrize("path", FAILING)
def test_error_paths_unhandled_exception_never_leaves_the_wsgi_callable(path: str) -> None:
    app = failing_app(Record())
    start_response = StartResponse()
    result = app(environ_for(app, path), start_response)
    try:
        body = b"".join(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    assert [(status, exc_info) for status, _, exc_info in start_response.calls] == [(STATUS_500, None)]
    assert body == HTML_500


@pytest.mark.parametrize("path", FAILING)
def test_error_paths_unhandled_exception_logged_with_traceback(path: str, app_log: LogCapture) -> None:
    record = Record()
    validated_client(failing_app(record)).get(path)
    logged = app_log.logged_exceptions("sluice.app")
    exc = unhandled(path, record, logged)
    assert exc in logged, f"{exc!r} not logged on sluice.app at ERROR; logged: {logged!r}"
    (log_record,) = [r for r in app_log.errors("sluice.app") if r.exc_info and r.exc_info[1] is exc]
    assert log_record.exc_info is not None and log_record.exc_info[2] is not None, "logged without its traceback"


@pytest.mark.parametrize("path", FAILING)
def test_error_paths_unhandled_exception_uses_errorhandler_500(path: str) -> None:
    record = Record()
    app = make_app(record, with_500_handler=True)
    r = validated_client(app).get(path)
    assert (r.status, r.data, r.header("X-Handler")) == (STATUS_500, b"custom 500", "500")
    # As in Flask >= 1.1, the handler gets an InternalServerError, not the original exception.
    assert len(record.handler_500) == 1
    assert isinstance(record.handler_500[0], InternalServerError)


@pytest.mark.parametrize("path", INSIDE_MIDDLEWARE)
def test_error_paths_after_request_hooks_run_on_the_500(path: str) -> None:
    # Flask's handle_exception ends in finalize_request(from_error_handler=True).
    r = validated_client(failing_app(Record())).get(path)
    assert r.status == STATUS_500
    assert r.header("X-After-Request") == "ran"


@pytest.mark.parametrize("path", BELOW_OBSERVER)
def test_error_paths_outer_middleware_sees_the_500_of_inner_failures(path: str) -> None:
    # DESIGN.md §1.4: a middleware sees what is below it as a response, errors included.
    r = validated_client(failing_app(Record())).get(path)
    assert (r.status, r.header("X-Outer-Saw")) == (STATUS_500, "500")


# -- rule 1: TESTING, PROPAGATE_EXCEPTIONS or DEBUG on: the exception propagates -----


@pytest.mark.parametrize("config", PROPAGATING_CONFIGS)
@pytest.mark.parametrize("path", FAILING)
def test_error_paths_unhandled_exception_propagates(path: str, config: dict[str, Any]) -> None:
    record = Record()
    app = failing_app(record, **config)
    with listening(app) as heard:
        expected_type: type[BaseException] = TypeError if path in MAKE_RESPONSE else Boom
        with pytest.raises(expected_type) as caught:
            validated_client(app).get(path)
    assert caught.value is unhandled(path, record, [caught.value])
    # Flask sends got_request_exception before it decides to propagate.
    assert heard.got_request_exception == [caught.value]
    assert record.teardown_request == [caught.value]
    assert_no_context()


def test_error_paths_propagate_exceptions_false_overrides_testing() -> None:
    r = validated_client(failing_app(Record(), TESTING=True, PROPAGATE_EXCEPTIONS=False)).get("/view")
    assert (r.status, r.data) == (STATUS_500, HTML_500)


# -- rule 2: an error handler that fails ----------------------------------------------


def test_error_paths_failing_errorhandler_gives_generic_500_and_logs_original(app_log: LogCapture) -> None:
    record = Record()
    app = failing_app(record)
    with listening(app) as heard:
        r = validated_client(app).get("/handler")
    assert (r.status, r.data) == (STATUS_500, HTML_500)
    assert "the view's error, for a handler that fails" in app_log.text("sluice.app")
    assert "error handler failed" in app_log.text("sluice.app")
    # As Flask: the handler's exception is the unhandled one.
    assert heard.got_request_exception == record.raised
    assert record.teardown_request == record.raised


def test_error_paths_failing_errorhandler_then_errorhandler_500_answers() -> None:
    record = Record()
    r = validated_client(make_app(record, with_500_handler=True)).get("/handler")
    assert (r.status, r.data) == (STATUS_500, b"custom 500")


def test_error_paths_failing_errorhandler_500_gives_generic_500_once(app_log: LogCapture) -> None:
    record = Record()
    app = make_app(record, failing_500_handler=True)
    with listening(app) as heard:
        r = validated_client(app).get("/view")
    assert (r.status, r.data) == (STATUS_500, HTML_500)
    assert len(record.handler_500) == 1, "the 500 handler was called again for its own failure"
    view_error, handler_error = record.raised
    text = app_log.text("sluice.app")
    assert str(view_error) in text and str(handler_error) in text
    # As Flask's wsgi_app: the error that reached handle_exception is the one torn down with.
    assert record.teardown_request == [view_error]
    assert heard.got_request_exception == [view_error]
    assert_no_context()


def test_error_paths_errorhandler_500_returning_none_gives_generic_500(app_log: LogCapture) -> None:
    app = failing_app(Record())

    @app.errorhandler(500)
    def broken_500(exc: Exception) -> None:
        return None

    r = validated_client(app).get("/view")
    assert (r.status, r.data) == (STATUS_500, HTML_500)
    assert "view failed" in app_log.text("sluice.app")


# -- rule 3: an HTTPError in an inner middleware ----------------------------------------


def test_error_paths_http_error_in_inner_middleware_is_the_outer_middlewares_response() -> None:
    r = validated_client(failing_app(Record())).get("/mw/inner-403")
    assert r.status == "403 FORBIDDEN"
    assert r.header("X-Outer-Saw") == "403"
    assert r.data == Forbidden("inner middleware refused").get_body()[0]


# -- rule 4: teardown functions and signals get the unhandled exception -----------------


@pytest.mark.parametrize("path", FAILING)
def test_error_paths_teardown_receives_the_unhandled_exception(path: str) -> None:
    record = Record()
    app = failing_app(record)
    with listening(app) as heard:
        r = validated_client(app).get(path)
    assert r.status == STATUS_500
    exc = unhandled(path, record, heard.got_request_exception)
    assert heard.got_request_exception == [exc]
    assert len(record.teardown_request) == 1 and record.teardown_request[0] is exc
    assert len(record.teardown_appcontext) == 1 and record.teardown_appcontext[0] is exc
    assert len(heard.request_tearing_down) == 1 and heard.request_tearing_down[0] is exc
    assert len(heard.appcontext_tearing_down) == 1 and heard.appcontext_tearing_down[0] is exc


@pytest.mark.parametrize(("path", "status"), HANDLED)
def test_error_paths_teardown_receives_none_when_handled(path: str, status: int) -> None:
    record = Record()
    app = failing_app(record)
    with listening(app) as heard:
        r = validated_client(app).get(path)
    assert r.status_code == status
    assert heard.got_request_exception == []
    assert record.teardown_request == [None]
    assert record.teardown_appcontext == [None]
    assert heard.request_tearing_down == [None]
    assert heard.appcontext_tearing_down == [None]


# -- rule 5: contexts are popped; the next request works ---------------------------------


@pytest.mark.parametrize("testing", [False, True], ids=["TESTING-off", "TESTING-on"])
@pytest.mark.parametrize("path", [*FAILING, "/after-always", "/view-then-after", "/stream", "/teardown-fails"])
def test_error_paths_contexts_popped_and_next_request_works(path: str, testing: bool) -> None:
    app = failing_app(Record(), TESTING=testing)
    client = validated_client(app)
    with suppress(Exception):  # TESTING on and /stream raise: what they raise is tested above
        client.get(path)
    assert_no_context()
    r = client.get("/ok")
    assert (r.status, r.data) == ("200 OK", b"ok")
    assert_no_context()


def test_error_paths_after_request_failure_still_tears_down_once() -> None:
    record = Record()
    validated_client(failing_app(record)).get("/after")
    assert record.teardown_request == [record.raised[0]]
    assert record.teardown_appcontext == [record.raised[0]]
    assert_no_context()


# -- rule 6: a teardown function that fails ----------------------------------------------


def test_error_paths_failing_teardown_keeps_response_and_other_teardowns(app_log: LogCapture) -> None:
    record = Record()
    app = failing_app(record)
    with listening(app) as heard:
        r = validated_client(app).get("/teardown-fails")
    assert (r.status, r.data) == ("200 OK", b"ok")
    # The teardown_request function registered before the failing one runs after it.
    assert record.teardown_request == [None]
    assert record.teardown_appcontext == [None]
    assert heard.request_tearing_down == [None]
    assert heard.appcontext_tearing_down == [None]
    (teardown_error,) = record.raised
    assert teardown_error in app_log.logged_exceptions(), "the teardown function's error was not logged"
    assert_no_context()


def test_error_paths_failing_teardown_not_raised_from_close() -> None:
    app = failing_app(Record())
    start_response = StartResponse()
    result = app(environ_for(app, "/teardown-fails"), start_response)
    assert b"".join(result) == b"ok"
    close = getattr(result, "close", None)
    assert close is not None
    close()  # must not raise: the server has already sent the response
    assert [status for status, _, _ in start_response.calls] == ["200 OK"]
    assert_no_context()


# -- rule 7: a streaming body that fails after its head ------------------------------------


@pytest.mark.parametrize("testing", [False, True], ids=["TESTING-off", "TESTING-on"])
def test_error_paths_stream_failure_reaches_teardown(testing: bool) -> None:
    record = Record()
    app = failing_app(record, TESTING=testing)
    start_response = StartResponse()
    with listening(app) as heard:
        result = app(environ_for(app, "/stream"), start_response)
        chunks = iter(result)
        assert next(chunks) == STREAM_FIRST_CHUNK
        with pytest.raises(Boom, match="stream failed") as caught:
            next(chunks)
        close = getattr(result, "close", None)
        assert close is not None
        close()
    assert [status for status, _, _ in start_response.calls] == ["200 OK"]
    assert record.raised == [caught.value]
    assert record.teardown_request == [caught.value]
    assert record.teardown_appcontext == [caught.value]
    assert heard.request_tearing_down == [caught.value]
    assert heard.appcontext_tearing_down == [caught.value]
    assert_no_context()


def test_error_paths_stream_failure_raised_to_test_client_after_teardown() -> None:
    # The head is out: only the server can end the response, by closing the connection.
    record = Record()
    with pytest.raises(Boom, match="stream failed") as caught:
        validated_client(failing_app(record)).get("/stream")
    assert record.teardown_request == [caught.value]
    assert_no_context()


# -- rule 10: after_request hooks on the 500, and their failure there ------------------------


def test_error_paths_after_request_failure_on_the_500_is_logged_and_500_sent(app_log: LogCapture) -> None:
    record = Record()
    r = validated_client(failing_app(record)).get("/view-then-after")
    assert (r.status, r.data) == (STATUS_500, HTML_500)
    view_error, after_error = record.raised
    assert "view failed" in str(view_error) and "after_request on the 500" in str(after_error)
    text = app_log.text("sluice.app")
    assert str(view_error) in text and str(after_error) in text
    assert record.teardown_request == [view_error]


def test_error_paths_after_request_failing_on_every_response_still_sends_500(app_log: LogCapture) -> None:
    record = Record()
    r = validated_client(failing_app(record)).get("/after-always")
    assert (r.status, r.data) == (STATUS_500, HTML_500)
    first, on_500 = record.raised
    assert "on 200" in str(first) and "on 500" in str(on_500)
    text = app_log.text("sluice.app")
    assert str(first) in text and str(on_500) in text
    assert record.teardown_request == [first]


# -- rule 9: nothing leaks (in process) -------------------------------------------------------


class CountingHandler(logging.Handler):
    """Counts records and keeps none (a kept record's traceback would keep its request alive)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


@contextmanager
def counted_sluice_log() -> Iterator[CountingHandler]:
    """Route the ``sluice`` loggers to a counter only, for the duration."""
    logger = logging.getLogger("sluice")
    saved = (logger.handlers[:], logger.propagate, logger.level)
    counter = CountingHandler()
    logger.handlers[:] = [counter]
    logger.propagate = False
    logger.setLevel(logging.ERROR)
    try:
        yield counter
    finally:
        logger.handlers[:], logger.propagate, level = saved
        logger.setLevel(level)


def _live_request_contexts() -> int:
    gc.collect()
    return sum(1 for obj in gc.get_objects() if isinstance(obj, RequestContext))


@dataclass
class DirectRun:
    """Sends requests straight to the WSGI callable, as a server would, and notes what went wrong."""

    app: App
    paths: list[str]
    escaped: dict[str, int] = field(default_factory=dict)
    statuses: dict[str, set[str]] = field(default_factory=dict)

    def run(self, count: int, deadline: float) -> None:
        """Send ``count`` requests cycling through ``paths``; fail past ``deadline`` (monotonic)."""
        environs = {path: environ_for(self.app, path) for path in self.paths}
        start_response = StartResponse()
        for i in range(count):
            path = self.paths[i % len(self.paths)]
            environ = dict(environs[path])
            environ["wsgi.input"] = io.BytesIO()
            start_response.calls.clear()
            result: Iterable[bytes] | None = None
            try:
                result = self.app(environ, start_response)
                for _ in result:
                    pass
            except Exception as exc:
                if not (path == "/stream" and isinstance(exc, Boom)):
                    self.escaped[path] = self.escaped.get(path, 0) + 1
            finally:
                close = getattr(result, "close", None)
                try:
                    if close is not None:
                        close()
                except Exception:
                    self.escaped[f"{path} close()"] = self.escaped.get(f"{path} close()", 0) + 1
            self.statuses.setdefault(path, set()).update(status for status, _, _ in start_response.calls)
            if time.monotonic() > deadline:
                pytest.fail(f"too slow: stopped after {i} of {count} requests")


def test_error_paths_10000_failures_leak_nothing_in_process() -> None:
    mix = [*FAILING_PATHS, "/after-always", "/view-then-after", "/stream", "/teardown-fails", "/handled"]
    direct = DirectRun(failing_app(Record(keep_objects=False)), mix)
    deadline = time.monotonic() + 60
    with counted_sluice_log() as log_count:
        direct.run(len(mix), deadline)  # the app starts, lazy imports happen
        contexts_before = _live_request_contexts()
        threads_before = threading.active_count()
        fds_before = len(os.listdir("/proc/self/fd"))
        direct.run(10_000, deadline)
    assert_no_context()
    assert threading.active_count() <= threads_before, "threads left behind"
    assert len(os.listdir("/proc/self/fd")) <= fds_before, "file descriptors left open"
    assert _live_request_contexts() <= contexts_before, "request contexts outlive their requests"
    assert direct.escaped == {}, f"exceptions left app() or close(): {direct.escaped}"
    assert {p: direct.statuses[p] for p in FAILING_PATHS} == {p: {STATUS_500} for p in FAILING_PATHS}
    assert log_count.count >= 10_000 * len(FAILING_PATHS) // len(mix), "the failures were not logged"


# -- rule 8: the same failures under a live ``sluice serve`` ------------------------------------


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    srv = start_server("tests.apps.failing_app:app")
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def server_500() -> Iterator[LiveServer]:
    srv = start_server("tests.apps.failing_app:app_with_500_handler")
    yield srv
    srv.stop()


def _tag() -> str:
    return uuid.uuid4().hex[:12]


def _recorded(server: LiveServer, tag: str, timeout: float = 3.0) -> dict[str, str]:
    """What the live app's teardown functions received for the request tagged ``tag`` (polled)."""
    deadline = time.monotonic() + timeout
    while True:
        r = requests.get(f"{server.url}/record/{tag}", timeout=5)
        seen: dict[str, str] = json.loads(r.content) if r.status_code == 200 else {}
        if len(seen) == 2 or time.monotonic() > deadline:
            return seen
        time.sleep(0.02)


@pytest.mark.live
@pytest.mark.parametrize("path", FAILING)
def test_live_unhandled_exception_is_500(server: LiveServer, path: str) -> None:
    tag = _tag()
    r = requests.get(f"{server.url}{path}?tag={tag}", timeout=5)
    assert (r.status_code, r.reason) == (500, "INTERNAL SERVER ERROR")
    assert r.headers["Content-Type"] == HTML
    assert r.content == HTML_500
    assert r.headers.get("Connection", "").lower() != "close", "the app's 500 should not cost the connection"
    if path not in MAKE_RESPONSE and path != "/handler":
        server.wait_for_output(re.escape(f"failed [tag={tag}]"))


@pytest.mark.live
def test_live_unhandled_exceptions_keep_the_connection(server: LiveServer) -> None:
    with RawClient(server.host, server.port) as client:
        for path in FAILING_PATHS:
            resp = client.request(raw_get(path))
            assert (resp.version, resp.status, resp.reason) == ("HTTP/1.1", 500, "INTERNAL SERVER ERROR"), path
            assert resp.body == HTML_500, path
        resp = client.request(raw_get("/ok"))
        assert (resp.status, resp.body) == (200, b"ok")


@pytest.mark.live
@pytest.mark.parametrize("path", FAILING)
def test_live_unhandled_exception_uses_errorhandler_500(server_500: LiveServer, path: str) -> None:
    r = requests.get(f"{server_500.url}{path}", timeout=5)
    assert (r.status_code, r.reason, r.content) == (500, "INTERNAL SERVER ERROR", b"custom 500")
    assert r.headers["X-Handler"] == "500"


@pytest.mark.live
def test_live_http_error_in_inner_middleware_reaches_outer(server: LiveServer) -> None:
    r = requests.get(f"{server.url}/mw/inner-403", timeout=5)
    assert (r.status_code, r.reason) == (403, "FORBIDDEN")
    assert r.headers["X-Outer-Saw"] == "403"
    assert r.content == Forbidden("inner middleware refused").get_body()[0]


@pytest.mark.live
@pytest.mark.parametrize("path", ["/view", "/after", "/mw/after"])
def test_live_teardown_receives_the_unhandled_exception(server: LiveServer, path: str) -> None:
    tag = _tag()
    assert requests.get(f"{server.url}{path}?tag={tag}", timeout=5).status_code == 500
    seen = _recorded(server, tag)
    assert seen.get("teardown_request", "").startswith("Boom("), seen
    assert f"[tag={tag}]" in seen["teardown_request"]
    assert seen.get("teardown_appcontext") == seen["teardown_request"]


@pytest.mark.live
def test_live_failing_teardown_keeps_response_and_other_teardowns(server: LiveServer) -> None:
    tag = _tag()
    r = requests.get(f"{server.url}/teardown-fails?tag={tag}", timeout=5)
    assert (r.status_code, r.content) == (200, b"ok")
    server.wait_for_output(re.escape(f"teardown_request failed [tag={tag}]"))
    assert f"error in close() of the response to GET /teardown-fails?tag={tag}" not in server.output, (
        "the teardown function's error was raised out of the body's close() to the server"
    )
    assert _recorded(server, tag) == {"teardown_request": "None", "teardown_appcontext": "None"}
    assert requests.get(f"{server.url}/ok", timeout=5).content == b"ok"


@pytest.mark.live
def test_live_stream_failure_cuts_connection_and_reaches_teardown(server: LiveServer) -> None:
    tag = _tag()
    with RawClient(server.host, server.port) as client:
        client.send(raw_get(f"/stream?tag={tag}"))
        received = b""
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            data = client.sock.recv(65536)
            if not data:
                break
            received += data
        else:
            pytest.fail(f"the server kept the connection open after the body failed; got {received!r}")
    head, _, body = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"transfer-encoding: chunked" in head.lower()
    assert STREAM_FIRST_CHUNK in body
    assert not body.endswith(b"0\r\n\r\n"), "the failed stream ended with the last chunk, as if complete"
    seen = _recorded(server, tag)
    assert seen.get("teardown_request", "").startswith("Boom('stream failed"), seen
    assert seen.get("teardown_appcontext") == seen["teardown_request"]
    assert requests.get(f"{server.url}/ok", timeout=5).content == b"ok"


@pytest.mark.live
def test_live_stream_failure_seen_by_requests_as_incomplete_body(server: LiveServer) -> None:
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        requests.get(f"{server.url}/stream", timeout=5)
    assert requests.get(f"{server.url}/ok", timeout=5).content == b"ok"


# -- rule 9: nothing leaks (live) ----------------------------------------------------------------


def _fd_count(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


@pytest.mark.live
def test_live_2000_failures_over_keep_alive_keep_fds_flat(server: LiveServer) -> None:
    expected = {path: 500 for path in FAILING_PATHS}
    expected.update({"/handled": 418, "/forbidden": 403, "/teardown-fails": 200, "/stream": 0})
    mix = list(expected)
    pid = server.proc.pid
    wrong: dict[str, set[int]] = {}

    def run(session: requests.Session, count: int) -> None:
        for i in range(count):
            path = mix[i % len(mix)]
            try:
                code = session.get(f"{server.url}{path}", timeout=5).status_code
            except requests.exceptions.ChunkedEncodingError:
                code = 0
            if code != expected[path]:
                wrong.setdefault(path, set()).add(code)
        assert session.get(f"{server.url}/ok", timeout=5).status_code == 200  # one open connection

    with requests.Session() as session:
        run(session, 2 * len(mix))
        fds_before = _fd_count(pid)
        started = time.monotonic()
        run(session, 2000)
        elapsed = time.monotonic() - started
        deadline = time.monotonic() + 3
        fds_after = _fd_count(pid)
        while fds_after > fds_before and time.monotonic() < deadline:
            time.sleep(0.05)
            fds_after = _fd_count(pid)
    assert fds_after <= fds_before, f"server fds grew from {fds_before} to {fds_after} over 2000 failing requests"
    assert elapsed < 30, f"2000 requests took {elapsed:.1f} s"
    assert wrong == {}, f"unexpected statuses (0: broken stream): {wrong}"
    assert server.proc.poll() is None
