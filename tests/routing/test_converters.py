"""Tests for sluice.routing.converters: built-ins, arguments, user converters."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from sluice.errors import BuildError
from sluice.errors import NotFound
from sluice.errors import RoutingError
from sluice.routing import BaseConverter
from sluice.routing import Map
from sluice.routing import Rule
from sluice.routing import ValidationError
from sluice.routing import parse_converter_args


def _map(rule: str) -> Map:
    return Map([Rule(rule, "view")])


def _match(rule: str, path: str) -> dict[str, Any]:
    return _map(rule).match(path, "GET")[1]


def _misses(rule: str, path: str) -> bool:
    try:
        _map(rule).match(path, "GET")
    except NotFound:
        return True
    return False


@pytest.mark.parametrize(
    ("rule", "path", "expected"),
    [
        pytest.param("/<name>", "/caf%C3%A9", "caf%C3%A9", id="default"),
        pytest.param("/<string:name>", "/ab c", "ab c", id="string"),
        pytest.param("/<string(length=2):lang>", "/en", "en", id="string-length"),
        pytest.param("/<string(minlength=3, maxlength=4):code>", "/abcd", "abcd", id="string-bounds"),
        pytest.param("/<int:n>", "/42", 42, id="int"),
        pytest.param("/<int(fixed_digits=4):year>", "/0042", 42, id="int-fixed-digits"),
        pytest.param("/<int(signed=True):n>", "/-7", -7, id="int-signed"),
        pytest.param("/<int(min=1, max=10):n>", "/10", 10, id="int-max-inclusive"),
        pytest.param("/<float:x>", "/1.5", 1.5, id="float"),
        pytest.param("/<float(signed=True):x>", "/-0.25", -0.25, id="float-signed"),
        pytest.param("/<path:p>", "/a/b/c.txt", "a/b/c.txt", id="path"),
        pytest.param(
            "/<uuid:u>",
            "/12345678-1234-5678-1234-567812345678",
            uuid.UUID("12345678-1234-5678-1234-567812345678"),
            id="uuid",
        ),
        pytest.param("/<any(about, help):page>", "/help", "help", id="any"),
        pytest.param('/<any("a.b", c):page>', "/a.b", "a.b", id="any-quoted-dot"),
    ],
)
def test_converter_to_python_valid_value_converted(rule: str, path: str, expected: object) -> None:
    assert list(_match(rule, path).values()) == [expected]


@pytest.mark.parametrize(
    ("rule", "path"),
    [
        pytest.param("/<name>", "/a/b", id="string-slash"),
        pytest.param("/<string(length=2):lang>", "/eng", id="string-too-long"),
        pytest.param("/<string(minlength=3):code>", "/ab", id="string-too-short"),
        pytest.param("/<string(maxlength=3):code>", "/abcd", id="string-over-max"),
        pytest.param("/<int:n>", "/-1", id="int-unsigned-negative"),
        pytest.param("/<int:n>", "/1.5", id="int-float"),
        pytest.param("/<int:n>", "/\u0661\u0662", id="int-non-ascii-digits"),
        pytest.param("/<int(fixed_digits=4):year>", "/42", id="int-fixed-digits-short"),
        pytest.param("/<int(min=1):n>", "/0", id="int-below-min"),
        pytest.param("/<int(max=10):n>", "/11", id="int-above-max"),
        pytest.param("/<int(signed=True, min=-5):n>", "/-6", id="int-signed-below-min"),
        pytest.param("/<float:x>", "/1", id="float-no-dot"),
        pytest.param("/<float:x>", "/-1.0", id="float-unsigned-negative"),
        pytest.param("/<float(max=1.0):x>", "/1.5", id="float-above-max"),
        pytest.param("/<float(min=1.0):x>", "/0.5", id="float-below-min"),
        pytest.param("/<uuid:u>", "/12345678-1234-5678-1234-56781234567", id="uuid-short"),
        pytest.param("/<any(about, help):page>", "/contact", id="any-other-word"),
        pytest.param("/<path:p>", "/", id="path-empty"),
    ],
)
def test_converter_regex_or_bounds_invalid_value_not_found(rule: str, path: str) -> None:
    assert _misses(rule, path)


@pytest.mark.parametrize(
    ("rule", "values", "expected"),
    [
        pytest.param("/<name>", {"name": "a b/c?d#e"}, "/a%20b%2Fc%3Fd%23e", id="string-encoded"),
        pytest.param("/<name>", {"name": "caf\u00e9"}, "/caf%C3%A9", id="string-utf8"),
        pytest.param("/<name>", {"name": "a:b@c!$&'()*+,;="}, "/a:b@c!$&'()*+,;=", id="string-sub-delims-kept"),
        pytest.param("/<path:p>", {"p": "a b/c"}, "/a%20b/c", id="path-keeps-slash"),
        pytest.param("/<int:n>", {"n": 7}, "/7", id="int"),
        pytest.param("/<int(fixed_digits=3):n>", {"n": 7}, "/007", id="int-zero-padded"),
        pytest.param("/<float:x>", {"x": 2}, "/2.0", id="float"),
        pytest.param(
            "/<uuid:u>",
            {"u": uuid.UUID("12345678-1234-5678-1234-567812345678")},
            "/12345678-1234-5678-1234-567812345678",
            id="uuid",
        ),
        pytest.param("/<any(about, help):page>", {"page": "about"}, "/about", id="any"),
    ],
)
def test_converter_to_url_value_written(rule: str, values: dict[str, Any], expected: str) -> None:
    assert _map(rule).build("view", values) == expected


def test_any_converter_to_url_unknown_word_build_error() -> None:
    with pytest.raises(BuildError, match="'contact' is not one of about, help"):
        _map("/<any(about, help):page>").build("view", {"page": "contact"})


def test_any_converter_no_words_rejected() -> None:
    with pytest.raises(RoutingError, match=r"any\(\) needs at least one word"):
        _map("/<any:page>")


class _HexConverter(BaseConverter):
    regex = "[0-9a-f]+"
    weight = 50

    def to_python(self, value: str) -> int:
        if len(value) > 4:
            raise ValidationError("too long")
        return int(value, 16)

    def to_url(self, value: Any) -> str:
        return format(value, "x")


def test_user_converter_registered_in_map_used() -> None:
    url_map = Map()
    url_map.converters["hex"] = _HexConverter
    url_map.add(Rule("/color/<hex:c>", "color"))
    assert url_map.match("/color/ff", "GET")[1] == {"c": 255}
    assert url_map.build("color", {"c": 4095}) == "/color/fff"


def test_user_converter_validation_error_next_rule_tried() -> None:
    url_map = Map()
    url_map.converters["hex"] = _HexConverter
    url_map.add(Rule("/n/<hex:c>", "hex"))
    url_map.add(Rule("/n/<word>", "word"))
    rule, values = url_map.match("/n/abcdef", "GET")
    assert (rule.endpoint, values) == ("word", {"word": "abcdef"})


class _GroupConverter(BaseConverter):
    regex = "(a|b)"


def test_user_converter_capturing_group_rejected() -> None:
    url_map = Map()
    url_map.converters["ab"] = _GroupConverter
    with pytest.raises(RoutingError, match=r"has capturing groups; use \(\?:\.\.\.\) instead"):
        url_map.add(Rule("/<ab:x>", "x"))


def test_converter_unknown_argument_rejected() -> None:
    with pytest.raises(RoutingError, match="converter 'int' rejects its arguments"):
        _map("/<int(lenght=2):n>")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("signed=True, min=0", ((), {"signed": True, "min": 0}), id="keywords"),
        pytest.param("about, help", (("about", "help"), {}), id="bare-words"),
        pytest.param("'a,b', 2.5, -1", (("a,b", 2.5, -1), {}), id="literals"),
        pytest.param("", ((), {}), id="empty"),
    ],
)
def test_parse_converter_args_literals_parsed(text: str, expected: tuple[tuple[Any, ...], dict[str, Any]]) -> None:
    assert parse_converter_args(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("__import__('os').system('true')", "is not a literal", id="call"),
        pytest.param("min=1 +", "are not valid", id="syntax"),
        pytest.param("*items", "are not valid", id="starred"),
        pytest.param("**opts", "cannot use \\*\\*", id="double-starred"),
    ],
)
def test_parse_converter_args_non_literal_rejected(text: str, message: str) -> None:
    with pytest.raises(RoutingError, match=message):
        parse_converter_args(text)


def test_subclass_overriding_to_python_is_used_for_stock_regexes() -> None:
    from sluice.routing.converters import IntegerConverter

    class Doubled(IntegerConverter):
        def to_python(self, value: str) -> int:
            return 2 * int(value)

    class Upper(BaseConverter):
        def to_python(self, value: str) -> str:
            return value.upper()

    m = Map()
    m.converters["doubled"] = Doubled
    m.converters["upper"] = Upper
    m.add(Rule("/d/<doubled:n>", "d"))
    m.add(Rule("/u/<upper:s>/<int:n>/<name>", "u"))
    assert m.match("/d/21", "GET")[1] == {"n": 42}
    values = m.match("/u/ab/7/x", "GET")[1]
    assert values == {"s": "AB", "n": 7, "name": "x"} and type(values["n"]) is int
