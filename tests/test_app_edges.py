"""Edge cases of the App: registration mistakes, odd return values, subrequests, custom errors."""

from __future__ import annotations

import types
from typing import Any

import pytest

from sluice.app import App
from sluice.blueprints import Blueprint
from sluice.ctx import has_request_context
from sluice.ctx import request
from sluice.errors import HTTPError
from sluice.errors import MethodNotAllowed
from sluice.testing import TestClient
from sluice.wrappers.request import Request
from sluice.wrappers.response import Response
from tests.validated import validated_client


def test_config_from_object_dotted_name_and_module(monkeypatch: pytest.MonkeyPatch) -> None:
    module = types.ModuleType("cfgmod")
    module.SETTINGS = type("Settings", (), {"ANSWER": 42, "lower": "skipped"})  # type: ignore[attr-defined]
    module.TOP = "level"  # type: ignore[attr-defined]
    monkeypatch.setitem(__import__("sys").modules, "cfgmod", module)
    app = App(__name__)
    app.config.from_object("cfgmod.SETTINGS")
    app.config.from_object("cfgmod")
    assert app.config["ANSWER"] == 42 and app.config["TOP"] == "level" and "lower" not in app.config
    with pytest.raises(ImportError):
        app.config.from_object("no_such_module_here.X")


def test_registration_mistakes_say_what_to_do() -> None:
    app = App(__name__)
    with pytest.raises(ValueError, match="needs an endpoint or a view function"):
        app.add_url_rule("/x")

    def first() -> str:
        return "1"

    def second() -> str:
        return "2"

    app.add_url_rule("/a", "same", first)
    with pytest.raises(ValueError, match="endpoint 'same' is already used by .*first; give this view another endpoint="):
        app.add_url_rule("/b", "same", second)
    with pytest.raises(ValueError, match=r"errorhandler\(200\): only 4xx and 5xx codes have handlers"):
        app.errorhandler(200)
    with pytest.raises(TypeError, match=r"errorhandler\('404'\): give a status code such as 404"):
        app.errorhandler("404")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"errorhandler\(dict\): the class must be an exception class"):
        app.errorhandler(dict)  # type: ignore[arg-type]
    bp = Blueprint("bp", __name__)
    with pytest.raises(ValueError, match=r"errorhandler\(302\)"):
        bp.errorhandler(302)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        pytest.param(("body", 200, {}, "extra"), "a tuple of 4 items", id="long-tuple"),
        pytest.param(42, "a view returned int", id="int"),
        pytest.param(object(), "a view returned object", id="object"),
    ],
)
def test_unsupported_return_values_are_type_errors(value: Any, message: str) -> None:
    app = App(__name__)
    app.testing = True
    app.add_url_rule("/", "index", lambda: value)
    with pytest.raises(TypeError, match=message):
        TestClient(app).get("/")


def test_response_in_a_tuple_gets_the_status_and_headers() -> None:
    app = App(__name__)
    app.add_url_rule("/", "index", lambda: (Response("made", mimetype="text/plain"), 201, {"X-A": "1"}))
    r = validated_client(app).get("/")
    assert (r.status_code, r.text, r.headers["X-A"], r.headers["Content-Type"]) == (
        201,
        "made",
        "1",
        "text/plain; charset=utf-8",
    )


def test_invoke_subrequest_with_a_request_object_runs_callbacks_and_tears_down() -> None:
    app = App(__name__)
    events: list[str] = []
    app.teardown_request(lambda exc: events.append(f"teardown {type(exc).__name__ if exc else None}"))

    @app.get("/inner")
    def inner() -> str:
        return "inner"

    @app.get("/broken")
    def broken() -> str:
        raise RuntimeError("inner failure")

    app.testing = True
    environ = app.test_client().build_environ("/inner")
    request = Request(environ)
    request.add_response_callback(lambda rq, rs: events.append(f"response {rs.status_code}"))
    request.add_finished_callback(lambda rq: events.append("finished"))
    response = app.invoke_subrequest(request)
    assert response.data == b"inner"
    assert events == ["response 200", "teardown None", "finished"]

    events.clear()
    failing = Request(app.test_client().build_environ("/broken"))
    failing.add_finished_callback(lambda rq: events.append("finished"))
    with pytest.raises(RuntimeError, match="inner failure"):
        app.invoke_subrequest(failing)
    assert events == ["teardown RuntimeError", "finished"]


