"""Tests of class-based views, run inside a request context."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from sluice.ctx import AppContext
from sluice.ctx import RequestContext
from sluice.errors import MethodNotAllowed
from sluice.views import MethodView
from sluice.views import View


class _App:
    _teardown_hooks = True
    _request_close = False

    def do_teardown_appcontext(self, exc: BaseException | None) -> None:
        pass

    def do_teardown_request(self, exc: BaseException | None) -> None:
        pass

    def open_session(self, request: Any) -> Any:
        return {}


def _call(view: Any, method: str, **kwargs: Any) -> Any:
    app = _App()
    with RequestContext(app, SimpleNamespace(method=method), lambda: AppContext(app)):
        return view(**kwargs)


class Counter(View):
    def __init__(self, start: int) -> None:
        self.count = start

    def dispatch_request(self, **kwargs: Any) -> Any:
        self.count += 1
        return self.count


class Items(MethodView):
    def get(self, item_id: int) -> str:
        return f"get {item_id}"

    def post(self, item_id: int) -> str:
        return f"post {item_id}"


def test_view_as_view_new_instance_per_request() -> None:
    view = Counter.as_view("counter", 10)
    assert (_call(view, "GET"), _call(view, "GET")) == (11, 11)
    assert view.__name__ == "counter" and getattr(view, "view_class") is Counter


def test_view_init_once_keeps_state() -> None:
    class Once(Counter):
        init_every_request = False

    view = Once.as_view("once", 0)
    assert (_call(view, "GET"), _call(view, "GET")) == (1, 2)


def test_view_decorators_applied() -> None:
    def shout(fn: Any) -> Any:
        def wrapper(**kwargs: Any) -> Any:
            return f"{fn(**kwargs)}!"

        return wrapper

    class Loud(Counter):
        decorators = [shout]

    assert _call(Loud.as_view("loud", 0), "GET") == "1!"


def test_view_without_dispatch_request_says_what_to_do() -> None:
    with pytest.raises(NotImplementedError, match="Bare must implement dispatch_request"):

        class Bare(View):
            pass

        _call(Bare.as_view("bare"), "GET")


def test_method_view_methods_collected_and_dispatched() -> None:
    view = Items.as_view("items")
    assert getattr(view, "methods") == {"GET", "POST"}
    assert _call(view, "GET", item_id=3) == "get 3"
    assert _call(view, "POST", item_id=4) == "post 4"
    assert _call(view, "HEAD", item_id=5) == "get 5"


def test_method_view_unknown_method_405_with_allow() -> None:
    with pytest.raises(MethodNotAllowed) as info:
        _call(Items.as_view("items"), "DELETE", item_id=1)
    assert ("Allow", "GET, POST") in info.value.get_headers()
    assert info.value.code == 405
