"""Tests of the request header parsers: Authorization, User-Agent, ETags, Range, Cache-Control."""

from __future__ import annotations

import copy
import pickle

import pytest

from sluice.wrappers.request_headers import Authorization
from sluice.wrappers.request_headers import UserAgent
from sluice.wrappers.request_headers import parse_authorization
from sluice.wrappers.request_headers import parse_cache_control
from sluice.wrappers.request_headers import parse_etags
from sluice.wrappers.request_headers import parse_range

# -- Authorization ---------------------------------------------------------------


def test_parse_authorization_basic_decoded() -> None:
    auth = parse_authorization("Basic YW5uOnB3OnE=")  # ann:pw:q
    assert auth is not None
    assert (auth.type, auth.username, auth.password, auth.token) == ("basic", "ann", "pw:q", None)
    assert auth.get("username") == "ann" and auth["password"] == "pw:q" and "username" in auth
    assert auth.get("realm", "none") == "none"


def test_parse_authorization_basic_scheme_case_insensitive_utf8() -> None:
    auth = parse_authorization("bAsIc w6lsw6g6cMOp")  # élè:pé
    assert auth is not None
    assert (auth.type, auth.username, auth.password) == ("basic", "élè", "pé")


def test_parse_authorization_bearer_token() -> None:
    auth = parse_authorization("Bearer  abc.DEF-_~+/==")
    assert auth is not None
    assert (auth.type, auth.token, auth.username, auth.password) == ("bearer", "abc.DEF-_~+/==", None, None)
    assert auth.parameters == {}


def test_parse_authorization_digest_parameters_as_attributes() -> None:
    auth = parse_authorization('Digest username="a", realm="r, s", nonce=n1')
    assert auth is not None
    assert auth.type == "digest"
    assert auth.parameters == {"username": "a", "realm": "r, s", "nonce": "n1"}
    assert (auth.username, auth.realm, auth.nonce, auth.opaque) == ("a", "r, s", "n1", None)


def test_parse_authorization_scheme_alone() -> None:
    auth = parse_authorization("Negotiate")
    assert auth is not None
    assert (auth.type, auth.parameters, auth.token) == ("negotiate", {}, None)


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(None, id="absent"),
        pytest.param("", id="empty"),
        pytest.param("   ", id="blank"),
        pytest.param("Basic", id="basic-without-credentials"),
        pytest.param("Basic !!!", id="basic-not-base64"),
        pytest.param("Basic YW5uOnB3 extra", id="basic-two-words"),
        pytest.param("Basic YW5u", id="basic-without-colon"),
        pytest.param("Basic 6Dpx", id="basic-not-utf8"),
        pytest.param("Bearer", id="bearer-without-token"),
        pytest.param("Bearer a b", id="bearer-two-words"),
        pytest.param('Bearer "quoted"', id="bearer-quoted"),
        pytest.param('Digest realm="unterminated', id="params-unterminated-quote"),
        pytest.param("Digest a=1, realm", id="params-name-without-value"),
        pytest.param("B@sic abc", id="scheme-not-a-token"),
        pytest.param("\x00\x01", id="control-characters"),
    ],
)
def test_parse_authorization_malformed_none(value: str | None) -> None:
    assert parse_authorization(value) is None


def test_authorization_repr_hides_credentials() -> None:
    auth = parse_authorization("Basic YW5uOnB3")
    assert repr(auth) == "<Authorization basic ['password', 'username']>"
    assert "pw" not in repr(auth) and "YW5u" not in repr(auth)
    assert repr(Authorization("bearer", token="secret")) == "<Authorization bearer [] token>"


def test_authorization_copies_and_pickles() -> None:
    auth = Authorization("digest", {"realm": "r"})
    assert copy.copy(auth).realm == "r"
    assert pickle.loads(pickle.dumps(auth)).realm == "r"


# -- User-Agent ------------------------------------------------------------------


def test_user_agent_string_str_and_bool() -> None:
    agent = UserAgent("Mozilla/5.0 (X11)")
    assert agent.string == str(agent) == "Mozilla/5.0 (X11)"
    assert agent
    assert repr(agent) == "<UserAgent 'Mozilla/5.0 (X11)'>"
    assert (agent.browser, agent.platform, agent.version, agent.language) == (None, None, None, None)


def test_user_agent_empty_false() -> None:
    assert not UserAgent("")
    assert str(UserAgent("")) == ""


# -- ETags -----------------------------------------------------------------------


def test_parse_etags_strong_and_weak() -> None:
    etags = parse_etags('"a", W/"b", "c,d"')
    assert etags.contains("a") and "a" in etags and "c,d" in etags
    assert not etags.contains("b") and "b" not in etags
    assert etags.contains_weak("b") and etags.contains_weak("a")
    assert etags.is_weak("b") and etags.is_strong("a") and not etags.is_strong("b")
    assert etags.contains_raw('W/"b"') and etags.contains_raw('"a"') and not etags.contains_raw('"b"')
    assert list(etags) == ["a", "c,d"] and len(etags) == 2
    assert etags.as_set() == {"a", "c,d"} and etags.as_set(include_weak=True) == {"a", "b", "c,d"}
    assert not etags.star_tag and etags
    assert repr(etags) == '<ETags "a", "c,d", W/"b">'


