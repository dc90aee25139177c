"""Tests for sluice.routing.router: matching, errors, redirects, OPTIONS, building."""

from __future__ import annotations

from typing import Any

import pytest

from sluice.errors import BuildError
from sluice.errors import MethodNotAllowed
from sluice.errors import NotFound
from sluice.errors import RoutingError
from sluice.routing import Map
from sluice.routing import RequestRedirect
from sluice.routing import Rule


def _endpoint(url_map: Map, path: str, method: str = "GET") -> str:
    return url_map.match(path, method)[0].endpoint


@pytest.fixture
def url_map() -> Map:
    return Map(
        [
            Rule("/", "index"),
            Rule("/users/", "users"),
            Rule("/users/new", "user_new"),
            Rule("/users/<int:id>", "user"),
            Rule("/users/<int:id>", "user_update", ["PUT", "PATCH"]),
            Rule("/users/<name>", "user_by_name"),
            Rule("/about", "about"),
            Rule("/submit", "submit", ["POST"]),
            Rule("/files/<path:name>", "files"),
        ]
    )


def test_match_static_rule_found(url_map: Map) -> None:
    assert url_map.match("/about", "GET") == (next(url_map.iter_rules("about")), {})


def test_match_dynamic_rule_values_converted(url_map: Map) -> None:
    rule, values = url_map.match("/users/42", "GET")
    assert (rule.endpoint, values) == ("user", {"id": 42})


def test_match_dynamic_second_rule_by_method(url_map: Map) -> None:
    assert url_map.match("/users/42", "PATCH")[1] == {"id": 42}
    assert _endpoint(url_map, "/users/42", "PUT") == "user_update"


def test_match_static_beats_dynamic(url_map: Map) -> None:
    assert _endpoint(url_map, "/users/new") == "user_new"


def test_match_static_path_other_method_falls_to_dynamic() -> None:
    url_map = Map([Rule("/users/new", "user_new"), Rule("/users/<name>", "user_post", ["POST"])])
    assert _endpoint(url_map, "/users/new", "POST") == "user_post"


def test_match_int_before_string_whatever_registration_order(url_map: Map) -> None:
    assert _endpoint(url_map, "/users/7") == "user"
    assert _endpoint(url_map, "/users/bob") == "user_by_name"


def test_match_more_static_parts_first() -> None:
    url_map = Map([Rule("/<a>/<b>", "two_vars"), Rule("/<a>/edit", "edit")])
    assert _endpoint(url_map, "/x/edit") == "edit"
    assert _endpoint(url_map, "/x/y") == "two_vars"


def test_match_equal_rank_registration_order_wins() -> None:
    url_map = Map([Rule("/<a>", "first"), Rule("/<b>", "second")])
    assert _endpoint(url_map, "/x") == "first"


def test_match_path_converter_last(url_map: Map) -> None:
    url_map = Map([Rule("/<path:p>", "catch_all"), Rule("/<name>/<int:n>", "specific")])
    assert _endpoint(url_map, "/a/1") == "specific"
    assert url_map.match("/a/b/c", "GET")[1] == {"p": "a/b/c"}


def test_match_defaults_merged_into_values() -> None:
    url_map = Map([Rule("/page/<int:n>", "page", defaults={"lang": "en"}), Rule("/", "index", defaults={"n": 1})])
    assert url_map.match("/page/3", "GET")[1] == {"lang": "en", "n": 3}
    assert url_map.match("/", "GET")[1] == {"n": 1}


def test_match_static_result_is_a_fresh_dict() -> None:
    url_map = Map([Rule("/", "index", defaults={"n": 1})])
    url_map.match("/", "GET")[1]["n"] = 2
    assert url_map.match("/", "GET")[1] == {"n": 1}


def test_match_unknown_path_not_found(url_map: Map) -> None:
    with pytest.raises(NotFound, match="404 Not Found"):
        url_map.match("/nowhere", "GET")


def test_match_converter_rejects_not_found() -> None:
    url_map = Map([Rule("/n/<int(max=9):n>", "n")])
    with pytest.raises(NotFound):
        url_map.match("/n/10", "GET")


def test_match_validation_error_falls_to_next_rule() -> None:
    url_map = Map([Rule("/n/<int(max=9):n>", "small"), Rule("/n/<int:n>", "big")])
    assert _endpoint(url_map, "/n/10") == "big"
    assert _endpoint(url_map, "/n/5") == "small"


@pytest.mark.parametrize(
    ("path", "method", "allowed"),
    [
        pytest.param("/about", "POST", ["GET", "HEAD", "OPTIONS"], id="static"),
        pytest.param("/submit", "GET", ["OPTIONS", "POST"], id="static-post-only"),
        pytest.param("/users/1", "DELETE", ["GET", "HEAD", "OPTIONS", "PATCH", "PUT"], id="dynamic-two-rules"),
        pytest.param("/users/bob", "PUT", ["GET", "HEAD", "OPTIONS"], id="dynamic-other-rule"),
    ],
)
def test_match_wrong_method_method_not_allowed(url_map: Map, path: str, method: str, allowed: list[str]) -> None:
    with pytest.raises(MethodNotAllowed) as info:
        url_map.match(path, method)
    assert info.value.valid_methods == allowed
    assert ("Allow", ", ".join(allowed)) in info.value.get_headers()


