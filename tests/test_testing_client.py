"""Tests of the TestClient against sluice Apps, on the points where it follows Flask 3's test client.

``with client:`` keeping the last request's context, ``session_transaction``,
the response attributes, file uploads, redirects (kept relative, resolved per
RFC 3986 §5 when followed) and the request options. Requests go through
``wsgiref.validate`` except where the client needs the App itself
(``session_transaction``).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest

from sluice import App
from sluice import g
from sluice import redirect
from sluice import request
from sluice import session
from sluice.ctx import has_app_context
from sluice.ctx import has_request_context
from sluice.sessions import Session
from sluice.testing import TestClient
from sluice.testing import TestResponse
from sluice.wrappers.response import Response
from tests.validated import validated_client

SECRET = "s" * 32


def _context_app(teardowns: list[str]) -> App:
    app = App(__name__)
    app.secret_key = SECRET

    @app.get("/visit/<name>")
    def visit(name: str) -> str:
        g.visitor = name
        session["last"] = name
        return f"hello {name}"

    @app.get("/stream")
    def stream() -> Response:
        g.visitor = "streamer"

        def chunks() -> Iterator[str]:
            yield "a"
            yield "b"

        return Response(chunks())

    @app.get("/peek")
    def peek() -> str:
        return str(g.get("visitor"))

    @app.get("/hop")
    def hop() -> Response:
        g.visitor = "hop"
        return redirect("/visit/after-hop")

    @app.get("/boom")
    def boom() -> str:
        raise LookupError("boom")

    @app.teardown_request
    def teardown(exc: BaseException | None) -> None:
        teardowns.append(request.path)

    return app


# -- with client: ---------------------------------------------------------------


def test_with_client_keeps_request_session_and_g_after_the_request() -> None:
    teardowns: list[str] = []
    client = validated_client(_context_app(teardowns))
    with client:
        assert client.get("/visit/ada?x=1").text == "hello ada"
        assert teardowns == ["/visit/ada"]  # teardown ran when the body was closed
        assert request.path == "/visit/ada" and request.args["x"] == "1"
        assert session["last"] == "ada"
        assert g.visitor == "ada"
    assert not has_request_context() and not has_app_context()


def test_with_client_exit_pops_the_context_without_a_second_teardown() -> None:
    teardowns: list[str] = []
    client = validated_client(_context_app(teardowns))
    with client:
        client.get("/visit/ada")
    assert teardowns == ["/visit/ada"]
    assert not has_request_context()


def test_with_client_next_request_replaces_the_kept_context() -> None:
    teardowns: list[str] = []
    client = validated_client(_context_app(teardowns))
    with client:
        client.get("/visit/ada")
        client.get("/visit/bob")
        assert request.path == "/visit/bob" and g.visitor == "bob"
        client.get("/stream")
        assert request.path == "/stream" and g.visitor == "streamer"
    assert teardowns == ["/visit/ada", "/visit/bob", "/stream"]
    assert not has_request_context()


def test_with_client_kept_context_is_popped_before_the_next_request() -> None:
    client = validated_client(_context_app([]))
    with client:
        client.get("/visit/ada")
        assert client.get("/peek").text == "None"  # the next request gets a g of its own


def test_with_client_following_redirects_keeps_the_last_request() -> None:
    teardowns: list[str] = []
    client = validated_client(_context_app(teardowns))
    with client:
        r = client.get("/hop", follow_redirects=True)
        assert r.text == "hello after-hop"
        assert request.path == "/visit/after-hop" and g.visitor == "after-hop"
    assert teardowns == ["/hop", "/visit/after-hop"]
    assert not has_request_context()


def test_with_client_exception_in_block_still_pops() -> None:
    client = validated_client(_context_app([]))
    with pytest.raises(KeyError), client:
        client.get("/visit/ada")
        raise KeyError("in the test")
    assert not has_request_context()


def test_with_client_propagated_exception_keeps_no_context() -> None:
    teardowns: list[str] = []
    app = _context_app(teardowns)
    app.testing = True  # the view's exception reaches the test
    client = validated_client(app)
    with client:
        client.get("/visit/ada")
        with pytest.raises(LookupError, match="boom"):
            client.get("/boom")
        assert not has_request_context()
    assert teardowns == ["/visit/ada", "/boom"]


def test_without_with_block_no_context_stays() -> None:
    client = validated_client(_context_app([]))
    client.get("/visit/ada")
    assert not has_request_context() and not has_app_context()


def test_with_client_nested_raises() -> None:
    client = validated_client(_context_app([]))
    with client:
        with pytest.raises(RuntimeError, match="Cannot nest client invocations"), client:
            pass  # pragma: no cover - not reached
        client.get("/visit/ada")
        assert request.path == "/visit/ada"
    assert not has_request_context()


def test_with_client_may_be_entered_again_after_exit() -> None:
    client = validated_client(_context_app([]))
    with client:
        client.get("/visit/ada")
    with client:
        client.get("/visit/bob")
        assert g.visitor == "bob"
    assert not has_request_context()


# -- session_transaction ------------------------------------------------------------


def _session_app() -> App:
    app = App(__name__)
    app.secret_key = SECRET

    @app.get("/whoami")
    def whoami() -> str:
        return str(session.get("user"))

    @app.get("/login")
    def login() -> str:
        session["user"] = "ada"
        return "in"

    return app


def test_session_transaction_change_is_seen_by_the_next_request() -> None:
    client = _session_app().test_client()
    with client.session_transaction() as sess:
        assert isinstance(sess, Session) and dict(sess) == {}
        sess["user"] = "grace"
    assert client.get("/whoami").text == "grace"


def test_session_transaction_reads_what_the_app_stored() -> None:
    client = _session_app().test_client()
    client.get("/login")
    with client.session_transaction() as sess:
        assert sess["user"] == "ada"
        sess["user"] = "linus"
    assert client.get("/whoami").text == "linus"


def test_session_transaction_clearing_the_session_deletes_the_cookie() -> None:
    client = _session_app().test_client()
    client.get("/login")
    with client.session_transaction() as sess:
        sess.clear()
    assert client.get_cookie("session") is None
    assert client.get("/whoami").text == "None"


def test_session_transaction_exception_in_block_saves_nothing() -> None:
    client = _session_app().test_client()
    with pytest.raises(ValueError, match="abandon"), client.session_transaction() as sess:
        sess["user"] = "eve"
        raise ValueError("abandon")
    assert client.get("/whoami").text == "None"


def test_session_transaction_without_secret_key_raises() -> None:
    app = _session_app()
    app.secret_key = None
    with pytest.raises(RuntimeError, match=r"Session backend did not open a session.*app\.secret_key"):
        with app.test_client().session_transaction():
            pass  # pragma: no cover - not reached


def test_session_transaction_interface_returning_none_raises() -> None:
    class NoSessions:
        def open_session(self, app: Any, request: Any) -> None:
            return None

        def save_session(self, app: Any, session: Any, response: Any) -> None:  # pragma: no cover - never opened
            pass

    app = _session_app()
    app.session_interface = NoSessions()  # type: ignore[assignment]
    with pytest.raises(RuntimeError, match="Session backend did not open a session"):
        with app.test_client().session_transaction():
            pass  # pragma: no cover - not reached


def test_session_transaction_needs_the_app_itself() -> None:
    client = validated_client(_session_app())
    with pytest.raises(TypeError, match=r"needs a sluice App.*app\.test_client\(\)"):
        with client.session_transaction():
            pass  # pragma: no cover - not reached


# -- responses ---------------------------------------------------------------------


def _response_app() -> App:
    app = App(__name__)

    @app.get("/json")
    def as_json() -> dict[str, Any]:
        return {"a": [1, 2]}

    @app.get("/problem")
    def problem() -> Response:
        return Response('{"title": "no"}', status=418, content_type="application/problem+json")

    @app.get("/html")
    def html() -> Response:
        return Response("<p>héllo</p>", mimetype="text/html", headers=[("X-Multi", "1"), ("x-multi", "2")])

    @app.get("/bad-json")
    def bad_json() -> Response:
        return Response("{nope", mimetype="application/json")

    @app.get("/latin1")
    def latin1() -> bytes:
        return b"\xe9t\xe9"

    return app


def test_response_body_as_data_text_and_get_data() -> None:
    r = validated_client(_response_app()).get("/html")
    assert r.data == "<p>héllo</p>".encode()
    assert r.get_data() == r.data
    assert r.get_data(as_text=True) == r.text == "<p>héllo</p>"


def test_response_text_of_a_body_that_is_not_utf8_raises() -> None:
    r = validated_client(_response_app()).get("/latin1")
    with pytest.raises(UnicodeDecodeError):
        r.text


def test_response_status_and_case_insensitive_headers() -> None:
    r = validated_client(_response_app()).get("/html")
    assert (r.status_code, r.status) == (200, "200 OK")
    assert r.headers["content-type"] == r.headers.get("Content-Type") == "text/html; charset=utf-8"
    assert r.headers.getlist("X-MULTI") == ["1", "2"]
    assert r.headers.get("X-Missing") is None and "x-missing" not in r.headers
    assert r.mimetype == "text/html"
    assert r.content_type == "text/html; charset=utf-8"


def test_response_json_parses_a_json_mimetype() -> None:
    client = validated_client(_response_app())
    r = client.get("/json")
    assert r.is_json and r.json == r.get_json() == {"a": [1, 2]}
    problem = client.get("/problem")
    assert (problem.status_code, problem.status) == (418, "418 I'M A TEAPOT")
    assert problem.mimetype == "application/problem+json" and problem.json == {"title": "no"}


def test_response_json_of_another_mimetype_is_none() -> None:
    # As Werkzeug's Response.json / get_json(): None unless the mimetype says JSON.
    r = validated_client(_response_app()).get("/html")
    assert not r.is_json
    assert r.json is None and r.get_json() is None


def test_response_get_json_force_and_silent() -> None:
    client = validated_client(_response_app())
    text = TestResponse("200 OK", [("Content-Type", "text/plain")], b'{"k": 1}')
    assert text.get_json(force=True) == {"k": 1}
    bad = client.get("/bad-json")
    with pytest.raises(ValueError):
        bad.json
    assert bad.get_json(silent=True) is None


def test_response_without_content_type_has_no_mimetype() -> None:
    r = TestResponse("204 NO CONTENT", [], b"")
    assert r.mimetype is None and r.content_type is None and r.json is None
    assert r.request is None and r.history == ()


def test_response_request_is_the_request_sent() -> None:
    r = validated_client(_response_app()).post("/json?page=2", json={"q": 1}, headers={"X-Trace": "t1"})
    assert r.status_code == 405
    assert r.request is not None
    assert r.request.method == "POST" and r.request.path == "/json"
    assert r.request.args["page"] == "2" and r.request.headers["X-Trace"] == "t1"
    assert r.request.get_json() == {"q": 1}  # the body can be read again


# -- uploads -------------------------------------------------------------------------


def _upload_app() -> App:
    app = App(__name__)

    @app.post("/upload")
    def upload() -> dict[str, Any]:
        return {
            "content_type": request.mimetype,
            "form": {key: request.form.getlist(key) for key in request.form},
            "files": {
                key: [[f.filename, f.content_type, f.read().decode()] for f in request.files.getlist(key)]
                for key in request.files
            },
        }

    return app


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param((io.BytesIO(b"hi"), "note.txt"), ["note.txt", "text/plain", "hi"], id="file-name"),
        pytest.param(
            (io.BytesIO(b"{}"), "data.bin", "application/json"), ["data.bin", "application/json", "{}"], id="file-name-type"
        ),
        pytest.param((io.BytesIO(b"x"), "blob"), ["blob", "application/octet-stream", "x"], id="unknown-extension"),
        pytest.param((b"raw", "raw.csv"), ["raw.csv", "text/csv", "raw"], id="bytes-name"),
        pytest.param(io.BytesIO(b"bare"), ["", "application/octet-stream", "bare"], id="bare-bytesio"),
    ],
)
def test_upload_file_arrives_with_filename_type_and_content(value: Any, expected: list[str]) -> None:
    r = validated_client(_upload_app()).post("/upload", data={"f": value})
    assert r.json["content_type"] == "multipart/form-data"
    assert r.json["files"] == {"f": [expected]}


def test_upload_several_files_under_one_name_with_fields() -> None:
    data = {
        "f": [(io.BytesIO(b"1"), "a.txt"), (io.BytesIO(b"2"), "b.png")],
        "title": "two",
        "raw": b"bytes field",
    }
    r = validated_client(_upload_app()).post("/upload", data=data)
    assert r.json == {
        "content_type": "multipart/form-data",
        "form": {"title": ["two"], "raw": ["bytes field"]},
        "files": {"f": [["a.txt", "text/plain", "1"], ["b.png", "image/png", "2"]]},
    }


def test_upload_named_file_object_gives_its_basename(tmp_path: Any) -> None:
    path = tmp_path / "report.txt"
    path.write_bytes(b"on disk")
    with path.open("rb") as file:
        r = validated_client(_upload_app()).post("/upload", data={"f": file})
    assert r.json["files"] == {"f": [["report.txt", "text/plain", "on disk"]]}


def test_upload_form_without_file_is_urlencoded_unless_multipart_asked() -> None:
    client = validated_client(_upload_app())
    plain = client.post("/upload", data={"title": "x"}).json
    assert plain == {"content_type": "application/x-www-form-urlencoded", "form": {"title": ["x"]}, "files": {}}
    forced = client.post("/upload", data={"title": "x"}, content_type="multipart/form-data").json
    assert forced == {"content_type": "multipart/form-data", "form": {"title": ["x"]}, "files": {}}


def test_upload_bad_file_tuple_raises() -> None:
    with pytest.raises(TypeError, match=r"data\['f'\]: give a file as \(file, filename\)"):
        TestClient(_upload_app()).post("/upload", data={"f": ("not a file", "name.txt")})


# -- redirects ---------------------------------------------------------------------


def _redirect_app() -> App:
    app = App(__name__)

    @app.route("/a/b/go", methods=["GET", "POST", "PUT", "HEAD"])
    def go() -> Any:
        if "to" not in request.args:
            return echo("a/b/go")
        return redirect(request.args["to"], int(request.args.get("code", "302")))

    @app.route("/<path:anything>", methods=["GET", "POST", "PUT"])
    def echo(anything: str) -> dict[str, Any]:
        return {
            "method": request.method,
            "url": request.url,
            "script_root": request.script_root,
            "path": request.path,
            "content_type": request.content_type,
            # Read only with a length: wsgiref.validate rejects read() without a size.
            "body": request.get_data().decode() if request.content_length else "",
        }

    @app.get("/")
    def root() -> dict[str, Any]:
        return echo("")

    @app.get("/loop")
    def loop() -> Response:
        return redirect("/loop")

    @app.get("/nowhere")
    def nowhere() -> Response:
        return Response("", status=302)

    @app.get("/set-and-go")
    def set_and_go() -> Response:
        response = redirect("/cookie")
        response.set_cookie("flash", "saved")
        return response

    @app.get("/cookie")
    def cookie() -> str:
        return request.cookies.get("flash", "none")

    return app


@pytest.mark.parametrize("location", ["/login", "login", "../up?x=1", "?page=2", "//other.example/x", "/p#frag"])
def test_redirect_location_is_kept_as_the_app_set_it(location: str) -> None:
    r = validated_client(_redirect_app()).get("/a/b/go", query_string={"to": location})
    assert r.status_code == 302
    assert r.location == location
    assert r.headers["Location"] == location


def test_redirect_strict_slash_location_is_relative() -> None:
    app = App(__name__)

    @app.get("/dir/")
    def directory() -> str:
        return "dir"

    r = validated_client(app).get("/dir?x=1")
    assert r.status_code == 308
    assert r.location == "/dir/?x=1"
    assert validated_client(app).get("/dir", follow_redirects=True).text == "dir"


@pytest.mark.parametrize(
    ("location", "url"),
    [
        pytest.param("/login", "http://localhost/login", id="absolute-path"),
        pytest.param("c", "http://localhost/a/b/c", id="relative-path"),
        pytest.param("../x", "http://localhost/a/x", id="dot-dot"),
        pytest.param("./x/../y", "http://localhost/a/b/y", id="dot-segments"),
        pytest.param("../../../../x", "http://localhost/x", id="above-root"),
        pytest.param("?page=2", "http://localhost/a/b/go?page=2", id="query-only"),
        pytest.param("/p?q=1#frag", "http://localhost/p?q=1", id="fragment-dropped"),
        pytest.param("//localhost/net", "http://localhost/net", id="network-path"),
        pytest.param("https://localhost/tls", "https://localhost/tls", id="other-scheme-same-host"),
        pytest.param("http://localhost:8080/port", "http://localhost:8080/port", id="other-port-same-host"),
    ],
)
def test_redirect_followed_to_the_location_resolved_per_rfc3986(location: str, url: str) -> None:
    r = validated_client(_redirect_app()).get("/a/b/go", query_string={"to": location}, follow_redirects=True)
    assert r.status_code == 200
    assert r.json["url"] == url
    assert [h.location for h in r.history] == [location]


@pytest.mark.parametrize(
    "location",
    [
        pytest.param("http://example.com/x", id="absolute-url"),
        pytest.param("//example.com/x", id="network-path"),
        pytest.param("mailto:ada@example.com", id="other-scheme"),
    ],
)
def test_redirect_to_another_host_is_not_followed(location: str) -> None:
    client = validated_client(_redirect_app())
    with pytest.raises(RuntimeError, match=r"not following the redirect to .*check response\.location"):
        client.get("/a/b/go", query_string={"to": location}, follow_redirects=True)


def test_redirect_to_a_subdomain_followed_only_when_allowed() -> None:
    query = {"to": "http://api.localhost/v1"}
    with pytest.raises(RuntimeError, match="pass allow_subdomain_redirects=True"):
        validated_client(_redirect_app()).get("/a/b/go", query_string=query, follow_redirects=True)
    from wsgiref.validate import validator

    client = TestClient(validator(_redirect_app()), allow_subdomain_redirects=True)
    r = client.get("/a/b/go", query_string=query, follow_redirects=True)
    assert r.json["url"] == "http://api.localhost/v1"


@pytest.mark.parametrize("code", [301, 302, 303])
def test_redirect_301_302_303_turn_post_into_get_without_body(code: int) -> None:
    r = validated_client(_redirect_app()).post(
        "/a/b/go", query_string={"to": "/done", "code": code}, json={"k": 1}, headers={"X-Keep": "1"}
    )
    assert r.status_code == code
    followed = validated_client(_redirect_app()).post(
        "/a/b/go", query_string={"to": "/done", "code": code}, json={"k": 1}, headers={"X-Keep": "1"},
        follow_redirects=True,
    )
    assert followed.json == {
        "method": "GET", "url": "http://localhost/done", "script_root": "", "path": "/done",
        "content_type": None, "body": "",
    }
    assert followed.request is not None and followed.request.headers["X-Keep"] == "1"
    assert "CONTENT_LENGTH" not in followed.request.environ


@pytest.mark.parametrize("code", [307, 308])
def test_redirect_307_308_keep_method_and_body(code: int) -> None:
    r = validated_client(_redirect_app()).put(
        "/a/b/go", query_string={"to": "/done", "code": code}, json={"k": 1}, follow_redirects=True
    )
    assert r.json == {
        "method": "PUT", "url": "http://localhost/done", "script_root": "", "path": "/done",
        "content_type": "application/json", "body": '{"k": 1}',
    }


def test_redirect_307_resends_an_upload_whole() -> None:
    r = validated_client(_redirect_app()).post(
        "/a/b/go", query_string={"to": "/done", "code": 307}, data={"f": (io.BytesIO(b"file body"), "a.txt")},
        follow_redirects=True,
    )
    assert r.json["method"] == "POST" and "file body" in r.json["body"]


@pytest.mark.parametrize("code", [301, 302, 303, 307])
def test_redirect_head_stays_head(code: int) -> None:
    r = validated_client(_redirect_app()).head(
        "/a/b/go", query_string={"to": "/", "code": code}, follow_redirects=True
    )
    assert r.status_code == 200 and r.data == b""
    assert r.request is not None and r.request.method == "HEAD"


def test_redirect_history_lists_each_hop_in_order() -> None:
    first = {"to": "/a/b/go?to=/end&code=303", "code": "301"}
    r = validated_client(_redirect_app()).get("/a/b/go", query_string=first, follow_redirects=True)
    assert r.json["url"] == "http://localhost/end"
    assert isinstance(r.history, tuple)
    assert [(h.status_code, h.location) for h in r.history] == [(301, "/a/b/go?to=/end&code=303"), (303, "/end")]
    assert r.history[1].history == (r.history[0],)


def test_redirect_loop_raises_after_20() -> None:
    with pytest.raises(ValueError, match="more than 20 redirects; last Location: /loop"):
        validated_client(_redirect_app()).get("/loop", follow_redirects=True)


def test_redirect_without_location_is_returned() -> None:
    r = validated_client(_redirect_app()).get("/nowhere", follow_redirects=True)
    assert r.status_code == 302 and r.history == ()


def test_redirect_followed_with_the_cookies_it_set() -> None:
    r = validated_client(_redirect_app()).get("/set-and-go", follow_redirects=True)
    assert r.text == "saved"


def test_redirect_under_script_root_keeps_it_and_outside_drops_it() -> None:
    from wsgiref.validate import validator

    client = TestClient(validator(_redirect_app()), base_url="http://localhost/app/")
    inside = client.get("/a/b/go", query_string={"to": "/app/in"}, follow_redirects=True)
    assert (inside.json["script_root"], inside.json["path"]) == ("/app", "/in")
    relative = client.get("/a/b/go", query_string={"to": "../x"}, follow_redirects=True)
    assert (relative.json["script_root"], relative.json["path"]) == ("/app", "/a/x")
    outside = client.get("/a/b/go", query_string={"to": "/elsewhere"}, follow_redirects=True)
    assert (outside.json["script_root"], outside.json["path"]) == ("", "/elsewhere")


# -- request options -----------------------------------------------------------------


def _echo_app() -> App:
    app = App(__name__)

    @app.route("/echo", methods=["GET", "POST"])
    def echo() -> dict[str, Any]:
        return {
            "url": request.url,
            "script_root": request.script_root,
            "args": {key: request.args.getlist(key) for key in request.args},
            "content_type": request.content_type,
            "json": request.get_json(silent=True),
            "remote_addr": request.remote_addr,
            "agent": request.headers.get("User-Agent"),
            "accept": request.headers.get("Accept"),
            "marker": request.environ.get("test.marker"),
        }

    return app


def test_request_json_sets_body_and_content_type() -> None:
    r = validated_client(_echo_app()).post("/echo", json={"n": [1, "x"]})
    assert r.json["content_type"] == "application/json" and r.json["json"] == {"n": [1, "x"]}


@pytest.mark.parametrize(
    ("query_string", "args"),
    [
        pytest.param({"a": ["1", "2"], "b": "x y"}, {"a": ["1", "2"], "b": ["x y"]}, id="mapping"),
        pytest.param([("a", 1), ("a", 2)], {"a": ["1", "2"]}, id="pairs"),
        pytest.param("a=1&b=%20", {"a": ["1"], "b": [" "]}, id="string"),
    ],
)
def test_request_query_string(query_string: Any, args: dict[str, list[str]]) -> None:
    assert validated_client(_echo_app()).get("/echo", query_string=query_string).json["args"] == args


def test_request_query_in_path_and_query_string_rejected() -> None:
    with pytest.raises(ValueError, match="the query is given twice"):
        TestClient(_echo_app()).get("/echo?a=1", query_string={"b": "2"})


def test_request_headers_as_mapping_and_repeated_pairs() -> None:
    client = validated_client(_echo_app())
    assert client.get("/echo", headers={"Accept": "text/html"}).json["accept"] == "text/html"
    pairs = [("Accept", "text/html"), ("Accept", "application/json")]
    assert client.get("/echo", headers=pairs).json["accept"] == "text/html, application/json"


def test_request_environ_base_is_overridden_by_headers_and_overrides() -> None:
    from wsgiref.validate import validator

    client = TestClient(validator(_echo_app()), environ_base={"REMOTE_ADDR": "10.0.0.1", "HTTP_USER_AGENT": "base"})
    r = client.get("/echo")
    assert (r.json["remote_addr"], r.json["agent"]) == ("10.0.0.1", "base")
    r = client.get("/echo", headers={"User-Agent": "header"}, environ_base={"test.marker": "per-request"})
    assert (r.json["remote_addr"], r.json["agent"], r.json["marker"]) == ("10.0.0.1", "header", "per-request")
    r = client.get("/echo", environ_overrides={"REMOTE_ADDR": "10.9.9.9"})
    assert r.json["remote_addr"] == "10.9.9.9"


def test_request_base_url_sets_scheme_host_and_script_root() -> None:
    client = validated_client(_echo_app())
    r = client.get("/echo?a=1", base_url="https://example.com:8443/mount/")
    assert r.json["url"] == "https://example.com:8443/mount/echo?a=1"
    assert r.json["script_root"] == "/mount"


def test_request_path_with_unicode_is_sent_as_utf8() -> None:
    app = App(__name__)

    @app.get("/café/<word>")
    def cafe(word: str) -> str:
        return word

    client = validated_client(app)
    assert client.get("/café/thé").text == client.get("/caf%C3%A9/th%C3%A9").text == "thé"


def test_redirect_to_a_unicode_location_is_followed_as_utf8() -> None:
    r = validated_client(_redirect_app()).get("/a/b/go", query_string={"to": "/señor"}, follow_redirects=True)
    assert r.json["path"] == "/señor"


def test_request_absolute_url_as_path() -> None:
    r = validated_client(_echo_app()).get("https://example.com/echo?a=1")
    assert r.json["url"] == "https://example.com/echo?a=1"
    assert validated_client(_echo_app()).get("//echo").json["url"] == "http://localhost/echo"  # a path, not a host


def test_response_is_a_context_manager_as_in_flask() -> None:
    # `with client.get(...) as response:` is how Flask tests close a file body.
    app = App(__name__)
    app.add_url_rule("/", "index", lambda: "hi")
    with app.test_client().get("/") as response:
        assert response.data == b"hi"
    response.close()  # idempotent: the body was read and closed by the client
    assert response.data == b"hi"