def test_parse_etags_star_matches_everything() -> None:
    etags = parse_etags(" * ")
    assert etags.star_tag and etags
    assert "anything" in etags and etags.contains_weak("x") and etags.contains_raw('W/"x"')
    assert len(etags) == 0 and repr(etags) == "<ETags *>"


def test_parse_etags_lowercase_weak_prefix_and_bare_tag() -> None:
    etags = parse_etags('w/"b", bare')
    assert etags.is_weak("b") and etags.contains("bare")


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(None, id="absent"),
        pytest.param("", id="empty"),
        pytest.param(" , ,", id="only-commas"),
        pytest.param('"unterminated', id="unterminated"),
        pytest.param('"a" "b"', id="no-comma"),
        pytest.param('W/unquoted', id="weak-unquoted"),
        pytest.param('"a\\"b"', id="backslash-quote"),
    ],
)
def test_parse_etags_malformed_empty(value: str | None) -> None:
    etags = parse_etags(value)
    assert not etags
    assert "a" not in etags and not etags.contains_weak("a")


def test_parse_etags_bad_element_skipped_good_kept() -> None:
    etags = parse_etags('"a" "b", "c"')
    assert list(etags) == ["c"]


# -- Range -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "units", "ranges"),
    [
        pytest.param("bytes=0-1", "bytes", [(0, 2)], id="closed"),
        pytest.param("bytes=0-1,5-", "bytes", [(0, 2), (5, None)], id="open-end"),
        pytest.param("bytes=-500", "bytes", [(-500, None)], id="suffix"),
        pytest.param("BYTES = 1-1", "bytes", [(1, 2)], id="unit-case-and-space"),
        pytest.param("bytes=4-5, ,0-1", "bytes", [(4, 6), (0, 2)], id="empty-element-client-order"),
        pytest.param("lines=1-2", "lines", [(1, 3)], id="other-unit"),
    ],
)
def test_parse_range_valid(value: str, units: str, ranges: list[tuple[int, int | None]]) -> None:
    parsed = parse_range(value)
    assert parsed is not None
    assert (parsed.units, parsed.ranges) == (units, ranges)


def test_range_to_header_and_repr() -> None:
    parsed = parse_range("bytes=0-1,5-,-3")
    assert parsed is not None
    assert parsed.to_header() == "bytes=0-1,5-,-3"
    assert repr(parsed) == "<Range 'bytes=0-1,5-,-3'>"


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(None, id="absent"),
        pytest.param("", id="empty"),
        pytest.param("0-1", id="no-unit"),
        pytest.param("bytes=", id="no-range"),
        pytest.param("bytes=,", id="only-comma"),
        pytest.param("bytes=a-b", id="letters"),
        pytest.param("bytes=2-1", id="last-before-first"),
        pytest.param("bytes=-0", id="zero-suffix"),
        pytest.param("bytes=--1", id="double-dash"),
        pytest.param("bytes=1", id="no-dash"),
        pytest.param("bytes=-", id="dash-alone"),
        pytest.param("bytes=\uff15-6", id="fullwidth-digit"),
        pytest.param("by tes=0-1", id="unit-not-token"),
        pytest.param("bytes=0-" + "9" * 5000, id="too-many-digits"),
    ],
)
def test_parse_range_malformed_none(value: str | None) -> None:
    assert parse_range(value) is None


# -- Cache-Control ---------------------------------------------------------------


def test_parse_cache_control_all_request_directives() -> None:
    control = parse_cache_control("no-cache, no-store, max-age=5, max-stale, min-fresh=3, no-transform, only-if-cached")
    assert control.no_cache and control.no_store and control.no_transform and control.only_if_cached
    assert (control.max_age, control.max_stale, control.min_fresh) == (5, True, 3)
    assert control and "max-age" in control and control.get("max-age") == "5"


def test_parse_cache_control_names_case_insensitive_quoted_argument() -> None:
    control = parse_cache_control('MAX-AGE="7", No-Cache, max-stale=10, x-ext="a, b"')
    assert (control.max_age, control.no_cache, control.max_stale) == (7, True, 10)
    assert control.get("X-Ext") == "a, b" and "NO-CACHE" in control


def test_parse_cache_control_repeated_directive_last_wins() -> None:
    assert parse_cache_control("max-age=5, max-age=6").max_age == 6


def test_parse_cache_control_absent_empty() -> None:
    control = parse_cache_control(None)
    assert not control
    assert not control.no_cache and not control.no_store
    assert (control.max_age, control.max_stale, control.min_fresh) == (None, None, None)
    assert repr(control) == "<RequestCacheControl >"


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("max-age=abc", id="letters"),
        pytest.param("max-age=-1", id="negative"),
        pytest.param("max-age", id="no-argument"),
        pytest.param("max-age=1.5", id="fraction"),
        pytest.param("max-age=" + "9" * 5000, id="too-many-digits"),
        pytest.param('max-age="5', id="unterminated-quote"),
    ],
)
def test_parse_cache_control_bad_number_none(value: str) -> None:
    assert parse_cache_control(value).max_age is None


def test_parse_cache_control_bad_max_stale_none() -> None:
    assert parse_cache_control("max-stale=soon").max_stale is None


def test_parse_cache_control_garbage_elements_skipped() -> None:
    control = parse_cache_control(',,;;==, "x", no-store, =5')
    assert control.no_store
    assert repr(control) == "<RequestCacheControl no-store>"
