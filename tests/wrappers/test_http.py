"""Tests of the header value helpers: options, cookies and dates."""

from __future__ import annotations

from datetime import datetime
from datetime import timedelta
from datetime import timezone

import pytest

from sluice.wrappers.http import Accept
from sluice.wrappers.http import LanguageAccept
from sluice.wrappers.http import MIMEAccept
from sluice.wrappers.http import dump_cookie
from sluice.wrappers.http import http_date
from sluice.wrappers.http import parse_cookie
from sluice.wrappers.http import parse_date
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


def test_language_accept_order_best_and_values() -> None:
    accept = LanguageAccept("fr;q=0.8, en-US, de;q=x, *;q=0.1, it;q=2")
    assert list(accept) == [("en-US", 1.0), ("fr", 0.8), ("*", 0.1)]
    assert list(accept.values()) == ["en-US", "fr", "*"]
    assert accept.best == "en-US"
    assert repr(accept) == "<LanguageAccept [('en-US', 1.0), ('fr', 0.8), ('*', 0.1)]>"


def test_language_accept_basic_filtering() -> None:
    accept = LanguageAccept("en, fr-CA;q=0.5")
    assert accept.quality("en-GB") == 1.0
    assert accept.quality("EN_gb") == 1.0
    assert accept.quality("fr-CA") == 0.5
    assert accept.quality("fr") == 0
    assert "en-gb" in accept and "fr" not in accept and 3 not in accept


def test_language_accept_best_match_quality_then_offer_order() -> None:
    accept = LanguageAccept("fr, en;q=0.5")
    assert accept.best_match(["en", "fr"]) == "fr"
    assert accept.best_match(["en-GB", "de"]) == "en-GB"
    assert accept.best_match(["de"], default="de-x") == "de-x"


def test_language_accept_best_match_falls_back_to_primary_language() -> None:
    accept = LanguageAccept("en-US, de;q=0.5")
    assert accept.best_match(["de-AT", "en"]) == "en"
    assert accept.best_match(["en-GB"]) == "en-GB"
    assert accept.best_match(["fr"]) is None


def test_language_accept_refused_language_never_picked() -> None:
    accept = LanguageAccept("en-US, en;q=0")
    assert accept.best_match(["en-GB"]) is None
    assert "en" not in accept


def test_language_accept_absent_accepts_anything() -> None:
    accept = LanguageAccept(None)
    assert not accept.provided and len(accept) == 0 and accept.best is None
    assert accept.best_match(["de", "en"]) == "de"
    assert "xx" in accept


@pytest.mark.parametrize(
    "value",
    [pytest.param("", id="empty"), pytest.param(";;,,", id="separators"), pytest.param("en;q=2, de;q=-1", id="bad-q")],
)
def test_language_accept_malformed_empty(value: str) -> None:
    accept = LanguageAccept(value)
    assert list(accept) == [] and accept.best is None


def test_accept_generic_exact_case_insensitive() -> None:
    accept = Accept("gzip, br;q=0.5, identity;q=0")
    assert accept.best_match(["identity", "BR"]) == "BR"
    assert accept.quality("GZIP") == 1.0 and "identity" not in accept
    assert Accept("*").quality("deflate") == 1.0


def test_mime_accept_keeps_media_range_rules() -> None:
    accept = MIMEAccept("Text, *;q=0.1")
    assert list(accept.values()) == ["text/*", "*/*"]
    assert accept.quality("text/plain") == 1.0 and accept.quality("image/png") == 0.1


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("Mon, 01 Jan 2001 00:00:00 GMT", datetime(2001, 1, 1, tzinfo=timezone.utc), id="imf-fixdate"),
        pytest.param("Monday, 01-Jan-01 00:00:00 GMT", datetime(2001, 1, 1, tzinfo=timezone.utc), id="rfc850"),
        pytest.param("Mon Jan  1 00:00:00 2001", datetime(2001, 1, 1, tzinfo=timezone.utc), id="asctime"),
        pytest.param(
            " Mon, 01 Jan 2001 02:00:00 +0200 ",
            datetime(2001, 1, 1, 2, tzinfo=timezone(timedelta(hours=2))),
            id="offset",
        ),
    ],
)
def test_parse_date_forms(value: str, expected: datetime) -> None:
    parsed = parse_date(value)
    assert parsed == expected and parsed is not None and parsed.tzinfo is not None


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(None, id="absent"),
        pytest.param("", id="empty"),
        pytest.param("garbage", id="garbage"),
        pytest.param("1", id="number"),
        pytest.param("Mon, 32 Jan 2001 00:00:00 GMT", id="no-such-day"),
        pytest.param("Mon, 01 Jan 2001 25:00:00 GMT", id="no-such-hour"),
        pytest.param("Mon, 01 Jan 10000 00:00:00 GMT", id="year-out-of-range"),
        pytest.param("Mon, 01 Jan 99999999999999999999 00:00:00 GMT", id="year-overflow"),
        pytest.param("Mon, 01 Jan 2001 00:00:00 +9999", id="offset-out-of-range"),
    ],
)
def test_parse_date_malformed_none(value: str | None) -> None:
    assert parse_date(value) is None


def test_language_accept_best_match_fallback_beats_wildcard() -> None:
    accept = LanguageAccept("en-US, *;q=0.1")
    assert accept.best_match(["de", "en"]) == "en"
    assert accept.best_match(["de"]) == "de"
