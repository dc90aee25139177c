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
    assert client.get_cookie("theme") == "dark"
    client.get("/clear")
    assert client.get("/show").text == "sid=abc"
    client.delete_cookie("sid")
    assert client.get("/show").text == ""


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
