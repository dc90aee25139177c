"""Tests of the test client's cookie jar: Set-Cookie parsing (RFC 6265 §5.2-5.3), matching and the Cookie header."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from datetime import timedelta
from datetime import timezone

import pytest

from sluice.cookiejar import Cookie
from sluice.cookiejar import CookieJar
from sluice.cookiejar import host_name
from sluice.cookiejar import parse_set_cookie

NOW = datetime(2030, 1, 1, tzinfo=timezone.utc)


def parse(header: str, host: str = "localhost", path: str = "/") -> Cookie | None:
    return parse_set_cookie(header, host, path, NOW)


def test_parse_set_cookie_all_attributes() -> None:
    cookie = parse('sid="a b"; Max-Age=60; Domain=.Example.COM; Path=/app; Secure; HttpOnly; SameSite=Lax', "www.example.com")
    assert cookie == Cookie(
        key="sid",
        value='"a b"',
        decoded_key="sid",
        decoded_value="a b",
        expires=NOW + timedelta(seconds=60),
        max_age=60,
        domain="example.com",
        origin_only=False,
        path="/app",
        secure=True,
        http_only=True,
        same_site="Lax",
    )


def test_parse_set_cookie_plain_is_session_cookie_of_the_host() -> None:
    cookie = parse("k=v", "www.example.com", "/a/b")
    assert cookie is not None
    assert (cookie.value, cookie.expires, cookie.max_age, cookie.secure, cookie.http_only, cookie.same_site) == (
        "v",
        None,
        None,
        False,
        False,
        None,
    )
    assert (cookie.domain, cookie.origin_only, cookie.path) == ("www.example.com", True, "/a")


@pytest.mark.parametrize(
    ("request_path", "attribute", "path"),
    [
        pytest.param("/a/b", "", "/a", id="directory-of-request"),
        pytest.param("/a", "", "/", id="top-level-request"),
        pytest.param("", "", "/", id="empty-request-path"),
        pytest.param("/a/b", "; Path=relative", "/a", id="relative-path-ignored"),
        pytest.param("/a/b", "; Path=", "/a", id="empty-path-ignored"),
        pytest.param("/a/b", "; Path=/x; Path=/y", "/y", id="last-path-wins"),
    ],
)
def test_parse_set_cookie_default_path(request_path: str, attribute: str, path: str) -> None:
    cookie = parse("k=v" + attribute, path=request_path)
    assert cookie is not None and cookie.path == path


def test_parse_set_cookie_quoted_value_decoded_as_the_app_reads_it() -> None:
    cookie = parse('q="a\\"b\\054c"')
    assert cookie is not None
    assert (cookie.value, cookie.decoded_value) == ('"a\\"b\\054c"', 'a"b,c')


def test_parse_set_cookie_expires_and_max_age_wins() -> None:
    cookie = parse("k=v; Expires=Mon, 01 Jan 2035 00:00:00 GMT")
    assert cookie is not None and cookie.expires == datetime(2035, 1, 1, tzinfo=timezone.utc)
    cookie = parse("k=v; Max-Age=10; Expires=Mon, 01 Jan 2035 00:00:00 GMT")
    assert cookie is not None and cookie.expires == NOW + timedelta(seconds=10)


@pytest.mark.parametrize("max_age", ["0", "-1", "-99999999999999999999"])
def test_parse_set_cookie_max_age_not_positive_is_expired(max_age: str) -> None:
    cookie = parse(f"k=v; Max-Age={max_age}")
    assert cookie is not None and cookie.is_expired(NOW)


def test_parse_set_cookie_huge_max_age_never_expires() -> None:
    cookie = parse("k=v; Max-Age=99999999999999999999")
    assert cookie is not None and cookie.expires is None and cookie.max_age == 99999999999999999999


@pytest.mark.parametrize(
    "attributes",
    [
        pytest.param("; Max-Age=soon", id="max-age-letters"),
        pytest.param("; Max-Age=--1", id="max-age-double-minus"),
        pytest.param("; Max-Age=1" + "0" * 5000, id="max-age-too-many-digits"),
        pytest.param("; Max-Age=\uff15", id="max-age-fullwidth"),
        pytest.param("; Expires=yesterday", id="expires-garbage"),
        pytest.param("; Domain=", id="domain-empty"),
        pytest.param("; Domain=.", id="domain-dot"),
        pytest.param("; ; =; Bogus=1; Secure=no", id="junk"),
    ],
)
def test_parse_set_cookie_malformed_attribute_ignored(attributes: str) -> None:
    cookie = parse("k=v" + attributes)
    assert cookie is not None
    assert (cookie.expires, cookie.domain, cookie.origin_only) == (None, "localhost", True)


@pytest.mark.parametrize(
    ("header", "host"),
    [
        pytest.param("novalue", "localhost", id="no-equals"),
        pytest.param("=v", "localhost", id="empty-name"),
        pytest.param(" ; Path=/", "localhost", id="blank"),
        pytest.param("k=v; Domain=other.org", "example.com", id="foreign-domain"),
        pytest.param("k=v; Domain=www.example.com", "example.com", id="subdomain-of-host"),
        pytest.param("k=v; Domain=ample.com", "example.com", id="suffix-not-at-dot"),
    ],
)
def test_parse_set_cookie_rejected_none(header: str, host: str) -> None:
    assert parse(header, host) is None


@pytest.mark.parametrize(
    ("origin_only", "host", "path", "expected"),
    [
        pytest.param(True, "example.com", "/app", True, id="same-host-same-path"),
        pytest.param(True, "www.example.com", "/app", False, id="origin-only-not-subdomain"),
        pytest.param(False, "www.example.com", "/app", True, id="domain-cookie-subdomain"),
        pytest.param(False, "wwwexample.com", "/app", False, id="not-at-a-dot"),
        pytest.param(True, "example.com", "/app/x", True, id="below-path"),
        pytest.param(True, "example.com", "/application", False, id="path-prefix-not-segment"),
        pytest.param(True, "example.com", "/", False, id="above-path"),
    ],
)
def test_cookie_matches_domain_and_path(origin_only: bool, host: str, path: str, expected: bool) -> None:
    cookie = parse("k=v; Path=/app", "example.com")
    assert cookie is not None
    assert replace(cookie, origin_only=origin_only).matches(host, path) is expected


def test_cookie_matches_path_with_trailing_slash() -> None:
    cookie = parse("k=v; Path=/app/")
    assert cookie is not None
    assert cookie.matches("localhost", "/app/x") and not cookie.matches("localhost", "/app")


@pytest.mark.parametrize(
    ("host", "name"),
    [("Example.COM:8080", "example.com"), ("[::1]:80", "::1"), ("localhost", "localhost")],
)
def test_host_name_without_port(host: str, name: str) -> None:
    assert host_name(host) == name


def test_cookie_jar_header_longest_path_first_and_host_only() -> None:
    jar = CookieJar()
    jar.receive([("Set-Cookie", "a=1; Path=/"), ("Set-Cookie", "b=2; Path=/x/y"), ("X-Other", "c=3")], "localhost", "/")
    jar.receive([("set-cookie", "c=3; Path=/x")], "localhost:5000", "/")
    jar.receive([("Set-Cookie", "d=4; Path=/")], "other.test", "/")
    assert jar.header("localhost", "/x/y/z") == "b=2; c=3; a=1"
    assert jar.header("localhost:80", "/") == "a=1"
    assert jar.header("other.test", "/x") == "d=4"
    assert jar.header("nowhere.test", "/") is None


def test_cookie_jar_max_age_zero_deletes() -> None:
    jar = CookieJar()
    jar.receive([("Set-Cookie", "a=1; Path=/"), ("Set-Cookie", "b=2; Path=/")], "localhost", "/")
    jar.receive([("Set-Cookie", "a=; Max-Age=0; Path=/")], "localhost", "/")
    assert jar.header("localhost", "/") == "b=2"
    assert jar.get("a", "localhost", "/") is None


def test_cookie_jar_expired_cookie_dropped_when_read() -> None:
    moments = [NOW]
    jar = CookieJar(clock=lambda: moments[0])
    jar.receive([("Set-Cookie", "a=1; Max-Age=10; Path=/"), ("Set-Cookie", "b=2; Path=/")], "localhost", "/")
    assert jar.header("localhost", "/") == "a=1; b=2"
    moments[0] = NOW + timedelta(seconds=10)
    assert jar.get("a", "localhost", "/") is None
    assert jar.header("localhost", "/") == "b=2"


def test_cookie_jar_expired_cookie_dropped_from_header() -> None:
    moments = [NOW]
    jar = CookieJar(clock=lambda: moments[0])
    jar.receive([("Set-Cookie", "a=1; Expires=Tue, 01 Jan 2030 00:00:05 GMT")], "localhost", "/")
    moments[0] = NOW + timedelta(seconds=5)
    assert jar.header("localhost", "/") is None
    assert jar.get("a", "localhost", "/") is None


def test_cookie_jar_get_and_delete_any_case_domain() -> None:
    jar = CookieJar()
    jar.receive([("Set-Cookie", "a=1; Domain=Example.com; Path=/")], "example.com", "/")
    cookie = jar.get("a", ".EXAMPLE.com", "/")
    assert cookie is not None and cookie.value == "1"
    jar.delete("a", "Example.Com", "/")
    assert jar.get("a", "example.com", "/") is None
