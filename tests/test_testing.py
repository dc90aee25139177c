"""Tests of the TestClient against plain WSGI apps wrapped in wsgiref.validate."""

from __future__ import annotations

import json
from collections.abc import Callable
from collections.abc import Iterable
from typing import Any
from wsgiref.validate import validator

import pytest

from sluice.testing import TestClient

Environ = dict[str, Any]


def _echo(environ: Environ, start_response: Callable[..., Any]) -> Iterable[bytes]:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    info = {
        "method": environ["REQUEST_METHOD"],
        "path": environ["PATH_INFO"],
        "query": environ["QUERY_STRING"],
        "content_type": environ.get("CONTENT_TYPE"),
        "cookie": environ.get("HTTP_COOKIE"),
        "x": environ.get("HTTP_X_TEST"),
        "body": body.decode("latin-1"),
    }
    data = json.dumps(info).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]


class _Closing:
    def __init__(self, log: list[str]) -> None:
        self.log = log

    def __iter__(self) -> Any:
        yield b"streamed"

    def close(self) -> None:
        self.log.append("closed")


def test_client_get_builds_valid_environ() -> None:
    client = TestClient(validator(_echo))
    r = client.get("/a%20b?x=1", headers={"X-Test": "yes"})
    assert r.status_code == 200 and r.status == "200 OK"
    assert r.get_json() == {
        "method": "GET", "path": "/a b", "query": "x=1", "content_type": None,
        "cookie": None, "x": "yes", "body": "",
    }


def test_client_query_string_mapping_repeats_lists() -> None:
    r = TestClient(_echo).get("/", query_string={"a": [1, 2], "b": "x y"})
    assert r.get_json()["query"] == "a=1&a=2&b=x+y"


def test_client_post_form_json_and_bytes() -> None:
    client = TestClient(validator(_echo))
    form = client.post("/f", data={"name": "Ada", "tags": ["a", "b"]}).get_json()
    assert form["content_type"] == "application/x-www-form-urlencoded"
    assert form["body"] == "name=Ada&tags=a&tags=b"
    body = client.put("/j", json={"k": [1]}).get_json()
    assert body["content_type"] == "application/json" and json.loads(body["body"]) == {"k": [1]}
    raw = client.patch("/b", data=b"\x00\x01", content_type="application/octet-stream").get_json()
    assert raw["body"] == "\x00\x01"


def test_client_data_and_json_together_rejected() -> None:
    with pytest.raises(ValueError, match="either data= or json="):
        TestClient(_echo).post("/", data=b"x", json={})


