"""Tests of Request: URL parts, query and form parsing, JSON, cookies, Accept, the Werkzeug header attributes."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import datetime
from datetime import timezone
from typing import Any
from wsgiref.util import setup_testing_defaults

import pytest

from sluice import Blueprint
from sluice import request
from sluice.app import App
from sluice.errors import BadRequest
from sluice.errors import ContentTooLarge
from sluice.errors import RemoteProtocolError
from sluice.errors import RequestTimeout
from sluice.errors import UnsupportedMediaType
from sluice.wrappers.datastructures import ImmutableList
from sluice.wrappers.request import LimitedStream
from sluice.wrappers.request import Request


def make_request(body: bytes = b"", content_type: str | None = None, **environ: Any) -> Request:
    env: dict[str, Any] = {"wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body)), **environ}
    if content_type is not None:
        env["CONTENT_TYPE"] = content_type
    setup_testing_defaults(env)
    return Request(env)


def test_request_url_parts() -> None:
    request = make_request(
        PATH_INFO="/caf\xc3\xa9", SCRIPT_NAME="/app", QUERY_STRING="a=1", HTTP_HOST="example.com:8080",
        REQUEST_METHOD="post", REMOTE_ADDR="127.0.0.1",
    )
    assert request.method == "POST"
    assert request.path == "/café"
    assert request.full_path == "/café?a=1"
    assert request.script_root == "/app"
    assert request.host == "example.com:8080"
    assert request.base_url == "http://example.com:8080/app/caf%C3%A9"
    assert request.url == "http://example.com:8080/app/caf%C3%A9?a=1"
    assert request.url_root == "http://example.com:8080/app/"
    assert request.scheme == "http" and not request.is_secure
    assert request.remote_addr == "127.0.0.1"
    assert request.view_args is None and request.endpoint is None and request.blueprint is None


def test_request_host_without_host_header_uses_server_name() -> None:
    env: dict[str, Any] = {"SERVER_NAME": "srv", "SERVER_PORT": "443", "wsgi.url_scheme": "https"}
    setup_testing_defaults(env)
    del env["HTTP_HOST"]
    request = Request(env)
    assert request.host == "srv" and request.is_secure


def test_request_path_undecodable_utf8_replaced() -> None:
    # As Werkzeug: U+FFFD for the bad bytes; the app answers such a request 400
    # (tests/test_app_direct.py).
    assert make_request(PATH_INFO="//caf\xc3\xa9/\xff").path == "/caf\u00e9/\ufffd"
    assert make_request(PATH_INFO="/caf\xc3\xa9").path == "/caf\u00e9"
    assert make_request(PATH_INFO="/\u2603").path == "/\u2603"  # text that is not latin-1 is kept


def test_request_path_is_an_attribute_users_may_set() -> None:
    request = make_request(PATH_INFO="/a")
    request.path = "/b"
    assert request.path == "/b"


def test_request_args_multi_values_and_plus() -> None:
    request = make_request(QUERY_STRING="a=1&a=2&b=x+y%21&flag")
    assert request.args.getlist("a") == ["1", "2"]
    assert request.args["b"] == "x y!"
    assert request.args["flag"] == ""


@pytest.mark.parametrize(
    ("query", "message"),
    [
        pytest.param("a=%zz", "not followed by two hex digits", id="bad-percent"),
        pytest.param("a=%2", "not followed by two hex digits", id="short-percent"),
        pytest.param("a=%ff", "not valid UTF-8", id="bad-utf8-encoded"),
        pytest.param("a=\xff", "not valid UTF-8", id="bad-utf8-raw"),
    ],
)
def test_request_args_malformed_badrequest(query: str, message: str) -> None:
    with pytest.raises(BadRequest, match=message):
        make_request(QUERY_STRING=query).args


def test_request_form_urlencoded_and_values() -> None:
    request = make_request(b"name=J%C3%BCrgen&n=2", "application/x-www-form-urlencoded", QUERY_STRING="n=1")
    assert request.form["name"] == "Jürgen"
    assert request.values.getlist("n") == ["1", "2"]
    assert len(request.files) == 0


def test_request_form_urlencoded_too_large_413() -> None:
    request = make_request(b"a=" + b"x" * 100, "application/x-www-form-urlencoded")
    request.max_form_memory_size = 50
    with pytest.raises(ContentTooLarge, match=r"form body \(MAX_FORM_MEMORY_SIZE\) is 102 bytes; the limit is 50"):
        request.form


def _multipart(boundary: str, parts: list[tuple[str, bytes]]) -> bytes:
    out = b"preamble\r\n"
    for headers, data in parts:
        out += b"--" + boundary.encode() + b"\r\n" + headers.encode() + b"\r\n\r\n" + data + b"\r\n"
    return out + b"--" + boundary.encode() + b"--\r\nepilogue"


def test_request_multipart_fields_and_files() -> None:
    body = _multipart("xyz", [
        ('Content-Disposition: form-data; name="title"', "héllo".encode()),
        ('Content-Disposition: form-data; name="up"; filename="a.bin"\r\nContent-Type: application/octet-stream',
         b"\x00\r\n--xy\r\nbinary" * 10000),
        ('Content-Disposition: form-data; name="up"; filename*=UTF-8\'\'%E2%82%AC.txt', b""),
    ])
    request = make_request(body, "multipart/form-data; boundary=xyz")
    assert request.form.to_dict() == {"title": "héllo"}
    first, second = request.files.getlist("up")
    assert first.filename == "a.bin" and first.content_type == "application/octet-stream"
    assert first.read() == b"\x00\r\n--xy\r\nbinary" * 10000
    assert second.filename == "€.txt" and second.read() == b""
    request.close()


def test_request_multipart_quoted_boundary() -> None:
    body = _multipart("a b", [('Content-Disposition: form-data; name="k"', b"v")])
    assert make_request(body, 'multipart/form-data; boundary="a b"').form["k"] == "v"


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        pytest.param(b"x", "multipart/form-data", "missing or invalid boundary", id="no-boundary"),
        pytest.param(b"no delimiter here", "multipart/form-data; boundary=b", "no boundary delimiter", id="no-delim"),
        pytest.param(b"--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nvalue",
                     "multipart/form-data; boundary=b", "ends before its closing", id="truncated"),
        pytest.param(b"--b\r\nContent-Type: text/plain\r\n\r\nv\r\n--b--",
                     "multipart/form-data; boundary=b", "lacks 'Content-Disposition", id="no-disposition"),
    ],
)
def test_request_multipart_malformed_badrequest(body: bytes, content_type: str, message: str) -> None:
    with pytest.raises(BadRequest, match=message):
        make_request(body, content_type).form


def test_request_multipart_field_memory_limit_413() -> None:
    body = _multipart("b", [('Content-Disposition: form-data; name="a"', b"x" * 1000)])
    request = make_request(body, "multipart/form-data; boundary=b")
    request.max_form_memory_size = 100
    with pytest.raises(ContentTooLarge, match="MAX_FORM_MEMORY_SIZE"):
        request.form


def test_request_multipart_too_many_parts_413() -> None:
    body = _multipart("b", [('Content-Disposition: form-data; name="a"', b"x")] * 3)
    request = make_request(body, "multipart/form-data; boundary=b")
    request.max_form_parts = 2
    with pytest.raises(ContentTooLarge, match="more than 2 parts"):
        request.form


def test_request_json_parsed() -> None:
    request = make_request(b'{"a": [1, 2]}', "application/json; charset=utf-8")
    assert request.json == {"a": [1, 2]}
    assert request.get_json() is request.get_json()


def test_request_json_bad_body_badrequest() -> None:
    request = make_request(b"{nope", "application/json")
    with pytest.raises(BadRequest, match="Failed to decode JSON object"):
        request.get_json()
    assert request.get_json(silent=True) is None


def test_request_json_wrong_content_type_415() -> None:
    request = make_request(b"[1]", "text/plain")
    with pytest.raises(UnsupportedMediaType, match="Expected a JSON body"):
        request.json
    assert request.get_json(silent=True) is None
    assert request.get_json(force=True) == [1]


def test_request_get_data_cache_and_text() -> None:
    request = make_request("héllo".encode(), "text/plain")
    assert request.get_data(as_text=True) == "héllo"
    assert request.data == "héllo".encode()


def test_request_stream_limited_to_content_length() -> None:
    env: dict[str, Any] = {"wsgi.input": io.BytesIO(b"abcdef"), "CONTENT_LENGTH": "3"}
    setup_testing_defaults(env)
    assert Request(env).stream.read() == b"abc"


def test_request_stream_short_body_badrequest() -> None:
    env: dict[str, Any] = {"wsgi.input": io.BytesIO(b"ab"), "CONTENT_LENGTH": "5"}
    setup_testing_defaults(env)
    with pytest.raises(BadRequest, match="fewer body bytes"):
        Request(env).get_data()


def test_request_max_content_length_413() -> None:
    request = make_request(b"x" * 10, "text/plain")
    request.max_content_length = 5
    with pytest.raises(ContentTooLarge, match="limit is 5"):
        request.get_data()


def test_request_cookies_tolerant_parsing() -> None:
    request = make_request(HTTP_COOKIE='a=1; ; junk; b="x\\"y\\073z"; a=2; c=caf\xc3\xa9;d=')
    assert request.cookies["a"] == "1"
    assert request.cookies.getlist("a") == ["1", "2"]
    assert request.cookies["b"] == 'x"y;z'
    assert request.cookies["c"] == "café"
    assert request.cookies["d"] == ""
    assert "junk" not in request.cookies


def test_request_headers_readonly_view() -> None:
    request = make_request(b"{}", "application/json", HTTP_X_TRACE="t1")
    assert request.headers["x-trace"] == "t1"
    assert request.headers["Content-Type"] == "application/json"
    with pytest.raises(TypeError, match="read-only"):
        request.headers["X"] = "y"


def test_request_content_type_mimetype_params_length() -> None:
    request = make_request(b"abc", 'Text/Plain; Charset="utf-8"')
    assert request.mimetype == "text/plain"
    assert request.mimetype_params == {"charset": "utf-8"}
    assert request.content_length == 3


def test_request_accept_quality_ordering() -> None:
    request = make_request(HTTP_ACCEPT="text/html;q=0.5, application/json, */*;q=0.1, image/png;q=0")
    accept = request.accept_mimetypes
    assert [value for value, _ in accept] == ["application/json", "text/html", "*/*", "image/png"]
    assert accept.best_match(["text/html", "application/json"]) == "application/json"
    assert accept.quality("image/png") == 0
    assert "text/plain" in accept and accept.accept_json
    assert request.prefers_json


def test_request_accept_browser_prefers_html() -> None:
    request = make_request(HTTP_ACCEPT="text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
    assert request.accept_mimetypes.best_match(["application/json", "text/html"]) == "text/html"
    assert not request.prefers_json


def test_request_accept_wildcard_only_prefers_html() -> None:
    assert not make_request(HTTP_ACCEPT="*/*").prefers_json
    assert make_request(HTTP_ACCEPT="application/json").accept_mimetypes.best_match(["text/html"]) is None


@pytest.mark.parametrize(
    "read",
    [
        pytest.param(lambda s: s.read(), id="read-all"),
        pytest.param(lambda s: [s.read(7) for _ in range(20)], id="read-pieces"),
        pytest.param(lambda s: [s.readline() for _ in range(20)], id="readline"),
    ],
)
def test_limited_stream_unknown_length_cut_at_max_length(read: Callable[[LimitedStream], object]) -> None:
    source = io.BytesIO(b"line\n" * 100)
    stream = LimitedStream(source, None, max_length=20)
    with pytest.raises(ContentTooLarge, match=r"larger than 20 bytes \(MAX_CONTENT_LENGTH\)"):
        read(stream)
    assert source.tell() <= 21


def test_limited_stream_unknown_length_at_max_length_accepted() -> None:
    stream = LimitedStream(io.BytesIO(b"x" * 20), None, max_length=20)
    assert stream.read() == b"x" * 20
    assert stream.read() == b""
    assert LimitedStream(io.BytesIO(b"ab\ncd"), None, max_length=5).readline() == b"ab\n"


class _FailingInput(io.BytesIO):
    def __init__(self, error: Exception) -> None:
        super().__init__()
        self.error = error

    def read(self, size: int | None = -1) -> bytes:
        raise self.error

    def readline(self, size: int | None = -1) -> bytes:
        raise self.error


@pytest.mark.parametrize(
    ("error", "expected", "message"),
    [
        pytest.param(TimeoutError("no bytes within 30 s"), RequestTimeout, "sent no more body bytes in time", id="timeout-408"),
        pytest.param(ConnectionResetError("reset"), BadRequest, "connection failed while the request body was read", id="reset-400"),
        pytest.param(RemoteProtocolError("bad chunk size"), BadRequest, "body is malformed: bad chunk size", id="framing-400"),
        pytest.param(RemoteProtocolError("larger than 9 bytes", 413), ContentTooLarge, "larger than 9 bytes", id="server-limit-413"),
    ],
)
@pytest.mark.parametrize("length", [100, None], ids=["content-length", "chunked"])
def test_limited_stream_failed_input_becomes_http_error(
    error: Exception, expected: type[Exception], message: str, length: int | None
) -> None:
    stream = LimitedStream(_FailingInput(error), length, max_length=1000)
    with pytest.raises(expected, match=message):
        stream.read(10)
    with pytest.raises(expected, match=message):
        stream.readline()


# -- Werkzeug request attributes ---------------------------------------------------


def test_request_header_attributes_absent() -> None:
    request = make_request()
    assert request.referrer is None and request.origin is None
    assert request.user_agent.string == "" and not request.user_agent
    assert request.authorization is None
    assert list(request.accept_languages) == [] and request.accept_languages.best is None
    assert not request.if_none_match and request.if_modified_since is None
    assert request.range is None
    assert not request.cache_control and request.cache_control.max_age is None


def test_request_header_attributes_parsed() -> None:
    request = make_request(
        HTTP_REFERER="http://example.com/from",
        HTTP_ORIGIN="http://example.com",
        HTTP_USER_AGENT="UA/1.0",
        HTTP_AUTHORIZATION="Basic YW5uOnB3",
        HTTP_ACCEPT_LANGUAGE="fr, en;q=0.5",
        HTTP_ACCEPT_CHARSET="utf-8, iso-8859-1;q=0.5",
        HTTP_ACCEPT_ENCODING="br;q=0.9, gzip",
        HTTP_IF_NONE_MATCH='"a", W/"b"',
        HTTP_IF_MODIFIED_SINCE="Mon, 01 Jan 2001 00:00:00 GMT",
        HTTP_RANGE="bytes=0-1",
        HTTP_CACHE_CONTROL="no-cache, max-age=0",
    )
    assert request.referrer == "http://example.com/from"
    assert request.origin == "http://example.com"
    assert str(request.user_agent) == "UA/1.0" and request.user_agent
    assert request.authorization is not None
    assert (request.authorization.type, request.authorization.username, request.authorization.password) == (
        "basic",
        "ann",
        "pw",
    )
    assert request.accept_languages.best == "fr"
    assert request.accept_languages.best_match(["en", "de"]) == "en"
    assert request.accept_charsets.best == "utf-8"
    assert request.accept_encodings.best_match(["br", "gzip"]) == "gzip"
    assert request.if_none_match.contains("a") and "b" not in request.if_none_match
    assert request.if_none_match.contains_weak("b")
    assert request.if_modified_since == datetime(2001, 1, 1, tzinfo=timezone.utc)
    assert request.range is not None and (request.range.units, request.range.ranges) == ("bytes", [(0, 2)])
    assert request.cache_control.no_cache and request.cache_control.max_age == 0


def test_request_header_attributes_computed_once() -> None:
    request = make_request(HTTP_USER_AGENT="UA/1.0", HTTP_CACHE_CONTROL="no-store")
    assert request.user_agent is request.user_agent
    assert request.cache_control is request.cache_control
    assert request.if_none_match is request.if_none_match


def test_request_init_parses_no_header() -> None:
    request = make_request(HTTP_AUTHORIZATION="Basic YW5uOnB3", HTTP_RANGE="bytes=0-1")
    # Only what __init__ sets: every header attribute waits for its first read.
    assert set(vars(request)) == {
        "environ", "method", "path", "_path_error", "response_callbacks", "finished_callbacks", "_form_data"
    }


def test_request_access_route_forwarded_for() -> None:
    request = make_request(HTTP_X_FORWARDED_FOR=" 1.2.3.4, ,5.6.7.8 ,", REMOTE_ADDR="10.0.0.1")
    assert request.access_route == ["1.2.3.4", "5.6.7.8"]
    assert isinstance(request.access_route, ImmutableList)


def test_request_access_route_remote_addr() -> None:
    assert make_request(REMOTE_ADDR="10.0.0.1").access_route == ["10.0.0.1"]
    env = {"wsgi.input": io.BytesIO(), "REQUEST_METHOD": "GET"}
    assert Request(env).access_route == []


def test_request_host_url_and_root_path() -> None:
    request = make_request(HTTP_HOST="example.com:8080", SCRIPT_NAME="/app/", PATH_INFO="/x")
    assert request.host_url == "http://example.com:8080/"
    assert request.root_path == request.script_root == "/app"
    assert request.root_url == "http://example.com:8080/app/"


@pytest.mark.parametrize(
    ("blueprint", "expected"),
    [
        pytest.param(None, [], id="none"),
        pytest.param("a", ["a"], id="one"),
        pytest.param("a.b.c", ["a.b.c", "a.b", "a"], id="nested"),
    ],
)
def test_request_blueprints_innermost_first(blueprint: str | None, expected: list[str]) -> None:
    request = make_request()
    request.blueprint = blueprint
    assert request.blueprints == expected


def test_request_url_rule_outside_context_none() -> None:
    assert make_request().url_rule is None


def test_request_url_rule_of_matched_request() -> None:
    app = App(__name__)
    parent = Blueprint("parent", __name__)
    child = Blueprint("child", __name__)

    @child.route("/items/<int:n>")
    def item(n: int) -> dict[str, object]:
        rule = request.url_rule
        assert rule is not None
        return {"rule": rule.rule, "endpoint": rule.endpoint, "bps": request.blueprints}

    parent.register_blueprint(child)
    app.register_blueprint(parent)
    app.register_error_handler(404, lambda exc: ({"rule": request.url_rule}, 404))
    client = app.test_client()
    assert client.get("/items/3").json == {
        "rule": "/items/<int:n>",
        "endpoint": "parent.child.item",
        "bps": ["parent.child", "parent"],
    }
    assert client.get("/nowhere").json == {"rule": None}


def test_request_url_rule_of_another_request_none() -> None:
    app = App(__name__)
    other = make_request()

    @app.route("/")
    def index() -> str:
        return repr(other.url_rule)

    assert app.test_client().get("/").data == b"None"


@pytest.mark.parametrize(
    ("header", "value"),
    [
        pytest.param("Authorization", "Basic !!!", id="authorization"),
        pytest.param("Authorization", "Bearer a b", id="bearer"),
        pytest.param("Accept-Language", ";;q=x,,", id="accept-language"),
        pytest.param("If-None-Match", '"unterminated', id="if-none-match"),
        pytest.param("If-Modified-Since", "Mon, 32 Jan 2001 00:00:00 GMT", id="if-modified-since"),
        pytest.param("Range", "bytes=9-2", id="range"),
        pytest.param("Range", "bytes=0-" + "9" * 5000, id="range-huge"),
        pytest.param("Cache-Control", 'max-age="x, max-stale=-1', id="cache-control"),
        pytest.param("User-Agent", "\x7f\x00", id="user-agent"),
        pytest.param("X-Forwarded-For", ",,,", id="x-forwarded-for"),
    ],
)
def test_request_malformed_header_not_a_500(header: str, value: str) -> None:
    app = App(__name__)

    @app.route("/")
    def index() -> dict[str, object]:
        return {
            "authorization": request.authorization is None,
            "languages": list(request.accept_languages.values()),
            "etags": bool(request.if_none_match),
            "since": request.if_modified_since is None,
            "range": request.range is None,
            "max_age": request.cache_control.max_age,
            "max_stale": request.cache_control.max_stale,
            "agent": request.user_agent.string == value,
            "route": list(request.access_route),
        }

    response = app.test_client().get("/", headers={header: value})
    assert response.status_code == 200
    assert response.json is not None
    assert response.json["authorization"] and response.json["since"] and response.json["range"]
    assert response.json["max_age"] is None and response.json["max_stale"] is None
