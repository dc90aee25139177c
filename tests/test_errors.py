"""Tests of the HTTPError tree and abort()."""

from __future__ import annotations

import json

import pytest

from sluice.errors import HTTP_ERRORS
from sluice.errors import BuildError
from sluice.errors import HTTPError
from sluice.errors import MethodNotAllowed
from sluice.errors import NotFound
from sluice.errors import RoutingError
from sluice.errors import ServiceUnavailable
from sluice.errors import SluiceError
from sluice.errors import abort


def test_http_error_html_body_escapes_description() -> None:
    body, ctype = NotFound("No <script> here").get_body()
    assert ctype == "text/html; charset=utf-8"
    assert b"<title>404 Not Found</title>" in body
    assert b"No &lt;script&gt; here" in body


def test_http_error_json_body() -> None:
    body, ctype = NotFound().get_body(prefers_json=True)
    assert ctype == "application/json"
    assert json.loads(body) == {
        "code": 404,
        "error": "Not Found",
        "description": "The requested URL was not found on the server.",
    }


def test_method_not_allowed_sends_allow() -> None:
    error = MethodNotAllowed(["POST", "GET"])
    assert error.status == "405 Method Not Allowed"
    assert error.get_headers() == [("Allow", "GET, POST")]


def test_http_error_extra_headers_kept() -> None:
    error = ServiceUnavailable(headers=[("Retry-After", "30")])
    assert error.get_headers() == [("Retry-After", "30")]


@pytest.mark.parametrize("code", sorted(HTTP_ERRORS))
def test_abort_raises_class_for_code(code: int) -> None:
    with pytest.raises(HTTPError) as info:
        abort(code, "why")
    assert info.value.code == code
    assert info.value.description == "why"
    assert str(info.value) == f"{code} {info.value.name}: why"


def test_abort_unknown_code_says_what_to_do() -> None:
    with pytest.raises(LookupError, match="subclass HTTPError with code = 299"):
        abort(299)


def test_error_hierarchy() -> None:
    assert issubclass(BuildError, RoutingError) and issubclass(BuildError, LookupError)
    assert issubclass(HTTPError, SluiceError)
