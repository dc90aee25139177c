"""A str or bytes view answered without a Response object (App.wsgi_app's direct path).

Design: the direct path may only skip the Response when nothing could
observe it, so every test here compares what a client gets from it with
what the same app gives when something forces the Response path (an
identity ``after_request`` hook), byte for byte: status line, header
list in order, body, and the order of the request's events. Tests that
count Response constructions prove which path ran, so the comparison
cannot pass by both sides taking the same one.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from collections.abc import Iterator
from typing import Any

import pytest

from sluice import signals
from sluice.app import App
from sluice.ctx import g
from sluice.ctx import request
from sluice.ctx import session
from sluice.helpers import after_this_request
from sluice.wrappers.response import Response
from sluice.wrappers.response import call_wsgi_app
from tests.validated import validated_client

BODIES: list[Any] = [
    "hello",
    "",
    "h\u00e9llo \u2603 \U0001f600",
    b"raw \x00\xff bytes",
    "x" * 70_000,
    {"b": 1, "a": ["\u00e9", None, 1.5]},
    [1, {"z": True}],
    {},
]
BODY_IDS = ["ascii", "empty", "non-ascii", "bytes", "70k", "dict", "list", "empty-dict"]


def _environ(path: str = "/", method: str = "GET", **extra: Any) -> dict[str, Any]:
    environ = App(__name__).test_client().build_environ(path, method)  # a complete PEP 3333 environ
    environ.update(extra)
    return environ


def _app(body: Any, *, through_response: bool, sort_keys: bool = True) -> App:
    app = App("forced" if through_response else "direct")
    app.config["JSON_SORT_KEYS"] = sort_keys

    @app.route("/", methods=["GET", "POST"])
    def view() -> Any:
        return body

    if through_response:

        @app.after_request
        def identity(response: Response) -> Response:
            return response

    return app


@pytest.fixture
def responses_built(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record every Response construction (``__init__`` and ``from_text``)."""
    built: list[str] = []
    original_init = Response.__init__
    original_from_text = Response.from_text.__func__  # type: ignore[attr-defined]

    def init(self: Response, *args: Any, **kwargs: Any) -> None:
        built.append("__init__")
        original_init(self, *args, **kwargs)

    def from_text(cls: type[Response], text: str) -> Response:
        built.append("from_text")
        return original_from_text(cls, text)  # type: ignore[no-any-return]

    monkeypatch.setattr(Response, "__init__", init)
    monkeypatch.setattr(Response, "from_text", classmethod(from_text))
    return built


@pytest.mark.parametrize("sort_keys", [True, False])
@pytest.mark.parametrize("method", ["GET", "HEAD", "POST"])
@pytest.mark.parametrize("body", BODIES, ids=BODY_IDS)
def test_direct_answer_is_the_response_paths_answer(
    body: Any, method: str, sort_keys: bool, responses_built: list[str]
) -> None:
    direct = call_wsgi_app(_app(body, through_response=False, sort_keys=sort_keys), _environ(method=method))
    assert responses_built == []  # the direct path built no Response
    forced = call_wsgi_app(_app(body, through_response=True, sort_keys=sort_keys), _environ(method=method))
    assert responses_built  # and the forced path did
    assert direct == forced
    if isinstance(body, (dict, list)):
        data = json.dumps(body, sort_keys=sort_keys, separators=(",", ":")).encode()
        content_type = "application/json"
    else:
        data = body.encode() if isinstance(body, str) else body
        content_type = "text/html; charset=utf-8"
    assert direct == (
        "200 OK",
        [("Content-Type", content_type), ("Content-Length", str(len(data)))],
        b"" if method == "HEAD" else data,
    )


def test_unserializable_json_is_the_views_error_on_both_paths(caplog: pytest.LogCaptureFixture) -> None:
    direct = call_wsgi_app(_app({"when": object()}, through_response=False), _environ())
    forced = call_wsgi_app(_app({"when": object()}, through_response=True), _environ())
    assert direct == forced and direct[0] == "500 INTERNAL SERVER ERROR"
    assert caplog.text.count("Exception on GET /") == 2


def test_an_overridden_make_response_sees_every_value() -> None:
    class Tagged(App):
        def make_response(self, rv: Any) -> Response:
            response = super().make_response(rv)
            response.headers.set("X-Made", type(rv).__name__)
            return response

    app = Tagged(__name__)
    app.add_url_rule("/text", "text", lambda: "t")
    app.add_url_rule("/json", "json", lambda: {"a": 1})
    client = validated_client(app)
    assert [client.get(path).headers["X-Made"] for path in ("/text", "/json")] == ["str", "dict"]


def test_direct_answer_passes_the_wsgi_validator() -> None:
    client = validated_client(_app("hi", through_response=False))
    r = client.get("/")
    assert (r.status_code, r.headers["Content-Type"], r.data) == (200, "text/html; charset=utf-8", b"hi")
    assert client.head("/").data == b""