def test_client_calls_close_before_returning() -> None:
    log: list[str] = []

    def app(environ: Environ, start_response: Callable[..., Any]) -> Iterable[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return _Closing(log)

    r = TestClient(validator(app)).get("/")
    assert r.data == b"streamed" and r.text == "streamed"
    assert log == ["closed"]


def test_client_cookie_jar_round_trip_and_expiry() -> None:
    def app(environ: Environ, start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ["PATH_INFO"]
        headers = [("Content-Type", "text/plain")]
        if path == "/set":
            headers.append(("Set-Cookie", "sid=abc; Path=/; HttpOnly"))
            headers.append(("Set-Cookie", "theme=dark; Max-Age=3600; Path=/"))
        elif path == "/clear":
            headers.append(("Set-Cookie", "theme=; Max-Age=0; Path=/"))
        start_response("200 OK", headers)
        return [(environ.get("HTTP_COOKIE") or "").encode()]

    client = TestClient(validator(app))
    client.get("/set")
    assert client.get("/show").text == "sid=abc; theme=dark"
    cookie = client.get_cookie("theme")
    assert cookie is not None and cookie.value == "dark"
    client.get("/clear")
    assert client.get("/show").text == "sid=abc"
    client.delete_cookie("sid")
    assert client.get("/show").text == ""


def _set_cookies(environ: Environ, start_response: Callable[..., Any]) -> Iterable[bytes]:
    headers = [("Content-Type", "text/plain")]
    if environ["PATH_INFO"] == "/set":
        headers.append(("Set-Cookie", 'full="a b"; Max-Age=60; Path=/; Secure; HttpOnly; SameSite=Strict'))
        headers.append(("Set-Cookie", "dir=1"))
    start_response("200 OK", headers)
    return [(environ.get("HTTP_COOKIE") or "").encode()]


def test_client_get_cookie_werkzeug_fields() -> None:
    client = TestClient(validator(_set_cookies))
    client.get("/set")
    full = client.get_cookie("full")
    assert full is not None
    assert (full.key, full.value, full.decoded_key, full.decoded_value) == ("full", '"a b"', "full", "a b")
    assert (full.domain, full.origin_only, full.path, full.max_age) == ("localhost", True, "/", 60)
    assert (full.secure, full.http_only, full.same_site) == (True, True, "Strict")
    assert full.expires is not None and full.expires.tzinfo is not None
    assert client.get_cookie("missing") is None


def test_client_get_cookie_by_domain_and_path() -> None:
    client = TestClient(validator(_set_cookies), base_url="http://Example.com:8080")
    client.get("/set")
    assert client.get_cookie("full") is None  # stored for example.com, not localhost
    assert client.get_cookie("full", domain="example.com") is not None
    assert client.get_cookie("dir", domain="example.com") is not None  # a request to "/set" defaults to Path=/


def test_client_cookies_belong_to_the_request_host() -> None:
    client = TestClient(validator(_set_cookies))
    client.get("/set", base_url="http://other.test")
    assert client.get("/").text == ""
    assert client.get("/", base_url="http://other.test").text == 'full="a b"; dir=1'


def test_client_set_cookie_value_round_trips_to_the_app() -> None:
    client = TestClient(validator(_set_cookies))
    client.set_cookie("note", 'a b; "c"')
    cookie = client.get_cookie("note")
    assert cookie is not None and cookie.decoded_value == 'a b; "c"'
    sent = client.get("/").request
    assert sent is not None and sent.cookies["note"] == 'a b; "c"'


def test_client_set_cookie_attributes_and_path() -> None:
    client = TestClient(validator(_set_cookies))
    client.set_cookie("k", "v", path="/p", max_age=30, secure=True, httponly=True, samesite="Lax")
    cookie = client.get_cookie("k", path="/p")
    assert cookie is not None
    assert (cookie.max_age, cookie.secure, cookie.http_only, cookie.same_site) == (30, True, True, "Lax")
    assert client.get("/").text == "" and client.get("/p/x").text == "k=v"


def test_client_set_cookie_origin_only_false_reaches_subdomains() -> None:
    client = TestClient(validator(_set_cookies))
    client.set_cookie("host", "1", domain="example.com")
    client.set_cookie("wide", "2", domain="example.com", origin_only=False)
    assert client.get("/", base_url="http://example.com").text == "host=1; wide=2"
    assert client.get("/", base_url="http://api.example.com").text == "wide=2"


def test_client_set_cookie_max_age_zero_deletes() -> None:
    client = TestClient(validator(_set_cookies))
    client.set_cookie("k", "v")
    client.set_cookie("k", max_age=0)
    assert client.get_cookie("k") is None and client.get("/").text == ""


def test_client_set_cookie_bad_name_valueerror() -> None:
    with pytest.raises(ValueError, match="is not an RFC 9110 token"):
        TestClient(validator(_set_cookies)).set_cookie("bad name", "v")


def test_client_delete_cookie_keyword_domain_and_path() -> None:
    client = TestClient(validator(_set_cookies))
    client.set_cookie("k", "v", domain="example.com", path="/p")
    client.delete_cookie("k", path="/p")  # localhost: not that cookie
    assert client.get_cookie("k", domain="example.com", path="/p") is not None
    client.delete_cookie("k", domain="example.com", path="/p")
    assert client.get_cookie("k", domain="example.com", path="/p") is None


def test_client_follow_redirects_records_history() -> None:
    def app(environ: Environ, start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ["PATH_INFO"]
        if path == "/old":
            start_response("302 Found", [("Location", "/new?from=old"), ("Content-Type", "text/plain")])
            return [b""]
        if path == "/keep":
            start_response("308 Permanent Redirect", [("Location", "/new"), ("Content-Type", "text/plain")])
            return [b""]
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [f"{environ['REQUEST_METHOD']} {path}?{environ['QUERY_STRING']}".encode()]

    client = TestClient(validator(app))
    r = client.post("/old", data=b"x", follow_redirects=True)
    assert r.text == "GET /new?from=old"
    assert [h.status_code for h in r.history] == [302]
    assert client.post("/keep", data=b"x", follow_redirects=True).text == "POST /new?"
    assert client.get("/old").status_code == 302


def test_client_redirect_loop_stops() -> None:
    def app(environ: Environ, start_response: Callable[..., Any]) -> Iterable[bytes]:
        start_response("302 Found", [("Location", "/loop")])
        return [b""]

    with pytest.raises(ValueError, match="more than 20 redirects"):
        TestClient(app).get("/loop", follow_redirects=True)


def test_client_head_and_options_methods() -> None:
    client = TestClient(_echo)
    assert client.head("/").status_code == 200
    assert client.options("/").get_json()["method"] == "OPTIONS"
    assert client.delete("/").get_json()["method"] == "DELETE"
