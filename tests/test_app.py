"""Tests of the App lifecycle through the TestClient (full WSGI calls)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from collections.abc import Iterator
from typing import Any
from typing import cast

import pytest

from sluice import signals
from sluice.app import App
from sluice.ctx import current_app
from sluice.ctx import g
from sluice.ctx import request
from sluice.ctx import session
from sluice.errors import Forbidden
from sluice.errors import NotFound
from sluice.wrappers.response import Response
from tests.validated import validated_client


def make_app() -> App:
    app = App(__name__)
    app.config["SECRET_KEY"] = "k" * 32

    @app.get("/")
    def index() -> str:
        return "hello"

    @app.route("/users/<int:user_id>", methods=["GET", "POST"])
    def user(user_id: int) -> dict[str, Any]:
        return {"id": user_id, "method": request.method}

    @app.get("/a/")
    def slash() -> str:
        return "slash"

    return app


def test_app_text_view() -> None:
    r = validated_client(make_app()).get("/")
    assert (r.status_code, r.data) == (200, b"hello")
    assert r.header("Content-Type") == "text/html; charset=utf-8"


def test_app_dict_is_json_and_int_converter() -> None:
    r = validated_client(make_app()).post("/users/7")
    assert r.header("Content-Type") == "application/json"
    assert r.get_json() == {"id": 7, "method": "POST"}


def test_app_404_405_and_allow() -> None:
    c = validated_client(make_app())
    assert c.get("/nope").status_code == 404
    r = c.delete("/users/7")
    assert r.status_code == 405
    assert r.header("Allow") == "GET, HEAD, OPTIONS, POST"


def test_app_automatic_head_and_options() -> None:
    c = validated_client(make_app())
    head = c.head("/")
    assert head.status_code == 200 and head.data == b""
    options = c.options("/users/1")
    assert options.status_code == 200 and options.header("Allow") == "GET, HEAD, OPTIONS, POST"


def test_app_strict_slashes_redirect_keeps_query() -> None:
    r = validated_client(make_app()).get("/a?x=1")
    assert r.status_code == 308
    assert r.location is not None and r.location.endswith("/a/?x=1")


def test_app_return_value_rules() -> None:
    app = App(__name__)

    @app.get("/bytes")
    def as_bytes() -> bytes:
        return b"raw"

    @app.get("/list")
    def as_list() -> list[int]:
        return [1, 2]

    @app.get("/tuple2")
    def status_tuple() -> tuple[str, int]:
        return "made", 201

    @app.get("/tuple-headers")
    def headers_tuple() -> tuple[str, dict[str, str]]:
        return "h", {"X-A": "1"}

    @app.get("/tuple3")
    def full_tuple() -> tuple[str, int, list[tuple[str, str]]]:
        return "x", 202, [("X-B", "2")]

    @app.get("/stream")
    def stream() -> Iterator[str]:
        def gen() -> Iterator[str]:
            yield "a"
            yield "b"

        return gen()

    @app.get("/wsgi")
    def wsgi() -> Any:
        def inner(environ: dict[str, Any], start_response: Any) -> list[bytes]:
            start_response("203 Non-Authoritative", [("Content-Type", "text/plain")])
            return [b"from wsgi"]

        return inner

    @app.get("/none")
    def nothing() -> None:
        return None

    c = validated_client(app)
    assert c.get("/bytes").data == b"raw"
    assert c.get("/list").get_json() == [1, 2]
    assert c.get("/tuple2").status_code == 201
    assert c.get("/tuple-headers").header("X-A") == "1"
    r3 = c.get("/tuple3")
    assert (r3.status_code, r3.header("X-B")) == (202, "2")
    assert c.get("/stream").data == b"ab"
    rw = c.get("/wsgi")
    assert (rw.status_code, rw.data) == (203, b"from wsgi")
    app.testing = True
    with pytest.raises(TypeError, match="view function for 'nothing' returned None"):
        validated_client(app).get("/none")


def test_app_before_request_short_circuits_after_request_reversed() -> None:
    app = App(__name__)
    order: list[str] = []

    @app.before_request
    def gate() -> Any:
        order.append("before")
        if request.path == "/blocked":
            return "blocked", 403
        return None

    @app.after_request
    def first(response: Response) -> Response:
        order.append("after-1")
        return response

    @app.after_request
    def second(response: Response) -> Response:
        order.append("after-2")
        response.headers.set("X-Hooked", "yes")
        return response

    @app.get("/blocked")
    def blocked() -> str:
        order.append("view")
        return "never"

    r = validated_client(app).get("/blocked")
    assert (r.status_code, r.data, r.header("X-Hooked")) == (403, b"blocked", "yes")
    assert order == ["before", "after-2", "after-1"]


def test_app_error_handlers_by_code_and_mro() -> None:
    app = App(__name__)

    class AppError(Exception):
        pass

    class SpecificError(AppError):
        pass

    @app.errorhandler(404)
    def not_found(exc: NotFound) -> tuple[str, int]:
        return "custom 404", 404

    @app.errorhandler(AppError)
    def app_error(exc: AppError) -> tuple[str, int]:
        return f"app error {type(exc).__name__}", 409

    @app.get("/specific")
    def specific() -> str:
        raise SpecificError()

    @app.get("/forbidden")
    def forbidden() -> str:
        raise Forbidden("keep out")

    c = validated_client(app)
    assert c.get("/missing").data == b"custom 404"
    r = c.get("/specific")
    assert (r.status_code, r.data) == (409, b"app error SpecificError")
    f = c.get("/forbidden", headers={"Accept": "application/json"})
    assert f.status_code == 403 and f.get_json()["description"] == "keep out"


def test_app_unhandled_exception_500_logged_and_signal() -> None:
    app = App(__name__)
    seen: list[BaseException] = []

    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError("secret detail")

    def on_exception(sender: App, exception: BaseException) -> None:
        seen.append(exception)

    signals.got_request_exception.connect(on_exception, sender=app)
    try:
        r = validated_client(app).get("/boom")
    finally:
        signals.got_request_exception.disconnect(on_exception)
    assert r.status_code == 500
    assert b"secret detail" not in r.data
    assert [str(e) for e in seen] == ["secret detail"]


def test_app_testing_propagates_exceptions() -> None:
    app = App(__name__)
    app.testing = True

    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError("propagated")

    with pytest.raises(RuntimeError, match="propagated"):
        validated_client(app).get("/boom")


def test_app_teardown_after_stream_and_context_alive_while_streaming() -> None:
    app = App(__name__)
    events: list[str] = []

    @app.get("/stream")
    def stream() -> Iterator[str]:
        def gen() -> Iterator[str]:
            events.append(f"chunk sees {request.path}")
            yield "x"
            events.append("last chunk")

        return gen()

    @app.teardown_request
    def teardown(exc: BaseException | None) -> None:
        events.append(f"teardown {exc}")

    def closed(sender: App, response: Response) -> None:
        events.append("response_closed")

    signals.response_closed.connect(closed, sender=app)
    try:
        assert validated_client(app).get("/stream").data == b"x"
    finally:
        signals.response_closed.disconnect(closed)
    assert events == ["chunk sees /stream", "last chunk", "teardown None", "response_closed"]


def test_app_session_round_trip() -> None:
    app = App(__name__)
    app.secret_key = "s" * 32

    @app.get("/count")
    def count() -> str:
        session["n"] = session.get("n", 0) + 1
        return str(session["n"])

    c = validated_client(app)
    assert [c.get("/count").text for _ in range(3)] == ["1", "2", "3"]


def test_app_g_and_current_app_per_request() -> None:
    app = App(__name__)

    @app.before_request
    def load() -> None:
        g.user = "ada"

    @app.get("/")
    def view() -> str:
        return f"{g.user} {current_app.import_name}"

    assert validated_client(app).get("/").text == f"ada {__name__}"


def test_app_registration_after_first_request_explains() -> None:
    app = make_app()
    validated_client(app).get("/")
    with pytest.raises(RuntimeError, match="already handled a request"):
        app.add_url_rule("/late", "late", lambda: "x")


def test_app_startup_hook_runs_once_across_threads() -> None:
    app = App(__name__)
    calls: list[int] = []

    @app.on_startup
    def start() -> None:
        calls.append(1)

    @app.get("/")
    def index() -> str:
        return "ok"

    threads = [threading.Thread(target=lambda: validated_client(app).get("/")) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert calls == [1]


def test_app_middleware_first_listed_outermost_and_short_circuit() -> None:
    order: list[str] = []

    def outer(get_response: Any) -> Any:
        def handler(req: Any) -> Any:
            order.append("outer in")
            response = get_response(req)
            order.append("outer out")
            return response

        return handler

    def inner(get_response: Any) -> Any:
        def handler(req: Any) -> Any:
            order.append("inner in")
            if req.path == "/short":
                return Response("short", status=418)
            return get_response(req)

        return handler

    app = App(__name__, middleware=[outer, inner])

    @app.get("/")
    def index() -> str:
        raise NotFound()

    c = validated_client(app)
    assert c.get("/").status_code == 404  # the error became a response inside the chain
    assert order == ["outer in", "inner in", "outer out"]
    assert c.get("/short").status_code == 418


def test_config_loaders() -> None:
    app = App(__name__)

    class Settings:
        DEBUG = True
        lower = "ignored"

    app.config.from_object(Settings)
    app.config.from_mapping({"A": 1, "b": 2}, C=3)
    app.config.from_prefixed_env(environ={"SLUICE_PORT": "8000", "SLUICE_NAME": "x", "SLUICE_DB__HOST": '"h"'})
    assert app.debug is True and "lower" not in app.config and "b" not in app.config
    assert (app.config["A"], app.config["C"], app.config["PORT"], app.config["NAME"]) == (1, 3, 8000, "x")
    assert app.config["DB"] == {"HOST": "h"}


def test_app_json_response_body_is_compact() -> None:
    app = App(__name__)

    @app.get("/")
    def index() -> dict[str, Any]:
        return {"b": 1, "a": [1, 2]}

    assert json.loads(validated_client(app).get("/").data) == {"b": 1, "a": [1, 2]}


@pytest.mark.live
def test_app_on_real_server_streams_then_tears_down(
    live_server: Any, tmp_path: Any
) -> None:
    markers = tmp_path / "events.txt"
    srv = live_server("tests.apps.sluice_app:app", env={"SLUICE_TEST_MARKERS": str(markers)})
    import requests

    assert requests.get(srv.url + "/hello", timeout=5).text == "hello from sluice"
    assert requests.get(srv.url + "/users/42", timeout=5).json() == {"id": 42}
    # A request ends (teardown, response_closed) once the server closed its
    # body, after the client had the last byte: let those two end before
    # the stream starts, so the events of the requests do not interleave.
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and (
        not markers.exists() or markers.read_text().count("response_closed") < 2
    ):
        time.sleep(0.01)
    r = requests.get(srv.url + "/stream", timeout=5)
    assert r.text == "one,two" and r.headers["Transfer-Encoding"] == "chunked"
    srv.stop()
    events = markers.read_text().splitlines()
    stream_events = events[events.index("first chunk sees /stream") :]
    assert stream_events == ["first chunk sees /stream", "last chunk", "teardown /stream", "response_closed"]


def test_helpers_url_for_redirect_jsonify_after_this_request() -> None:
    from sluice.helpers import after_this_request
    from sluice.helpers import jsonify
    from sluice.helpers import redirect
    from sluice.helpers import url_for

    app = App(__name__)

    @app.get("/users/<int:user_id>")
    def user(user_id: int) -> Any:
        @after_this_request
        def tag(response: Response) -> Response:
            response.headers.set("X-Tagged", "1")
            return response

        return jsonify(id=user_id, url=url_for("user", user_id=user_id, tab="x", _anchor="top"))

    @app.get("/go")
    def go() -> Response:
        return redirect(url_for("user", user_id=5, _external=True), 303)

    c = validated_client(app)
    r = c.get("/users/3")
    assert r.get_json() == {"id": 3, "url": "/users/3?tab=x#top"}
    assert r.header("X-Tagged") == "1"
    assert c.get("/go").location == "http://localhost/users/5"
    assert c.get("/go", follow_redirects=True).get_json()["id"] == 5
    with app.app_context():
        # Outside a request, as Flask: absolute from SERVER_NAME, else an error that says so.
        with pytest.raises(RuntimeError, match="SERVER_NAME"):
            url_for("user", user_id=9)
        app.config.update(SERVER_NAME="example.com", APPLICATION_ROOT="/app/", PREFERRED_URL_SCHEME="https")
        assert url_for("user", user_id=9) == "https://example.com/app/users/9"
        assert url_for("user", user_id=9, _scheme="http") == "http://example.com/app/users/9"
        assert url_for("user", user_id=9, _external=False) == "/app/users/9"
    with app.test_request_context():
        assert url_for("user", user_id=9, _scheme="https", _external=True) == "https://localhost/users/9"
        assert url_for("user", user_id=9, _scheme="https") == "https://localhost/users/9"
        with pytest.raises(ValueError, match="_scheme"):
            url_for("user", user_id=9, _scheme="https", _external=False)
    with pytest.raises(ValueError, match="redirect code"):
        redirect("/", 200)
    with pytest.raises(RuntimeError, match="only while a request"):
        after_this_request(lambda r: r)


def test_app_endpoint_known_to_before_request_hooks() -> None:
    app = make_app()
    seen: list[Any] = []

    @app.before_request
    def record() -> None:
        seen.append((request.endpoint, request.view_args))

    validated_client(app).get("/users/5")
    validated_client(app).get("/missing")
    assert seen == [("user", {"user_id": 5}), (None, None)]


def test_app_undecodable_path_is_400_not_500() -> None:
    app = make_app()
    r = validated_client(app).get("/caf%FF")
    assert r.status_code == 400


def test_app_request_signals_sent_in_order() -> None:
    app = make_app()
    events: list[str] = []

    def started(sender: App) -> None:
        events.append("started")

    def finished(sender: App, response: Response) -> None:
        events.append(f"finished {response.status_code}")

    def tearing_down(sender: App, exc: BaseException | None) -> None:
        events.append(f"tearing_down {exc}")

    def appctx_tearing_down(sender: App, exc: BaseException | None) -> None:
        events.append("appcontext_tearing_down")

    pairs: list[tuple[Any, Callable[..., Any]]] = [
        (signals.request_started, started),
        (signals.request_finished, finished),
        (signals.request_tearing_down, tearing_down),
        (signals.appcontext_tearing_down, appctx_tearing_down),
    ]
    for signal, receiver in pairs:
        signal.connect(receiver, sender=app)
    try:
        validated_client(app).get("/")
    finally:
        for signal, receiver in pairs:
            signal.disconnect(receiver)
    assert events == ["started", "finished 200", "tearing_down None", "appcontext_tearing_down"]


def test_app_response_and_finished_callbacks_in_order() -> None:
    from sluice.helpers import stream_with_context

    app = App(__name__)
    events: list[str] = []

    @app.after_request
    def hook(response: Response) -> Response:
        events.append("after_request")
        return response

    @app.get("/")
    def index() -> Any:
        request.add_response_callback(lambda req, resp: events.append(f"response 1 {resp.status_code}"))
        request.add_response_callback(lambda req, resp: resp.headers.set("X-Cb", "2"))
        request.add_finished_callback(lambda req: events.append(f"finished {req.path}"))

        @stream_with_context
        def gen() -> Iterator[str]:
            events.append(f"body sees {request.path}")
            yield "ok"

        return gen()

    r = validated_client(app).get("/")
    assert r.header("X-Cb") == "2"
    assert events == ["after_request", "response 1 200", "body sees /", "finished /"]


_OTHER_SERVERS = {
    "gunicorn": ["-m", "gunicorn", "--bind", "127.0.0.1:{port}", "--workers", "1"],
    "granian": ["-m", "granian", "--interface", "wsgi", "--host", "127.0.0.1", "--port", "{port}", "--workers", "1"],
}


@pytest.mark.live
@pytest.mark.parametrize("other", sorted(_OTHER_SERVERS))
def test_app_same_responses_on_sluice_and_other_servers(live_server: Any, tmp_path: Any, other: str) -> None:
    """Same answers on sluice's server and another one, and there too each request ends when it is closed."""
    import os
    import socket
    import subprocess
    import sys
    import time

    import requests

    from tests.live import ROOT
    from tests.live import require_service

    require_service(_has_module(other), f"{other} is not installed (pip install -e '.[dev]')")
    sluice_srv = live_server("tests.apps.sluice_app:app")
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    markers = tmp_path / "markers"
    log = tmp_path / "server.log"
    with open(log, "w") as log_file:
        proc = subprocess.Popen(
            [sys.executable, *(arg.format(port=port) for arg in _OTHER_SERVERS[other]), "tests.apps.sluice_app:app"],
            cwd=ROOT,
            env=dict(os.environ, PYTHONPATH=str(ROOT), SLUICE_TEST_MARKERS=str(markers)),
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        # Ready once it accepts connections; no request before the checked
        # ones, so the marker file holds only theirs.
        deadline = time.monotonic() + 15
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        for path in ("/hello", "/users/42", "/users/x", "/stream", "/nope"):
            markers.write_text("")
            a = requests.get(sluice_srv.url + path, timeout=5)
            b = requests.get(f"http://127.0.0.1:{port}{path}", timeout=15)
            assert (a.status_code, a.headers.get("Content-Type"), a.content) == (
                b.status_code,
                b.headers.get("Content-Type"),
                b.content,
            ), path
            # The server closed the body: the request ended before the next one.
            ended = [f"teardown {path}", "response_closed"]
            deadline = time.monotonic() + 5
            while [line for line in markers.read_text().splitlines() if "chunk" not in line] != ended:
                assert time.monotonic() < deadline, (path, markers.read_text())
                time.sleep(0.02)
        a = requests.delete(sluice_srv.url + "/hello", timeout=5)
        b = requests.delete(f"http://127.0.0.1:{port}/hello", timeout=5)
        assert (a.status_code, a.headers["Allow"]) == (b.status_code, b.headers["Allow"])
    finally:
        proc.terminate()
        proc.wait(10)
    assert "did not call close()" not in log.read_text()


def _has_module(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


def test_app_url_value_preprocessor_and_url_defaults() -> None:
    from sluice.helpers import url_for

    app = App(__name__)

    @app.url_value_preprocessor
    def pull_lang(endpoint: str | None, values: dict[str, Any] | None) -> None:
        if values is not None:
            g.lang = values.pop("lang", None)

    @app.url_defaults
    def add_lang(endpoint: str, values: dict[str, Any]) -> None:
        if "lang" not in values and getattr(g, "lang", None):
            values["lang"] = g.lang

    @app.get("/<lang>/about")
    def about() -> str:
        return f"{g.lang} {url_for('about')}"

    assert validated_client(app).get("/fr/about").text == "fr /fr/about"


def test_app_invoke_subrequest_runs_full_internal_request() -> None:
    app = App(__name__)
    order: list[str] = []

    def mw(get_response: Any) -> Any:
        def handler(req: Any) -> Any:
            order.append(f"middleware {req.path}")
            return get_response(req)

        return handler

    app.add_middleware(mw)

    @app.before_request
    def before() -> None:
        order.append(f"before {request.path}")

    @app.get("/inner/<int:n>")
    def inner(n: int) -> Iterator[str]:
        def gen() -> Iterator[str]:
            yield f"inner {n} {request.args.get('q')}"

        return gen()

    @app.get("/outer")
    def outer() -> str:
        sub = app.invoke_subrequest("/inner/5?q=x")
        missing = app.invoke_subrequest("/nope", use_middleware=True)
        return f"{sub.get_data(as_text=True)} | {missing.status_code} | {request.path}"

    r = validated_client(app).get("/outer")
    assert r.text == "inner 5 x | 404 | /outer"
    assert order == ["middleware /outer", "before /outer", "before /inner/5", "middleware /nope", "before /nope"]


def test_app_test_request_context_pushes_request() -> None:
    from sluice.helpers import url_for

    app = make_app()
    with app.test_request_context("/users/4?x=1", method="POST", headers={"Accept": "application/json"}):
        assert request.path == "/users/4"
        assert request.method == "POST"
        assert request.args.get("x") == "1"
        assert request.prefers_json
        assert url_for("user", user_id=2) == "/users/2"
        assert cast(Any, current_app)._get_current_object() is app