def test_match_head_on_get_rule_matched(url_map: Map) -> None:
    assert _endpoint(url_map, "/about", "HEAD") == "about"
    assert _endpoint(url_map, "/users/3", "HEAD") == "user"


def test_match_options_first_rule_of_path(url_map: Map) -> None:
    assert _endpoint(url_map, "/submit", "OPTIONS") == "submit"
    assert _endpoint(url_map, "/users/3", "OPTIONS") == "user"


def test_allowed_methods_union_of_rules(url_map: Map) -> None:
    assert url_map.allowed_methods("/users/3") == ["GET", "HEAD", "OPTIONS", "PATCH", "PUT"]
    assert url_map.allowed_methods("/about") == ["GET", "HEAD", "OPTIONS"]


def test_allowed_methods_unknown_path_empty(url_map: Map) -> None:
    assert url_map.allowed_methods("/nowhere") == []


def test_match_missing_trailing_slash_redirected(url_map: Map) -> None:
    with pytest.raises(RequestRedirect) as info:
        url_map.match("/users", "GET")
    assert info.value.code == 308
    assert info.value.new_url == "/users/"
    assert ("Location", "/users/") in info.value.get_headers()


def test_match_missing_trailing_slash_dynamic_redirected() -> None:
    url_map = Map([Rule("/shop/<int:id>/", "shop")])
    with pytest.raises(RequestRedirect, match="308 Permanent Redirect"):
        url_map.match("/shop/3", "POST")


def test_match_extra_trailing_slash_not_found(url_map: Map) -> None:
    with pytest.raises(NotFound):
        url_map.match("/about/", "GET")
    with pytest.raises(NotFound):
        url_map.match("/users/3/", "GET")


@pytest.mark.parametrize("path", ["/a", "/a/"])
def test_match_not_strict_static_both_forms_matched(path: str) -> None:
    url_map = Map([Rule("/a/", "a", strict_slashes=False)])
    assert _endpoint(url_map, path) == "a"


@pytest.mark.parametrize("path", ["/b/1", "/b/1/"])
def test_match_not_strict_dynamic_both_forms_matched(path: str) -> None:
    url_map = Map([Rule("/b/<int:n>", "b", strict_slashes=False)])
    assert url_map.match(path, "GET")[1] == {"n": 1}


def test_match_not_strict_twin_below_exact_rule() -> None:
    url_map = Map([Rule("/a/", "slash", strict_slashes=False), Rule("/a", "plain")])
    assert _endpoint(url_map, "/a") == "plain"


def test_map_add_after_freeze_rejected(url_map: Map) -> None:
    url_map.match("/", "GET")
    assert url_map.is_frozen
    with pytest.raises(RoutingError, match="the URL map is frozen.*register every route before"):
        url_map.add(Rule("/late", "late"))


def test_map_freeze_twice_no_op(url_map: Map) -> None:
    url_map.freeze()
    url_map.freeze()
    assert url_map.is_frozen


def test_map_empty_not_found() -> None:
    with pytest.raises(NotFound):
        Map().match("/", "GET")


def test_map_iter_rules_registration_order(url_map: Map) -> None:
    assert [rule.endpoint for rule in url_map.iter_rules()][:3] == ["index", "users", "user_new"]
    assert [rule.rule for rule in url_map.iter_rules("user_update")] == ["/users/<int:id>"]


def test_match_many_rules_each_found() -> None:
    url_map = Map([Rule(f"/s{i}/<int:n>", f"e{i}") for i in range(150)])
    assert all(url_map.match(f"/s{i}/{i}", "GET")[1] == {"n": i} for i in range(150))


@pytest.mark.parametrize(
    ("endpoint", "values", "expected"),
    [
        pytest.param("index", {}, "/", id="static"),
        pytest.param("user", {"id": 5}, "/users/5", id="dynamic"),
        pytest.param("user", {"id": 5, "tab": "a b&c"}, "/users/5?tab=a+b%26c", id="query-encoded"),
        pytest.param("index", {"q": ["x", "y"], "skip": None}, "/?q=x&q=y", id="query-list-none-dropped"),
        pytest.param("user_by_name", {"name": "é/?"}, "/users/%C3%A9%2F%3F", id="path-encoded"),
        pytest.param("files", {"name": "a b/c.txt"}, "/files/a%20b/c.txt", id="path-converter-keeps-slash"),
    ],
)
def test_build_values_written(url_map: Map, endpoint: str, values: dict[str, Any], expected: str) -> None:
    assert url_map.build(endpoint, values) == expected


def test_build_append_unknown_false_dropped(url_map: Map) -> None:
    assert url_map.build("user", {"id": 5, "tab": "x"}, append_unknown=False) == "/users/5"


