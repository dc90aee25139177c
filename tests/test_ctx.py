"""Tests of the application and request contexts and their proxies."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from sluice import ctx
from sluice.ctx import AppContext
from sluice.ctx import RequestContext
from sluice.ctx import has_app_context
from sluice.ctx import has_request_context
from sluice.signals import appcontext_popped
from sluice.signals import appcontext_pushed

# These tests push contexts of fake apps holding plain values, so the
# proxies are used untyped here (the App's own tests use them typed).
current_app: Any = ctx.current_app
g: Any = ctx.g
request: Any = ctx.request
session: Any = ctx.session


class FakeApp:
    """Records teardown calls; optionally fails in them."""

    _teardown_hooks = True
    _request_close = False

    def __init__(self, fail: bool = False) -> None:
        self.teardowns: list[tuple[str, BaseException | None]] = []
        self.fail = fail

    def app_context(self) -> AppContext:
        return AppContext(self)

    def request_context(self, req: Any) -> RequestContext:
        return RequestContext(self, req, self.app_context)

    def do_teardown_appcontext(self, exc: BaseException | None) -> None:
        self.teardowns.append(("app", exc))

    def do_teardown_request(self, exc: BaseException | None) -> None:
        self.teardowns.append(("request", exc))
        if self.fail:
            raise ValueError("teardown failed")

    def open_session(self, request: Any) -> dict[str, Any]:
        self.teardowns.append(("open_session", None))
        return {"user": request}


@pytest.mark.parametrize("proxy", [current_app, g], ids=["current_app", "g"])
def test_proxy_outside_app_context_raises_helpful_error(proxy: Any) -> None:
    with pytest.raises(RuntimeError, match=r"outside of application context.*app.app_context\(\)"):
        proxy.anything
    assert not proxy
    assert repr(proxy) == "<unbound proxy>"


@pytest.mark.parametrize("proxy", [request, session], ids=["request", "session"])
def test_proxy_outside_request_context_raises_helpful_error(proxy: Any) -> None:
    with pytest.raises(RuntimeError, match=r"outside of request context.*test_request_context"):
        proxy.anything


def test_app_context_sets_current_app_and_g() -> None:
    app = FakeApp()
    assert not has_app_context()
    with app.app_context():
        assert has_app_context()
        assert current_app._get_current_object() is app
        g.user = "ada"
        assert g.user == "ada" and "user" in g and g.get("missing", 1) == 1
        assert g.setdefault("n", 2) == 2 and g.pop("n") == 2
        assert list(g) == ["user"]
    assert not has_app_context()
    assert app.teardowns == [("app", None)]


def test_app_context_nested_restores_outer() -> None:
    outer, inner = FakeApp(), FakeApp()
    with outer.app_context():
        g.name = "outer"
        with inner.app_context():
            assert current_app._get_current_object() is inner
            assert "name" not in g
        assert current_app._get_current_object() is outer
        assert g.name == "outer"


def test_request_context_pushes_app_context_implicitly() -> None:
    app = FakeApp()
    with app.request_context("req-1"):
        assert has_request_context()
        assert request._get_current_object() == "req-1"
        assert current_app._get_current_object() is app
    assert not has_app_context()
    assert app.teardowns == [("request", None), ("app", None)]


def test_request_context_reuses_active_app_context() -> None:
    app = FakeApp()
    with app.app_context() as app_ctx:
        g.shared = 1
        with app.request_context("req"):
            assert ctx._app_ctx() is app_ctx
            assert g.shared == 1
        assert has_app_context()
    assert app.teardowns == [("request", None), ("app", None)]


def test_request_context_passes_exception_to_teardown() -> None:
    app = FakeApp()
    error = KeyError("boom")
    with pytest.raises(KeyError):
        with app.request_context("req"):
            raise error
    assert app.teardowns == [("request", error), ("app", error)]


def test_request_context_popped_even_when_teardown_raises() -> None:
    app = FakeApp(fail=True)
    with pytest.raises(ValueError, match="teardown failed"):
        with app.request_context("req"):
            pass
    assert not has_request_context()
    assert not has_app_context()


def test_pop_wrong_context_raises() -> None:
    app = FakeApp()
    first, second = app.app_context(), app.app_context()
    first.push()
    second.push()
    with pytest.raises(RuntimeError, match="popped the wrong application context"):
        first.pop()
    second.pop()
    first.pop()


def test_contexts_isolated_between_threads() -> None:
    app = FakeApp()
    seen: dict[str, object] = {}
    barrier = threading.Barrier(2)

    def work(name: str) -> None:
        with app.request_context(name):
            barrier.wait(timeout=5)
            seen[name] = request._get_current_object()

    threads = [threading.Thread(target=work, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen == {"a": "a", "b": "b"}


def test_contexts_isolated_between_asyncio_tasks() -> None:
    app = FakeApp()

    async def work(name: str) -> object:
        with app.request_context(name):
            await asyncio.sleep(0.01)
            return request._get_current_object()

    async def main() -> list[object]:
        return list(await asyncio.gather(work("x"), work("y")))

    assert asyncio.run(main()) == ["x", "y"]


def test_appcontext_signals_sent_with_app_as_sender() -> None:
    app = FakeApp()
    events: list[tuple[str, object]] = []

    def pushed(sender: object) -> None:
        events.append(("pushed", sender))

    def popped(sender: object) -> None:
        events.append(("popped", sender))

    appcontext_pushed.connect(pushed, sender=app)
    appcontext_popped.connect(popped, sender=app)
    try:
        with app.app_context():
            pass
    finally:
        appcontext_pushed.disconnect(pushed)
        appcontext_popped.disconnect(popped)
    assert events == [("pushed", app), ("popped", app)]


def test_proxy_forwards_item_access_and_calls() -> None:
    app = FakeApp()
    with app.request_context({"k": [1, 2]}):
        assert request["k"] == [1, 2]
        request["j"] = 3
        assert "j" in request and len(request) == 2
        del request["j"]
        assert list(request) == ["k"]
        assert request == {"k": [1, 2]}
        assert str(request) == "{'k': [1, 2]}"
    with app.request_context(lambda x: x * 2):
        assert request(21) == 42


def test_session_is_opened_on_first_use_only_once() -> None:
    app = FakeApp()
    ctx = app.request_context("req")
    with ctx:
        assert not ctx.session_opened
        assert ("open_session", None) not in app.teardowns
        assert session["user"] == "req"
        session["seen"] = True
        assert ctx.session == {"user": "req", "seen": True}
        assert ctx.session_opened
    assert app.teardowns.count(("open_session", None)) == 1


def test_session_assigned_before_use_is_not_opened() -> None:
    app = FakeApp()
    ctx = app.request_context("req")
    ctx.session = {"preset": 1}
    with ctx:
        assert session["preset"] == 1
    assert ("open_session", None) not in app.teardowns


@pytest.mark.parametrize("factory", [True, False], ids=["app-context-factory", "serves-as-app-context"])
def test_request_context_push_preserved_shows_request_and_g_without_teardown(factory: bool) -> None:
    app = FakeApp()
    rctx = RequestContext(app, "req", app.app_context if factory else None)
    events: list[str] = []

    def pushed(sender: Any) -> None:
        events.append("pushed")

    def popped(sender: Any) -> None:
        events.append("popped")

    rctx.push()
    g.user = "ada"
    rctx.preserve()
    rctx.pop(None)
    assert app.teardowns == [("request", None), ("app", None)]
    appcontext_pushed.connect(pushed, sender=app)
    appcontext_popped.connect(popped, sender=app)
    try:
        rctx.push_preserved()
        assert request._get_current_object() == "req"
        assert current_app._get_current_object() is app
        assert g.user == "ada"
        rctx.pop(None)
    finally:
        appcontext_pushed.disconnect(pushed)
        appcontext_popped.disconnect(popped)
    assert not has_request_context() and not has_app_context()
    assert app.teardowns == [("request", None), ("app", None)]
    assert events == []


def test_request_context_push_preserved_needs_preserve_and_a_popped_context() -> None:
    app = FakeApp()
    rctx = app.request_context("req")
    with rctx:
        with pytest.raises(RuntimeError, match=r"call preserve\(\) before its request ends"):
            rctx.push_preserved()
        rctx.preserve()
        with pytest.raises(RuntimeError, match=r"push_preserved\(\) only once it was popped"):
            rctx.push_preserved()
    assert not has_request_context()


@pytest.mark.parametrize("factory", [True, False])
def test_request_context_pushed_twice_tears_down_at_its_last_pop(factory: bool) -> None:
    app = FakeApp()
    rctx = RequestContext(app, "req", app.app_context if factory else None)
    rctx.push()
    g.value = "kept"
    rctx.push()  # the same context again (Flask allows it)
    assert request == "req" and g.value == "kept"
    rctx.pop()
    assert request == "req" and g.value == "kept" and app.teardowns == []
    rctx.pop(ValueError("last"))
    assert not has_request_context() and not has_app_context()
    assert [(kind, str(exc)) for kind, exc in app.teardowns] == [("request", "last"), ("app", "last")]
    with pytest.raises(RuntimeError, match="popped the wrong request context"):
        rctx.pop()
