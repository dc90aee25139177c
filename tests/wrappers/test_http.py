"""Tests of the header value helpers: options, cookies and dates."""

from __future__ import annotations

import pytest

from sluice.wrappers.http import dump_cookie
from sluice.wrappers.http import http_date
from sluice.wrappers.http import parse_cookie
from sluice.wrappers.http import parse_options_header
from sluice.wrappers.http import quote_cookie_value


def test_parse_options_header_quoted_and_extended() -> None:
    value = 'form-data; name="a\\"b"; filename=plain.txt; filename*=UTF-8\'\'%E2%82%AC.txt'
    assert parse_options_header(value) == ("form-data", {"name": 'a"b', "filename": "€.txt"})


def test_parse_options_header_empty() -> None:
    assert parse_options_header(None) == ("", {})


@pytest.mark.parametrize("value", ["plain", "a b", 'q"uote', "semi;colon", "ünï", "back\\slash", ""])
def test_quote_cookie_value_round_trips_through_parse_cookie(value: str) -> None:
    header = "k=" + quote_cookie_value(value)
    assert parse_cookie(header.encode("utf-8").decode("latin-1")) == [("k", value)]


def test_dump_cookie_bad_name_rejected() -> None:
    with pytest.raises(ValueError, match="not an RFC 9110 token"):
        dump_cookie("bad name", "v")


def test_dump_cookie_attribute_with_semicolon_rejected() -> None:
    with pytest.raises(ValueError, match="cookie path"):
        dump_cookie("k", "v", path="/a;b")


def test_dump_cookie_partitioned_requires_secure() -> None:
    with pytest.raises(ValueError, match="partitioned cookies must be Secure"):
        dump_cookie("k", "v", partitioned=True)


def test_http_date_timestamp() -> None:
    assert http_date(784111777) == "Sun, 06 Nov 1994 08:49:37 GMT"