def test_build_anchor_appended(url_map: Map) -> None:
    assert url_map.build("about", anchor="see also") == "/about#see%20also"


def test_build_method_selects_rule() -> None:
    url_map = Map([Rule("/read/<int:id>", "item"), Rule("/write/<int:id>", "item", ["POST"])])
    assert url_map.build("item", {"id": 1}) == "/read/1"
    assert url_map.build("item", {"id": 1}, method="post") == "/write/1"


def test_build_defaults_pick_canonical_rule() -> None:
    url_map = Map([Rule("/list/", "list", defaults={"page": 1}), Rule("/list/<int:page>", "list")])
    assert url_map.build("list", {"page": 1}) == "/list/"
    assert url_map.build("list", {"page": 2}) == "/list/2"
    assert url_map.build("list") == "/list/"


def test_build_unknown_endpoint_close_matches_named(url_map: Map) -> None:
    with pytest.raises(BuildError, match=r"endpoint 'usr': no rule has this endpoint\. Did you mean 'user'"):
        url_map.build("usr", {"id": 1})


def test_build_unknown_endpoint_no_close_match(url_map: Map) -> None:
    with pytest.raises(BuildError, match=r"no rule has this endpoint\. Check the name"):
        url_map.build("zzzzzz")


def test_build_missing_value_named(url_map: Map) -> None:
    with pytest.raises(BuildError, match=r"missing value\(s\) for id \(rule '/users/<int:id>'\); pass them"):
        url_map.build("user", {"tab": "x"})


def test_build_none_value_counts_as_missing(url_map: Map) -> None:
    with pytest.raises(BuildError, match=r"missing value\(s\) for id"):
        url_map.build("user", {"id": None})


def test_build_wrong_method_named(url_map: Map) -> None:
    with pytest.raises(BuildError, match=r"with method 'DELETE'; its rules accept GET, HEAD, OPTIONS"):
        url_map.build("user", {"id": 1}, method="delete")


def test_build_default_clash_named() -> None:
    url_map = Map([Rule("/en/", "home", defaults={"lang": "en"})])
    with pytest.raises(BuildError, match=r"value\(s\) for lang differ from the defaults of rule '/en/'"):
        url_map.build("home", {"lang": "fr"})


def test_build_error_is_lookup_error(url_map: Map) -> None:
    with pytest.raises(LookupError):
        url_map.build("nope")


def test_build_method_rule_missing_value_named() -> None:
    url_map = Map([Rule("/all", "item"), Rule("/item/<int:id>", "item", ["POST"])])
    with pytest.raises(BuildError, match=r"missing value\(s\) for id \(rule '/item/<int:id>'\)"):
        url_map.build("item", {}, method="POST")


def test_match_slash_twin_without_trailing_slash_rule_not_found() -> None:
    url_map = Map([Rule('/<any("a/", b):x>', "x")])
    assert url_map.match("/a/", "GET")[1] == {"x": "a/"}
    with pytest.raises(NotFound):
        url_map.match("/a", "GET")


def _segment_map() -> Map:
    return Map(
        [
            Rule("/users/<int:id>", "user"),
            Rule("/users/<int:id>/edit", "user_edit", methods=["POST"]),
            Rule("/<kind>/<name>", "kind_name"),
            Rule("/<anything>", "anything"),
            Rule("/files/<path:rest>", "files"),
            Rule("/p<int:n>", "p_prefix"),
        ]
    )


@pytest.mark.parametrize(
    ("path", "endpoint", "values"),
    [
        pytest.param("/users/5", "user", {"id": 5}, id="keyed-rule"),
        pytest.param("/users/abc", "kind_name", {"kind": "users", "name": "abc"}, id="variable-rule-under-a-key"),
        pytest.param("/posts/5", "kind_name", {"kind": "posts", "name": "5"}, id="unkeyed-segment"),
        pytest.param("/users", "anything", {"anything": "users"}, id="key-without-second-slash"),
        pytest.param("/files/a/b/c", "files", {"rest": "a/b/c"}, id="path-converter-under-key"),
        pytest.param("/p12", "p_prefix", {"n": 12}, id="literal-prefix-in-first-segment"),
    ],
)
def test_rules_found_under_their_first_segment_in_priority_order(path: str, endpoint: str, values: dict[str, Any]) -> None:
    rule, found = _segment_map().match(path, "GET")
    assert (rule.endpoint, found) == (endpoint, values)


def test_method_not_allowed_under_a_keyed_segment_lists_every_method() -> None:
    with pytest.raises(MethodNotAllowed) as raised:
        _segment_map().match("/users/5/edit", "GET")
    assert raised.value.valid_methods == ["OPTIONS", "POST"]
    assert _segment_map().allowed_methods("/users/5") == ["GET", "HEAD", "OPTIONS"]


def test_path_without_leading_slash_matches_nothing_keyed() -> None:
    with pytest.raises(NotFound):
        _segment_map().match("users", "GET")
