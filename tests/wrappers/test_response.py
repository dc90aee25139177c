"""Tests of Response: body, status, headers, cookies and the WSGI call."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from datetime import timezone
from typing import Any
from wsgiref.util import setup_testing_defaults
from wsgiref.validate import validator

import pytest

from sluice.wrappers.response import ClosingIterator
from sluice.wrappers.response import Response


def _environ(method: str = "GET") -> dict[str, Any]:
    environ: dict[str, Any] = {"REQUEST_METHOD": method, "QUERY_STRING": ""}
    setup_testing_defaults(environ)
    return environ


def _serve(response: Response, method: str = "GET") -> tuple[str, list[tuple[str, str]], bytes]:
    seen: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        seen["status"], seen["headers"] = status, headers
        return lambda data: None

    app_iter = validator(response)(_environ(method), start_response)
    try:
        body = b"".join(app_iter)
    finally:
        app_iter.close()  # type: ignore[attr-defined]
    return seen["status"], seen["headers"], body


def test_response_str_body_utf8_content_length() -> None:
    response = Response("héllo")
    assert response.data == "héllo".encode()
    assert response.headers["Content-Length"] == "6"
    assert response.content_type == "text/html; charset=utf-8"
    assert response.mimetype == "text/html"


def test_response_generator_streams_without_content_length() -> None:
    chunks: list[bytes | str] = [b"a", "b"]
    response = Response(chunk for chunk in chunks)
    assert response.content_length is None
    assert response.is_streamed
    status, headers, body = _serve(response)
    assert body == b"ab"
    assert "Content-Length" not in dict(headers)


def test_response_status_int_and_str() -> None:
    response = Response(status=404)
    assert response.status == "404 NOT FOUND"
    response.status = "418 Short And Stout"
    assert response.status_code == 418 and response.status == "418 Short And Stout"
    response.status = "201"
    assert response.status == "201 CREATED"
    response.status_code = 599
    assert response.status == "599 UNKNOWN"  # as Werkzeug


@pytest.mark.parametrize("status", ["abc", "20 OK", "200 OK\r\nX: y"], ids=["letters", "two-digit", "crlf"])
def test_response_status_malformed_rejected(status: str) -> None:
    with pytest.raises(ValueError, match="status"):
        Response(status=status)


def test_response_mimetype_json_has_no_charset() -> None:
    assert Response("{}", mimetype="application/json").content_type == "application/json"
    assert Response("x", content_type="text/plain").content_type == "text/plain"


def test_response_set_data_updates_length_and_location() -> None:
    response = Response()
    assert response.content_length == 0
    response.data = b"abc"
    assert response.content_length == 3
    response.location = "/next"
    assert response.headers["Location"] == "/next"


def test_response_set_cookie_attributes() -> None:
    response = Response()
    response.set_cookie("sid", "abc", max_age=60, path="/", domain="example.com", secure=True,
                        httponly=True, samesite="lax", partitioned=True)
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("sid=abc; Domain=example.com; Expires=")
    assert cookie.endswith("; Max-Age=60; Secure; HttpOnly; Path=/; SameSite=Lax; Partitioned")


def test_response_set_cookie_quotes_special_values() -> None:
    response = Response()
    response.set_cookie("k", 'a b;"é')
    assert response.headers["Set-Cookie"] == 'k="a\\040b\\073\\"\\303\\251"; Path=/'


@pytest.mark.parametrize(
    ("expires", "text"),
    [
        pytest.param(datetime(2030, 1, 2, 3, 4, 5, tzinfo=timezone.utc), "Wed, 02 Jan 2030 03:04:05 GMT", id="datetime"),
        pytest.param(0, "Thu, 01 Jan 1970 00:00:00 GMT", id="timestamp"),
        pytest.param("Wed, 02 Jan 2030 03:04:05 GMT", "Wed, 02 Jan 2030 03:04:05 GMT", id="str"),
    ],
)
def test_response_set_cookie_expires_forms(expires: datetime | int | str, text: str) -> None:
    response = Response()
    response.set_cookie("k", "v", expires=expires)
    assert f"Expires={text}" in response.headers["Set-Cookie"]


def test_response_set_cookie_samesite_invalid_rejected() -> None:
    with pytest.raises(ValueError, match="samesite must be"):
        Response().set_cookie("k", "v", samesite="sometimes")


def test_response_set_cookie_samesite_none_requires_secure() -> None:
    with pytest.raises(ValueError, match="unless Secure"):
        Response().set_cookie("k", "v", samesite="None")


def test_response_delete_cookie_expires_in_past() -> None:
    response = Response()
    response.delete_cookie("sid")
    assert response.headers["Set-Cookie"] == "sid=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/"


def test_response_wsgi_call_validated() -> None:
    response = Response("ok", status=201, headers={"X-A": "1"})
    status, headers, body = _serve(response)
    assert status == "201 CREATED"
    assert ("X-A", "1") in headers and ("Content-Length", "2") in headers
    assert body == b"ok"


def test_response_head_sends_no_body_keeps_length() -> None:
    status, headers, body = _serve(Response("hello"), method="HEAD")
    assert body == b""
    assert ("Content-Length", "5") in headers


def test_response_204_drops_content_headers() -> None:
    status, headers, body = _serve(Response(status=204))
    assert status == "204 NO CONTENT" and body == b""
    assert not any(name.lower() in ("content-type", "content-length") for name, _ in headers)


def test_response_call_on_close_runs_once_after_body_closed() -> None:
    events: list[str] = []

    def body() -> Iterator[bytes]:
        try:
            yield b"x"
        finally:
            events.append("body closed")

    response = Response(body())
    response.call_on_close(lambda: events.append("callback"))
    app_iter = response(_environ(), lambda status, headers, exc_info=None: lambda data: None)
    assert isinstance(app_iter, ClosingIterator)
    assert list(app_iter) == [b"x"]
    app_iter.close()
    app_iter.close()
    assert events == ["body closed", "callback"]


def test_response_head_generator_closed_not_consumed() -> None:
    consumed: list[bool] = []

    def body() -> Iterator[bytes]:
        consumed.append(True)
        yield b"x"

    status, headers, data = _serve(Response(body()), method="HEAD")
    assert data == b"" and consumed == []


@pytest.mark.parametrize("text", ["", "héllo", "x" * 1000])
def test_from_text_same_as_constructor(text: str) -> None:
    class Plain(Response):
        default_mimetype = "text/plain"

    for cls in (Response, Plain):
        fast, slow = cls.from_text(text), cls(text)
        assert type(fast) is cls
        assert (fast.status, fast.status_code, list(fast.headers), fast.data) == (
            slow.status,
            slow.status_code,
            list(slow.headers),
            slow.data,
        )
    assert Plain.from_text("x").content_type == "text/plain; charset=utf-8"


def test_close_runs_every_step_and_raises_the_first_error() -> None:
    ran: list[str] = []

    class Body:
        def __iter__(self) -> Iterator[bytes]:
            yield b"x"

        def close(self) -> None:
            ran.append("body")
            raise ValueError("body close failed")

    response = Response(Body())

    @response.call_on_close
    def first() -> None:
        ran.append("first")
        raise KeyError("callback failed")

    response.call_on_close(lambda: ran.append("second"))
    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        return lambda data: None

    iterable = response(_environ(), start_response)
    assert isinstance(iterable, ClosingIterator)
    assert b"".join(iterable) == b"x"
    with pytest.raises(ValueError, match="body close failed"):
        iterable.close()
    assert ran == ["body", "first", "second"]
    iterable.close()  # a second close does nothing
    assert ran == ["body", "first", "second"]


def test_list_body_with_str_chunks_is_encoded() -> None:
    status, headers, body = _serve(Response(["é", b"!"]))
    assert body == "é!".encode() and "Content-Length" not in dict(headers)


@pytest.mark.parametrize(
    ("status", "error", "message"),
    [
        pytest.param(99, ValueError, "from 100 to 999", id="int-too-small"),
        pytest.param(True, ValueError, "from 100 to 999", id="bool"),
        pytest.param(2.0, TypeError, "int or a str, not float", id="float"),
        pytest.param("20 OK", ValueError, "three-digit code", id="two-digits"),
        pytest.param("200 O\nK", ValueError, "control character", id="newline-in-reason"),
    ],
)
def test_bad_status_refused(status: Any, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        Response("x", status=status)


def test_set_data_refuses_other_types_and_headers_can_be_replaced() -> None:
    response = Response("x")
    with pytest.raises(TypeError, match="must be str or bytes, not int"):
        response.set_data(1)  # type: ignore[arg-type]
    response.headers = {"X-Only": "1"}
    assert list(response.headers) == [("X-Only", "1")]
    with pytest.raises(ValueError, match="control character"):
        response.headers = [("X-Bad", "a\r\nb")]