def test_default_mimetype_is_read_per_request(monkeypatch: pytest.MonkeyPatch) -> None:
    app = _app("hi", through_response=False)
    assert call_wsgi_app(app, _environ())[1][0] == ("Content-Type", "text/html; charset=utf-8")
    monkeypatch.setattr(Response, "default_mimetype", "text/plain")
    assert call_wsgi_app(app, _environ())[1][0] == ("Content-Type", "text/plain; charset=utf-8")


def test_response_subclass_is_always_constructed() -> None:
    class Plain(Response):
        default_mimetype = "text/plain"

    app = _app("hi", through_response=False)
    app.response_class = Plain
    status, headers, data = call_wsgi_app(app, _environ())
    assert (status, headers[0], data) == ("200 OK", ("Content-Type", "text/plain; charset=utf-8"), b"hi")


def _events_app(events: list[str], *, through_response: bool) -> App:
    app = App(__name__)

    @app.get("/")
    def view() -> str:
        g.user = "ann"
        request.add_finished_callback(lambda rq: events.append(f"finished {rq.path}"))
        events.append("view")
        return "body"

    @app.teardown_request
    def teardown(exc: BaseException | None) -> None:
        events.append(f"teardown {g.user} {exc}")

    @app.teardown_appcontext
    def teardown_app(exc: BaseException | None) -> None:
        events.append("teardown app")

    if through_response:
        app.after_request(lambda response: response)
    return app


@pytest.mark.parametrize("through_response", [False, True], ids=["direct", "response"])
def test_request_ends_when_the_server_closes_the_body(through_response: bool) -> None:
    events: list[str] = []
    app = _events_app(events, through_response=through_response)

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        events.append(f"start {status}")

    body = app(_environ(), start_response)
    events.extend(f"chunk {chunk!r}" for chunk in body)
    events.append("server closes")
    body.close()  # type: ignore[attr-defined]
    body.close()  # type: ignore[attr-defined]  # a second close() does nothing
    assert events == [
        "view",
        "start 200 OK",
        "chunk b'body'",
        "server closes",
        "teardown ann None",
        "teardown app",
        "finished /",
    ]


@pytest.mark.parametrize("method", ["GET", "HEAD"])
@pytest.mark.parametrize("body", ["h\u00e9llo", {"a": 1}], ids=["text", "json"])
def test_response_closed_receiver_gets_a_response_equal_to_the_answer(body: Any, method: str) -> None:
    seen: dict[str, Any] = {}

    def receiver(sender: App, response: Response) -> None:
        seen[sender.import_name] = (response.status, response.headers.to_wsgi_list(), response.get_data())

    answers = {}
    for through_response in (False, True):
        app = _app(body, through_response=through_response)
        signals.response_closed.connect(receiver, app)
        try:
            answers[app.import_name] = call_wsgi_app(app, _environ(method=method))
        finally:
            signals.response_closed.disconnect(receiver)
    assert seen["direct"] == seen["forced"]
    status, headers, data = seen["direct"]
    assert (status, headers) == answers["direct"][:2]
    assert data == answers["direct"][2] or method == "HEAD"


def _observed(observer: str) -> tuple[App, dict[str, Any]]:
    """An app whose str view is observed by ``observer``, and the environ to call it with."""
    app = App(__name__)
    app.config["SECRET_KEY"] = "s" * 32
    environ = _environ()

    @app.get("/")
    def view() -> str:
        if observer == "session":
            session["n"] = 1
        elif observer == "after_this_request":
            after_this_request(lambda response: response.headers.set("X-After", "1") or response)
        elif observer == "response_callback":
            request.add_response_callback(lambda rq, rs: rs.headers.set("X-Callback", "1"))
        return "ok"

    @app.get("/login")
    def login() -> str:
        session["user"] = "ann"
        session.permanent = True
        return "in"

    if observer == "cookie":
        cookie = app.test_client().get("/login").headers["Set-Cookie"]
        environ["HTTP_COOKIE"] = cookie.split(";")[0]
    return app, environ


def _set_x_finished(sender: App, response: Response) -> None:
    response.headers.set("X-Finished", "1")


@pytest.mark.parametrize(
    ("observer", "header"),
    [
        ("session", "Set-Cookie"),
        ("cookie", "Set-Cookie"),  # a permanent session is refreshed
        ("after_this_request", "X-After"),
        ("response_callback", "X-Callback"),
        ("request_finished", "X-Finished"),
    ],
)
def test_an_observer_gets_a_response_it_can_change(observer: str, header: str) -> None:
    app, environ = _observed(observer)
    if observer == "request_finished":
        signals.request_finished.connect(_set_x_finished, app)
    try:
        status, headers, data = call_wsgi_app(app, environ)
    finally:
        signals.request_finished.disconnect(_set_x_finished)
    assert status == "200 OK" and data == b"ok"
    assert header in dict(headers), headers


