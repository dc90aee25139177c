"""Tests for sluice.routing.rules: parsing, validation, methods, ordering."""

from __future__ import annotations

import pytest

from sluice.errors import RoutingError
from sluice.routing import Map
from sluice.routing import Rule
from sluice.routing import Variable


def test_rule_parse_static_and_variables_split() -> None:
    rule = Rule("/users/<int(min=1):id>/posts/<slug>", "post")
    assert rule.parts == [
        "/users/",
        Variable("id", "int", (), {"min": 1}),
        "/posts/",
        Variable("slug", "default", (), {}),
    ]
    assert rule.arguments == {"id", "slug"}
    assert not rule.is_static


def test_rule_parse_static_rule_is_static() -> None:
    rule = Rule("/about", "about")
    assert rule.parts == ["/about"]
    assert rule.is_static


def test_rule_parse_any_words_become_args() -> None:
    assert Rule("/<any(about, help):page>", "page").parts[1] == Variable("page", "any", ("about", "help"), {})


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        pytest.param("users", r"must start with '/'; write '/users'", id="no-leading-slash"),
        pytest.param("", r"must start with '/'", id="empty"),
        pytest.param("/<int:id", r"malformed variable at column 1", id="unclosed"),
        pytest.param("/<>", r"malformed variable at column 1", id="empty-variable"),
        pytest.param("/<1abc>", r"malformed variable", id="bad-name"),
        pytest.param("/<int:>", r"malformed variable", id="no-name"),
        pytest.param("/a>b", r"unexpected '>' at column 2", id="stray-close"),
        pytest.param("/<a>/<int:a>", r"variable 'a' appears twice", id="duplicate"),
        pytest.param("/<int(min=):a>", r"are not valid", id="bad-args"),
    ],
)
def test_rule_parse_bad_syntax_rejected(rule: str, message: str) -> None:
    with pytest.raises(RoutingError, match=message):
        Rule(rule, "view")


def test_rule_bind_unknown_converter_lists_known() -> None:
    with pytest.raises(RoutingError, match=r"unknown converter 'integer'; use one of any, default, float, int, path"):
        Map([Rule("/<integer:id>", "view")])


def test_rule_bind_twice_rejected() -> None:
    rule = Rule("/a", "a")
    Map([rule])
    with pytest.raises(RoutingError, match="already belongs to a map; create a new Rule"):
        Map([rule])


def test_rule_match_unbound_rejected() -> None:
    with pytest.raises(RoutingError, match=r"not in a map; add it with Map.add\(\) first"):
        Rule("/<a>", "a").match("/x")


@pytest.mark.parametrize(
    ("methods", "expected"),
    [
        pytest.param(None, {"GET", "HEAD", "OPTIONS"}, id="default-get"),
        pytest.param(["get", "post"], {"GET", "HEAD", "OPTIONS", "POST"}, id="upper-cased-head-added"),
        pytest.param(["POST"], {"POST", "OPTIONS"}, id="no-head-without-get"),
        pytest.param(("PUT", "OPTIONS"), {"PUT", "OPTIONS"}, id="explicit-options"),
    ],
)
def test_rule_methods_normalised(methods: list[str] | None, expected: set[str]) -> None:
    assert Rule("/", "index", methods).methods == expected


def test_rule_methods_explicit_options_not_automatic() -> None:
    assert Rule("/", "index").provide_automatic_options
    assert not Rule("/", "index", ["GET", "OPTIONS"]).provide_automatic_options


@pytest.mark.parametrize(
    "methods",
    [pytest.param("GET", id="string"), pytest.param([], id="empty")],
)
def test_rule_methods_not_a_list_rejected(methods: list[str]) -> None:
    with pytest.raises(RoutingError, match=r"methods must be a non-empty list"):
        Rule("/", "index", methods)


def test_rule_match_key_orders_like_werkzeug() -> None:
    rules = [
        Rule("/<path:p>", "path"),
        Rule("/<name>", "name"),
        Rule("/<int:n>", "int"),
        Rule("/users/<name>", "user_name"),
        Rule("/users/<int:id>", "user_id"),
        Rule("/users/<int:id>/edit", "user_edit"),
        Rule("/<a>/<b>", "two"),
    ]
    Map(rules)
    ordered = [rule.endpoint for rule in sorted(rules, key=lambda rule: rule.match_key)]
    assert ordered == ["user_edit", "user_id", "user_name", "two", "int", "name", "path"]


def test_rule_repr_shows_rule_methods_endpoint() -> None:
    assert repr(Rule("/a", "a", ["POST"])) == "<Rule '/a' (OPTIONS, POST) -> a>"


def test_rule_parse_adjacent_variables_no_empty_static() -> None:
    assert Rule("/<a><int:b>", "view").parts == ["/", Variable("a", "default", (), {}), Variable("b", "int", (), {})]
