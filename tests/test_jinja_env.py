"""Tests of sluice's Jinja2 environment: its fast paths give Jinja2's and markupsafe's exact results."""

from __future__ import annotations

from typing import Any

import jinja2
import markupsafe
import markupsafe._speedups
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sluice import jinja_env
from sluice.jinja_env import DispatchingLoader
from sluice.jinja_env import Environment
from sluice.jinja_env import Template
from sluice.jinja_env import escape
from sluice import App


class _HTML:
    def __html__(self) -> str:
        return "<b>as is</b>"

    def __repr__(self) -> str:  # a stable test id: xdist workers must collect the same ids
        return "_HTML()"


@given(st.text(), st.booleans())
def test_jinja_env_escape_equals_markupsafe_for_text(text: str, compiled: bool) -> None:
    # Both ways: markupsafe's compiled escaping, and the Python replacements
    # used where it is not built.
    saved = jinja_env._escape_str
    if not compiled:
        jinja_env._escape_str = None
    try:
        result = escape(text)
    finally:
        jinja_env._escape_str = saved
    assert type(result) is markupsafe.Markup
    assert result == markupsafe.escape(text)


def test_jinja_env_escape_uses_compiled_markupsafe_when_built() -> None:
    assert jinja_env._escape_str is markupsafe._speedups._escape_inner


@pytest.mark.parametrize(
    "value",
    [0, -12, 10**30, True, 1.5, None, markupsafe.Markup("<i>safe</i>"), _HTML(), ["<x>"], "<&>\"'"],
    ids=repr,
)
def test_jinja_env_escape_equals_markupsafe_for_other_values(value: Any) -> None:
    result = escape(value)
    assert type(result) is markupsafe.Markup
    assert result == markupsafe.escape(value)


def _app_env() -> Environment:
    env = App("tests.jinja_tmp").jinja_env
    assert isinstance(env, Environment)
    return env


class _Obj:
    name = "attr"

    def __repr__(self) -> str:
        return "_Obj()"

    def __getitem__(self, key: str) -> str:
        return f"item {key}"


@pytest.mark.parametrize(
    ("obj", "attribute"),
    [
        ({"name": "<n>"}, "name"),
        ({"items": "a key"}, "items"),  # the dict method wins, as in Jinja2
        ({"get": 1}, "get"),
        ({}, "missing"),
        ({"__class__": "k"}, "__class__"),
        (_Obj(), "name"),
        (_Obj(), "other"),
        (["a"], "missing"),
        (type("D", (dict,), {"extra": "class attr"})({"extra": "key"}), "extra"),
    ],
    ids=lambda v: repr(v)[:30],
)
def test_jinja_env_getattr_equals_jinja2(obj: Any, attribute: str) -> None:
    ours = _app_env().getattr(obj, attribute)
    theirs = jinja2.Environment().getattr(obj, attribute)
    if isinstance(theirs, jinja2.Undefined):
        assert isinstance(ours, jinja2.Undefined)
        assert ours._undefined_name == theirs._undefined_name
        assert ours._undefined_obj is theirs._undefined_obj
    else:
        assert ours == theirs


def test_jinja_env_templates_use_the_fast_escape() -> None:
    env = _app_env()
    template = env.from_string("{{ v }}{% block b %}{{ v }}{% endblock %}")
    assert isinstance(template, Template)
    assert template.root_render_func.__globals__["escape"] is escape
    assert template.render(v="<a & 'b'>") == "&lt;a &amp; &#39;b&#39;&gt;" * 2


def test_jinja_env_loader_is_dispatching() -> None:
    env = _app_env()
    assert isinstance(env.loader, DispatchingLoader)
