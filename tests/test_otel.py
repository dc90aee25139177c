"""OpenTelemetry server spans (``sluice.otel``, ``sluice serve --otel``), read from the SDK's in-memory exporter.

Each test passes its own tracer provider to :func:`sluice.otel.instrument`:
the global provider can be set only once per process, and a test must see
only its own spans.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import flask
import pytest
import requests
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from opentelemetry.trace import StatusCode

from sluice.app import App
from sluice.cli import main
from sluice.config import resolve
from sluice.errors import ConfigError
from sluice.files import send_file
from sluice.otel import TracedApp
from sluice.otel import instrument
from sluice.server.response import Exchange
from sluice.server.runner import traced
from sluice.server.wsgi import FileWrapper
from sluice.wrappers.response import Response
from tests.conftest import InProcess
from tests.live import LiveServer

TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
PARENT_ID = "b7ad6b7169203331"
TRACEPARENT = f"00-{TRACE_ID}-{PARENT_ID}-01"
FILE = Path(__file__).resolve()  # a file to send: this one
OTEL_APP_FILE = FILE.parent / "apps" / "files_app.py"  # what tests/apps/otel_app.py sends

Environ = dict[str, Any]


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def provider(exporter: InMemorySpanExporter) -> TracerProvider:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider


def make_app(provider: TracerProvider) -> App:
    app = App(__name__)
    tracer = provider.get_tracer("tests")

    @app.get("/")
    def index() -> str:
        return "hello"

    @app.get("/users/<int:user_id>")
    def user(user_id: int) -> str:
        return f"user {user_id}"

    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError("boom")

    @app.get("/child")
    def child() -> str:
        with tracer.start_as_current_span("work"):
            return "done"

    @app.get("/current")
    def current() -> str:
        return format(trace.get_current_span().get_span_context().span_id, "016x")

    app.wsgi_app = instrument(app.wsgi_app, tracer_provider=provider)  # type: ignore[method-assign]
    return app


def only_span(exporter: InMemorySpanExporter) -> ReadableSpan:
    spans = exporter.get_finished_spans()
    assert len(spans) == 1, spans
    return spans[0]


def call(app: Callable[[Environ, Any], Iterable[bytes]], environ: Environ) -> tuple[str, Iterable[bytes]]:
    """Call a WSGI app; return the status and its iterable, not consumed or closed."""
    statuses: list[str] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
        statuses.append(status)
        return lambda data: None

    result = app(environ, start_response)
    return (statuses[-1] if statuses else ""), result


def close(body: Iterable[bytes]) -> None:
    """Close a WSGI iterable, as a server does when the body is done."""
    closer = getattr(body, "close", None)
    assert closer is not None
    closer()


def environ_for(path: str = "/", method: str = "GET", **extra: Any) -> Environ:
    environ: Environ = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http",
    }
    environ.update(extra)
    return environ


# -- the span of a sluice App ---------------------------------------------------------


def test_otel_plain_route_span_has_semantic_convention_attributes(
    provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    client = make_app(provider).test_client()
    response = client.get("/?q=1", headers={"User-Agent": "probe/1.0"}, environ_base={"REMOTE_ADDR": "10.0.0.7"})
    assert response.text == "hello"
    span = only_span(exporter)
    assert span.name == "GET /"
    assert span.kind is SpanKind.SERVER
    assert span.status.status_code is StatusCode.UNSET
    assert span.parent is None
    assert span.instrumentation_scope is not None and span.instrumentation_scope.name == "sluice"
    assert dict(span.attributes or {}) == {
        "http.request.method": "GET",
        "url.scheme": "http",
        "url.path": "/",
        "url.query": "q=1",
        "server.address": "localhost",
        "server.port": 80,
        "client.address": "10.0.0.7",
        "network.protocol.version": "1.1",
        "user_agent.original": "probe/1.0",
        "http.route": "/",
        "http.response.status_code": 200,
    }
    assert span.end_time is not None and span.start_time is not None and span.end_time >= span.start_time


def test_otel_route_with_converter_is_the_template(provider: TracerProvider, exporter: InMemorySpanExporter) -> None:
    response = make_app(provider).test_client().get("/users/42")
    assert response.text == "user 42"
    span = only_span(exporter)
    assert span.name == "GET /users/<int:user_id>"
    assert span.attributes is not None
    assert span.attributes["http.route"] == "/users/<int:user_id>"
    assert span.attributes["url.path"] == "/users/42"


def test_otel_route_below_the_mount_point(provider: TracerProvider, exporter: InMemorySpanExporter) -> None:
    app = make_app(provider)
    status, body = call(app, environ_for("/users/7", SCRIPT_NAME="/api"))
    assert status == "200 OK"
    assert b"".join(body) == b"user 7"
    close(body)
    span = only_span(exporter)
    assert span.name == "GET /api/users/<int:user_id>"
    assert span.attributes is not None and span.attributes["url.path"] == "/api/users/7"


def test_otel_not_found_span_is_named_by_the_method(provider: TracerProvider, exporter: InMemorySpanExporter) -> None:
    response = make_app(provider).test_client().get("/missing")
    assert response.status_code == 404
    span = only_span(exporter)
    assert span.name == "GET"
    assert span.attributes is not None
    assert "http.route" not in span.attributes
    assert span.attributes["http.response.status_code"] == 404
    assert span.status.status_code is StatusCode.UNSET  # a client error is not the server's


def test_otel_exception_made_500_is_an_error_with_its_event(
    provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    response = make_app(provider).test_client().get("/boom")
    assert response.status_code == 500
    span = only_span(exporter)
    assert span.name == "GET /boom"
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == "RuntimeError: boom"
    assert span.attributes is not None
    assert span.attributes["http.response.status_code"] == 500
    assert span.attributes["error.type"] == "RuntimeError"
    [event] = span.events
    assert event.name == "exception"
    assert event.attributes is not None
    assert event.attributes["exception.type"] == "RuntimeError"
    assert event.attributes["exception.message"] == "boom"


def test_otel_5xx_response_without_exception_is_an_error(
    provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    app = App(__name__)

    @app.get("/down")
    def down() -> tuple[str, int]:
        return "down", 503

    app.wsgi_app = instrument(app.wsgi_app, tracer_provider=provider)  # type: ignore[method-assign]
    assert app.test_client().get("/down").status_code == 503
    span = only_span(exporter)
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes is not None and span.attributes["error.type"] == "503"
    assert span.events == ()


def test_otel_parent_taken_from_traceparent(provider: TracerProvider, exporter: InMemorySpanExporter) -> None:
    make_app(provider).test_client().get("/", headers={"traceparent": TRACEPARENT})
    span = only_span(exporter)
    assert format(span.context.trace_id, "032x") == TRACE_ID
    assert span.parent is not None
    assert span.parent.is_remote
    assert format(span.parent.span_id, "016x") == PARENT_ID


def test_otel_app_span_is_a_child_of_the_server_span(provider: TracerProvider, exporter: InMemorySpanExporter) -> None:
    make_app(provider).test_client().get("/child", headers={"traceparent": TRACEPARENT})
    work, server = exporter.get_finished_spans()
    assert (work.name, server.name) == ("work", "GET /child")
    assert work.parent is not None
    assert work.parent.span_id == server.context.span_id
    assert work.context.trace_id == server.context.trace_id == int(TRACE_ID, 16)


def test_otel_context_is_detached_after_the_request(provider: TracerProvider, exporter: InMemorySpanExporter) -> None:
    response = make_app(provider).test_client().get("/current")
    span = only_span(exporter)
    assert response.text == format(span.context.span_id, "016x")
    assert trace.get_current_span() is trace.INVALID_SPAN


def test_otel_request_id_attribute(provider: TracerProvider, exporter: InMemorySpanExporter) -> None:
    make_app(provider).test_client().get("/", environ_base={"sluice.request_id": "4bf92f3577b34da6"})
    span = only_span(exporter)
    assert span.attributes is not None and span.attributes["sluice.request_id"] == "4bf92f3577b34da6"


def test_otel_unknown_method_is_other(provider: TracerProvider, exporter: InMemorySpanExporter) -> None:
    response = make_app(provider).test_client().open("/", "BREW")
    assert response.status_code == 405
    span = only_span(exporter)
    assert span.name == "HTTP"
    assert span.attributes is not None
    assert span.attributes["http.request.method"] == "_OTHER"
    assert span.attributes["http.request.method_original"] == "BREW"


def test_otel_signature_in_query_redacted(provider: TracerProvider, exporter: InMemorySpanExporter) -> None:
    make_app(provider).test_client().get("/?a=1&sig=secret&Signature=x&b")
    span = only_span(exporter)
    assert span.attributes is not None
    assert span.attributes["url.query"] == "a=1&sig=REDACTED&Signature=REDACTED&b"


# -- the body: duration, context, close --------------------------------------------------


def test_otel_streamed_body_span_ends_at_close(provider: TracerProvider, exporter: InMemorySpanExporter) -> None:
    app = App(__name__)
    seen: list[tuple[int, int]] = []  # (time, current span id) at each chunk

    @app.get("/stream")
    def stream() -> Iterator[str]:
        for part in ("a", "b", "c"):
            time.sleep(0.01)
            seen.append((time.time_ns(), trace.get_current_span().get_span_context().span_id))
            yield part

    traced_app = instrument(app, tracer_provider=provider)
    before = time.time_ns()
    status, body = call(traced_app, environ_for("/stream"))
    assert status == "200 OK"
    assert exporter.get_finished_spans() == ()
    assert b"".join(body) == b"abc"
    assert exporter.get_finished_spans() == ()  # iterated, not closed yet
    assert trace.get_current_span() is trace.INVALID_SPAN  # attached only during next()
    close(body)
    span = only_span(exporter)
    assert span.name == "GET /stream"
    assert span.start_time is not None and span.end_time is not None
    assert span.start_time >= before
    assert span.end_time >= seen[-1][0]
    assert span.end_time - span.start_time >= 30_000_000  # the three 10 ms waits
    assert {span_id for _, span_id in seen} == {span.context.span_id}


def test_otel_exception_from_the_app_call_recorded_and_raised(
    provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    def failing(environ: Environ, start_response: Any) -> Iterable[bytes]:
        raise KeyError("missing")

    with pytest.raises(KeyError, match="missing"):
        call(instrument(failing, tracer_provider=provider), environ_for("/x"))
    span = only_span(exporter)
    assert span.name == "GET"
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes is not None and span.attributes["error.type"] == "KeyError"
    assert [event.name for event in span.events] == ["exception"]
    assert trace.get_current_span() is trace.INVALID_SPAN


def test_otel_exception_from_the_body_recorded_span_ends_at_close(
    provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    closed: list[bool] = []

    class Body:
        def __iter__(self) -> Iterator[bytes]:
            yield b"part"
            raise ValueError("broken stream")

        def close(self) -> None:
            closed.append(True)

    def app(environ: Environ, start_response: Any) -> Iterable[bytes]:
        start_response("200 OK", [])
        return Body()

    _, body = call(instrument(app, tracer_provider=provider), environ_for("/x"))
    chunks = iter(body)
    assert next(chunks) == b"part"
    with pytest.raises(ValueError, match="broken stream"):
        next(chunks)
    assert exporter.get_finished_spans() == ()
    close(body)
    assert closed == [True]
    span = only_span(exporter)
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes is not None
    assert span.attributes["error.type"] == "ValueError"
    assert span.attributes["http.response.status_code"] == 200


def test_otel_exception_from_close_recorded_span_ended(provider: TracerProvider, exporter: InMemorySpanExporter) -> None:
    class Body:
        def __iter__(self) -> Iterator[bytes]:
            yield b"done"

        def close(self) -> None:
            raise OSError("cannot release")

    def app(environ: Environ, start_response: Any) -> Iterable[bytes]:
        start_response("200 OK", [])
        return Body()

    _, body = call(instrument(app, tracer_provider=provider), environ_for("/x"))
    assert list(body) == [b"done"]
    with pytest.raises(OSError, match="cannot release"):
        close(body)
    span = only_span(exporter)
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes is not None and span.attributes["error.type"] == "OSError"
    assert trace.get_current_span() is trace.INVALID_SPAN


def test_otel_list_body_returned_as_is_span_ended(provider: TracerProvider, exporter: InMemorySpanExporter) -> None:
    body = [b"a", b"b"]

    def app(environ: Environ, start_response: Any) -> Iterable[bytes]:
        start_response("201 Created", [])
        return body

    _, result = call(instrument(app, tracer_provider=provider), environ_for("/x", "POST"))
    assert result is body  # the server keeps its fast path for lists
    span = only_span(exporter)
    assert span.name == "POST"
    assert span.attributes is not None and span.attributes["http.response.status_code"] == 201


def test_otel_file_wrapper_returned_as_is_span_ends_at_its_close(
    provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    handle = FILE.open("rb")
    wrapper = FileWrapper(handle)

    def app(environ: Environ, start_response: Any) -> Iterable[bytes]:
        start_response("200 OK", [])
        file_wrapper: type[FileWrapper] = environ["wsgi.file_wrapper"]
        assert file_wrapper is FileWrapper
        return wrapper

    environ = environ_for("/x")
    environ["wsgi.file_wrapper"] = FileWrapper
    _, result = call(instrument(app, tracer_provider=provider), environ)
    assert result is wrapper  # so sluice's server still sends it with sendfile
    assert exporter.get_finished_spans() == ()
    close(result)
    assert handle.closed
    only_span(exporter)


def test_otel_instrumented_twice_one_span(provider: TracerProvider, exporter: InMemorySpanExporter) -> None:
    app = make_app(provider)
    twice = instrument(app, tracer_provider=provider)
    _, body = call(twice, environ_for("/users/3"))
    assert b"".join(body) == b"user 3"
    close(body)
    span = only_span(exporter)
    assert span.name == "GET /users/<int:user_id>"


def test_otel_flask_route_template(provider: TracerProvider, exporter: InMemorySpanExporter) -> None:
    app = flask.Flask(__name__)

    @app.get("/items/<int:item>")
    def item(item: int) -> str:
        return f"item {item}"

    traced_app = instrument(app, tracer_provider=provider)
    status, body = call(traced_app, environ_for("/items/5"))
    assert status == "200 OK"
    assert b"".join(body) == b"item 5"
    close(body)
    span = only_span(exporter)
    assert span.name == "GET /items/<int:item>"
    assert span.attributes is not None and span.attributes["http.route"] == "/items/<int:item>"


def test_otel_plain_wsgi_app_has_no_route(provider: TracerProvider, exporter: InMemorySpanExporter) -> None:
    def app(environ: Environ, start_response: Any) -> Iterable[bytes]:
        start_response("200 OK", [])
        return iter([b"ok"])

    _, body = call(instrument(app, tracer_provider=provider), environ_for("/anything"))
    assert list(body) == [b"ok"]
    close(body)
    span = only_span(exporter)
    assert span.name == "GET"
    assert span.attributes is not None and "http.route" not in span.attributes


# -- the server setting ------------------------------------------------------------------


def test_otel_setting_off_by_default_no_wrapper() -> None:
    assert resolve().otel is False
    assert traced(resolve()) is None
    assert resolve({"otel": "true"}).otel is True
    assert resolve(environ={"SLUICE_OTEL": "1"}).otel is True
    assert traced(resolve({"otel": True})) is instrument


def test_otel_setting_without_packages_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "opentelemetry", None)  # the import fails, as when not installed
    monkeypatch.delitem(sys.modules, "sluice.otel")
    with pytest.raises(ConfigError, match=r"install them with: pip install 'sluice\[otel\]'"):
        traced(resolve({"otel": True}))


def test_otel_serve_without_packages_fails_at_startup(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "opentelemetry", None)
    monkeypatch.delitem(sys.modules, "sluice.otel")
    code = main(["serve", "tests.apps.factories:create_app()", "--bind", "127.0.0.1:0", "--otel"])
    assert code == 2
    err = capsys.readouterr().err
    assert "--otel" in err and "pip install 'sluice[otel]'" in err


def test_otel_in_process_server_file_still_sent_with_sendfile(
    provider: TracerProvider,
    exporter: InMemorySpanExporter,
    in_process_worker: Callable[..., InProcess],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sent: list[bool] = []
    original = Exchange.send_file

    def spy(self: Exchange, wrapper: FileWrapper) -> bool:
        result = original(self, wrapper)
        sent.append(result)
        return result

    monkeypatch.setattr(Exchange, "send_file", spy)
    app = App(__name__)

    @app.get("/file")
    def file() -> Response:
        return send_file(FILE)

    finished = threading.Event()
    exporter_export = exporter.export

    def export(spans: Any) -> Any:
        result = exporter_export(spans)
        finished.set()
        return result

    monkeypatch.setattr(exporter, "export", export)
    _, port, _ = in_process_worker(TracedApp(app, provider))
    response = requests.get(f"http://127.0.0.1:{port}/file", timeout=10)
    assert response.content == FILE.read_bytes()
    assert finished.wait(10)
    assert sent == [True]
    span = only_span(exporter)
    assert span.name == "GET /file"
    assert span.attributes is not None
    assert span.attributes["server.port"] == port
    assert span.attributes["client.address"] == "127.0.0.1"


@pytest.mark.live
def test_otel_live_serve_with_otel_exports_server_spans(
    tmp_path: Path, live_server: Callable[..., LiveServer]
) -> None:
    spans_file = tmp_path / "spans.jsonl"
    server = live_server("tests.apps.otel_app:app", "--otel", env={"SLUICE_TEST_SPANS": str(spans_file)})
    response = requests.get(f"{server.url}/users/9?x=1", headers={"traceparent": TRACEPARENT}, timeout=10)
    assert response.text == "user 9"
    assert requests.get(f"{server.url}/stream", timeout=10).text == "ab"
    assert requests.get(f"{server.url}/file", timeout=10).content == OTEL_APP_FILE.read_bytes()
    spans = _read_spans(spans_file, 4)
    by_name = {span["name"]: span for span in spans}
    assert set(by_name) == {"load user", "GET /users/<int:user_id>", "GET /stream", "GET /file"}
    server_span = by_name["GET /users/<int:user_id>"]
    assert server_span["kind"] == "SpanKind.SERVER"
    assert server_span["context"]["trace_id"] == f"0x{TRACE_ID}"
    assert server_span["parent_id"] == f"0x{PARENT_ID}"
    assert by_name["load user"]["parent_id"] == server_span["context"]["span_id"]
    assert server_span["attributes"] == {
        "http.request.method": "GET",
        "url.scheme": "http",
        "url.path": "/users/9",
        "url.query": "x=1",
        "server.address": "127.0.0.1",
        "server.port": server.port,
        "client.address": "127.0.0.1",
        "network.protocol.version": "1.1",
        "user_agent.original": requests.utils.default_user_agent(),
        "http.route": "/users/<int:user_id>",
        "http.response.status_code": 200,
        # The server named the request by its trace (a loopback peer is trusted).
        "sluice.request_id": TRACE_ID,
    }
    assert response.headers["X-Request-ID"] == TRACE_ID
    assert by_name["GET /file"]["attributes"]["http.response.status_code"] == 200


def _read_spans(path: Path, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
    """The spans in ``path`` once there are ``count`` (a span is exported after its response was sent)."""
    deadline = time.monotonic() + timeout
    lines: list[str] = []
    while time.monotonic() < deadline:
        lines = path.read_text().splitlines() if path.exists() else []
        if len(lines) >= count:
            break
        time.sleep(0.02)
    assert len(lines) == count, lines
    return [json.loads(line) for line in lines]


def test_the_traced_app_answers_the_servers_questions_as_the_app_does() -> None:
    # The server asks the app whether a route streams its request body; the
    # wrapper must not hide the answer (nor the worker hooks).
    from sluice import App
    from sluice.otel import instrument

    app = App(__name__)

    @app.post("/upload", stream_request_body=True)
    def upload() -> str:
        return "ok"

    traced = instrument(app)
    assert traced.streams_request_body("POST", "/upload", 10) is True
    assert traced.streams_request_body("POST", "/other", 10) is False
    assert traced.worker_start_funcs is app.worker_start_funcs