class Teapot(HTTPError):
    """An HTTPError outside sluice's own classes, with a code that has none."""

    code = 418
    description = "I refuse to brew coffee."


class OddNotFound(HTTPError):
    """A 404 that does not derive from NotFound."""

    code = 404
    description = "Odd."


def test_custom_http_errors_render_and_reach_code_handlers() -> None:
    app = App(__name__)
    app.errorhandler(404)(lambda exc: (f"handled {type(exc).__name__}", 404))

    @app.get("/teapot")
    def teapot() -> str:
        raise Teapot()

    @app.get("/odd")
    def odd() -> str:
        raise OddNotFound()

    client = validated_client(app)
    r = client.get("/teapot")
    assert r.status_code == 418 and "I refuse to brew coffee." in r.text
    assert client.get("/odd").text == "handled OddNotFound"


def test_method_not_allowed_without_methods_gets_allow_from_the_url_map() -> None:
    app = App(__name__)

    @app.route("/thing", methods=["GET", "PUT"])
    def thing() -> str:
        raise MethodNotAllowed()

    r = validated_client(app).get("/thing")
    assert r.status_code == 405 and r.headers["Allow"] == "GET, HEAD, OPTIONS, PUT"


def test_failing_close_callback_still_ends_the_request() -> None:
    app = App(__name__)
    events: list[str] = []
    app.teardown_request(lambda exc: events.append("teardown"))

    @app.get("/")
    def index() -> Response:
        response = Response("ok")

        @response.call_on_close
        def broken() -> None:
            raise ValueError("close callback failed")

        request.add_finished_callback(lambda rq: events.append("finished"))
        return response

    start = lambda status, headers, exc_info=None: None  # noqa: E731
    body = app(app.test_client().build_environ("/"), start)
    assert b"".join(body) == b"ok"
    with pytest.raises(ValueError, match="close callback failed"):
        body.close()  # type: ignore[attr-defined]
    assert events == ["teardown", "finished"] and not has_request_context()


def test_body_limits_from_config_apply_to_requests() -> None:
    app = App(__name__)
    app.config.update(MAX_CONTENT_LENGTH=10, MAX_FORM_PARTS=2)

    @app.post("/echo")
    def echo() -> str:
        return str(request.get_data(as_text=True))

    @app.post("/form")
    def form() -> dict[str, Any]:
        return request.form.to_dict()

    client = validated_client(app)
    assert client.post("/echo", data=b"0123456789").text == "0123456789"
    too_big = client.post("/echo", data=b"0123456789A")
    assert too_big.status_code == 413 and "limit is 10" in too_big.text
    assert client.post("/form", data={"a": "1", "b": "2"}).get_json() == {"a": "1", "b": "2"}
    assert client.post("/form", data={"a": "1", "b": "2", "c": "3"}).status_code == 413
    with app.test_request_context("/echo", method="POST", data=b"x"):
        assert request.max_content_length == 10 and request.max_form_parts == 2


def test_bad_body_limit_in_config_explains() -> None:
    app = App(__name__)
    app.config["MAX_CONTENT_LENGTH"] = "10m"
    app.add_url_rule("/", "index", lambda: "ok")
    with pytest.raises(ValueError, match="MAX_CONTENT_LENGTH.*give a number of bytes"):
        TestClient(app).get("/")


def test_jsonify_make_response_and_direct_answer_encode_alike() -> None:
    # One encoder for the three: JSON_SORT_KEYS and the compact separators hold everywhere.
    from sluice import jsonify

    class Tagged(Response):
        pass

    app = App(__name__)
    app.config["JSON_SORT_KEYS"] = True
    app.response_class = Tagged
    app.add_url_rule("/jsonify", "jsonify", lambda: jsonify(b=1, a=[1, 2]))
    app.add_url_rule("/dict", "dict", lambda: {"b": 1, "a": [1, 2]})
    client = app.test_client()
    for path in ("/jsonify", "/dict"):
        response = client.get(path)
        assert response.data == b'{"a":[1,2],"b":1}', path
        assert response.header("Content-Type") == "application/json"
    with app.test_request_context():
        assert isinstance(jsonify(x=1), Tagged)

    plain = App(__name__)
    plain.config["JSON_SORT_KEYS"] = True
    plain.add_url_rule("/dict", "dict", lambda: {"b": 1, "a": [1, 2]})
    plain.freeze()
    assert plain._direct  # the direct answer encodes this one
    assert plain.test_client().get("/dict").data == b'{"a":[1,2],"b":1}'