def test_a_failing_view_is_handled_as_on_the_response_path() -> None:
    def make(through_response: bool) -> App:
        app = App(__name__)

        @app.get("/")
        def view() -> str:
            raise LookupError("boom")

        @app.errorhandler(LookupError)
        def missing(exc: LookupError) -> tuple[str, int]:
            return f"handled {exc}", 404

        if through_response:
            app.after_request(lambda response: response)
        return app

    direct = call_wsgi_app(make(False), _environ())
    assert direct == call_wsgi_app(make(True), _environ())
    assert direct[0] == "404 NOT FOUND" and direct[2] == b"handled boom"


def test_a_streamed_or_other_value_still_takes_the_response_path(responses_built: list[str]) -> None:
    app = App(__name__)

    def chunks() -> Iterator[str]:
        yield "a"
        yield "b"

    views: dict[str, Callable[[], Any]] = {
        "/gen": chunks,
        "/tuple": lambda: ("made", 201),
        "/bytearray": lambda: bytearray(b"ba"),
    }
    for path, view in views.items():
        app.add_url_rule(path, path, view)
    client = validated_client(app)
    assert [client.get(path).data for path in views] == [b"ab", b"made", b"ba"]
    assert len(responses_built) == 3


@pytest.mark.parametrize("through_response", [False, True], ids=["direct", "response"])
def test_before_hook_short_circuit_and_blueprint_views_answer_alike(
    through_response: bool, responses_built: list[str]
) -> None:
    from sluice.blueprints import Blueprint

    app = App(__name__)
    bp = Blueprint("shop", __name__, url_prefix="/shop")

    @bp.get("/item/<int:n>")
    def item(n: int) -> dict[str, int]:
        return {"item": n}

    @app.before_request
    def gate() -> str | None:
        return "closed" if request.args.get("closed") else None

    app.register_blueprint(bp)
    if through_response:
        app.after_request(lambda response: response)
    answers = [call_wsgi_app(app, _environ("/shop/item/7")), call_wsgi_app(app, _environ("/shop/item/7", QUERY_STRING="closed=1"))]
    assert answers == [
        ("200 OK", [("Content-Type", "application/json"), ("Content-Length", "10")], b'{"item":7}'),
        ("200 OK", [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", "6")], b"closed"),
    ]
    assert bool(responses_built) == through_response


@pytest.mark.parametrize("through_response", [False, True])
def test_request_class_close_runs_for_every_request(through_response: bool) -> None:
    from sluice.wrappers.request import Request

    closed: list[str] = []

    class ClosingRequest(Request):
        def close(self) -> None:
            closed.append(self.path)
            super().close()

    app = _app("hi", through_response=through_response)
    app.request_class = ClosingRequest
    assert call_wsgi_app(app, _environ())[2] == b"hi"
    assert call_wsgi_app(app, _environ("/missing"))[0].startswith("404 ")
    assert closed == ["/", "/missing"]


def test_request_blueprint_and_endpoint_on_the_direct_path() -> None:
    from sluice.blueprints import Blueprint

    app = App(__name__)
    outer, inner = Blueprint("outer", __name__), Blueprint("inner", __name__)

    @inner.get("/deep")
    def deep() -> dict[str, Any]:
        return {"blueprint": request.blueprint, "endpoint": request.endpoint, "bps": request.blueprints}

    @app.get("/top")
    def top() -> dict[str, Any]:
        return {"blueprint": request.blueprint, "endpoint": request.endpoint}

    outer.register_blueprint(inner, url_prefix="/in")
    app.register_blueprint(outer, url_prefix="/out")
    assert json.loads(call_wsgi_app(app, _environ("/out/in/deep"))[2]) == {
        "blueprint": "outer.inner", "endpoint": "outer.inner.deep", "bps": ["outer.inner", "outer"]
    }
    assert json.loads(call_wsgi_app(app, _environ("/top"))[2]) == {"blueprint": None, "endpoint": "top"}


@pytest.mark.parametrize("path_info", ["/\xff", "/caf\xc3/x", "/ok/\xe9"])
def test_path_not_utf8_is_a_400_through_the_error_handlers(path_info: str) -> None:
    app = App(__name__)
    seen: list[str] = []

    @app.route("/<path:anything>")
    def anything(anything: str) -> str:
        return anything

    @app.errorhandler(400)
    def bad(error: Any) -> tuple[str, int]:
        seen.append(request.path)
        return f"bad: {error.description}", 400

    status, _, body = call_wsgi_app(app, _environ(PATH_INFO=path_info))  # latin-1 text of the bytes (PEP 3333)
    assert status == "400 BAD REQUEST"
    assert body == b"bad: The request path is not valid UTF-8; percent-encode it as UTF-8 bytes."
    assert seen and "\ufffd" in seen[0]
    assert call_wsgi_app(app, _environ(PATH_INFO="/caf\xc3\xa9"))[2] == "caf\u00e9".encode()
