"""The application context a request provides: implicit, reused, or from an app_context() override."""

from __future__ import annotations

from typing import Any
from wsgiref.validate import validator

import greenlet
import pytest

from sluice import signals
from sluice.app import App
from sluice.ctx import AppContext
from sluice.ctx import current_app
from sluice.ctx import g
from sluice.ctx import has_app_context
from sluice.ctx import has_request_context
from sluice.ctx import request
from sluice.testing import TestClient
from sluice.wrappers.response import Response


def _recording_app(events: list[str]) -> App:
    app = App(__name__)

    @app.before_request
    def before() -> None:
        g.seen = getattr(g, "seen", 0) + 1

    @app.get("/")
    def index() -> str:
        return f"{current_app.import_name} {g.seen}"

    app.teardown_request(lambda exc: events.append(f"teardown_request {exc!r}"))
    app.teardown_appcontext(lambda exc: events.append(f"teardown_appcontext {exc!r}"))
    return app


def test_request_provides_app_context_with_fresh_g_and_ordered_teardown() -> None:
    events: list[str] = []
    app = _recording_app(events)

    def pushed(sender: Any, **_: Any) -> None:
        events.append(f"pushed {sender is app}")

    def popped(sender: Any, **_: Any) -> None:
        events.append(f"popped {sender is app} {has_app_context()}")

    signals.appcontext_pushed.connect(pushed)
    signals.appcontext_popped.connect(popped)
    try:
        c = TestClient(validator(app))
        assert c.get("/").text == f"{__name__} 1"
        assert c.get("/").text == f"{__name__} 1", "g must not survive the request"
    finally:
        signals.appcontext_pushed.disconnect(pushed)
        signals.appcontext_popped.disconnect(popped)
    one = ["pushed True", "teardown_request None", "teardown_appcontext None", "popped True False"]
    assert events == one + one
    assert not has_app_context()


def test_active_app_context_is_reused_and_not_torn_down_by_the_request() -> None:
    events: list[str] = []
    app = _recording_app(events)
    with app.app_context():
        g.seen = 10
        assert TestClient(validator(app)).get("/").text == f"{__name__} 11"
        assert g.seen == 11
        assert events == ["teardown_request None"]
    assert events == ["teardown_request None", "teardown_appcontext None"]


def test_app_context_of_another_app_is_not_reused() -> None:
    events: list[str] = []
    app = _recording_app(events)
    other = App("other")
    with other.app_context():
        g.seen = 10
        assert TestClient(validator(app)).get("/").text == f"{__name__} 1"
        assert current_app.import_name == "other" and g.seen == 10


def test_app_context_override_is_used_for_requests() -> None:
    created: list[AppContext] = []

    class CustomApp(App):
        def app_context(self) -> AppContext:
            ctx = AppContext(self)
            setattr(ctx.g, "custom", True)  # noqa: B010 - g is free-form
            created.append(ctx)
            return ctx

    app = CustomApp(__name__)
    app.add_url_rule("/", "index", lambda: f"custom={g.custom}")
    assert TestClient(validator(app)).get("/").text == "custom=True"
    assert len(created) == 1


def test_contexts_isolated_between_greenlets() -> None:
    app = App(__name__)
    hub = greenlet.getcurrent()
    observed: list[tuple[str, str, str]] = []

    def work(path: str) -> None:
        with app.test_request_context(path):
            g.name = path
            hub.switch()  # suspended with its context pushed, while the other runs
            observed.append((path, request.path, g.name))

    first, second = greenlet.greenlet(work), greenlet.greenlet(work)
    first.switch("/a")
    second.switch("/b")
    assert not has_app_context()
    first.switch()
    second.switch()
    assert observed == [("/a", "/a", "/a"), ("/b", "/b", "/b")]
    assert first.dead and second.dead and not has_app_context()


def test_contexts_popped_when_teardown_hooks_raise(caplog: pytest.LogCaptureFixture) -> None:
    app = App(__name__)
    ran: list[str] = []

    @app.teardown_request
    def broken_request_teardown(exc: BaseException | None) -> None:
        ran.append("request")
        raise ValueError("teardown_request failed")

    @app.teardown_request
    def second_request_teardown(exc: BaseException | None) -> None:
        ran.append("request 2")
        raise OSError("teardown_request 2 failed")

    @app.teardown_appcontext
    def broken_app_teardown(exc: BaseException | None) -> None:
        ran.append("appcontext")
        raise KeyError("teardown_appcontext failed")

    app.add_url_rule("/", "index", lambda: "ok")
    environ = app.test_client().build_environ("/")
    body = app(environ, lambda status, headers, exc_info=None: None)
    assert b"".join(body) == b"ok"
    # Every hook runs (newest first); each failure is logged with its
    # traceback, and close() does not raise: the response went out already.
    with caplog.at_level("ERROR", logger="sluice.app"):
        body.close()  # type: ignore[attr-defined]
    assert ran == ["request 2", "request", "appcontext"]
    failures = [r.exc_info[1] for r in caplog.records if r.exc_info]
    assert [type(e) for e in failures] == [OSError, ValueError, KeyError]
    assert not has_app_context() and not has_request_context()


def test_teardown_failure_raises_under_testing() -> None:
    app = App(__name__)
    app.testing = True
    ran: list[str] = []

    @app.teardown_request
    def first(exc: BaseException | None) -> None:
        ran.append("first")

    @app.teardown_request
    def broken(exc: BaseException | None) -> None:
        ran.append("broken")
        raise ValueError("teardown_request failed")

    app.add_url_rule("/", "index", lambda: "ok")
    body = app(app.test_client().build_environ("/"), lambda status, headers, exc_info=None: None)
    with pytest.raises(ValueError, match="teardown_request failed"):
        body.close()  # type: ignore[attr-defined]
    assert ran == ["broken", "first"]
    assert not has_app_context() and not has_request_context()


def test_view_error_reaches_teardown_and_contexts_are_popped() -> None:
    app = App(__name__)
    app.testing = True
    seen: list[BaseException | None] = []
    app.teardown_request(seen.append)
    app.teardown_appcontext(seen.append)

    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        TestClient(validator(app)).get("/boom")
    assert [type(exc) for exc in seen] == [RuntimeError, RuntimeError]
    assert not has_app_context() and not has_request_context()


def test_wsgi_app_can_be_wrapped_in_place() -> None:
    app = App(__name__)
    app.add_url_rule("/", "index", lambda: "inner")
    inner = app.wsgi_app

    def outer(environ: dict[str, Any], start_response: Any) -> Any:
        environ["PATH_INFO"] = "/"
        return inner(environ, start_response)

    app.wsgi_app = outer  # type: ignore[method-assign]
    assert TestClient(validator(app)).get("/anything").text == "inner"


def test_server_that_never_closes_does_not_leak_a_context_into_the_next_request(
    caplog: pytest.LogCaptureFixture,
) -> None:
    events: list[str] = []
    app = _recording_app(events)
    client = TestClient(app)
    start = lambda status, headers, exc_info=None: None  # noqa: E731
    first = app(client.build_environ("/"), start)
    assert b"".join(first) == f"{__name__} 1".encode()  # answered, never closed
    assert has_request_context()
    with caplog.at_level("WARNING", logger="sluice.app"):
        second = app(client.build_environ("/"), start)
    assert b"".join(second) == f"{__name__} 1".encode(), "g must not carry over"
    assert "did not call close()" in caplog.text
    assert events == ["teardown_request None", "teardown_appcontext None"]
    second.close()  # type: ignore[attr-defined]
    assert not has_request_context() and not has_app_context()


def test_contexts_pushed_while_closing_or_streaming_are_not_taken_as_abandoned() -> None:
    app = App(__name__)
    seen: list[str] = []

    @app.get("/stream")
    def stream() -> Any:
        def chunks() -> Any:
            with app.test_request_context("/inner"):
                seen.append(request.path)
            yield f"outer {request.path}"

        return chunks()

    @app.get("/")
    def index() -> str:
        return "ok"

    @app.after_request
    def on_close(response: Response) -> Response:
        def push_another() -> None:
            with app.test_request_context("/while-closing"):
                seen.append(request.path)

        response.call_on_close(push_another)
        return response

    client = TestClient(validator(app))
    assert client.get("/stream").text == "outer /stream"
    assert client.get("/").text == "ok"
    assert seen == ["/inner", "/while-closing", "/while-closing"]
    assert not has_request_context()


def _app_with_own_context(import_name: str) -> App:
    """An App whose app_context() is overridden, so requests push a separate AppContext."""

    class OwnContextApp(App):
        def app_context(self) -> AppContext:
            return AppContext(self)

    return OwnContextApp(import_name)


@pytest.mark.parametrize("override", [False, True], ids=["serves-as-app-context", "own-app-context"])
def test_request_context_pushed_twice_tears_down_once_at_the_last_pop(override: bool) -> None:
    app = _app_with_own_context(__name__) if override else App(__name__)
    torn: list[str] = []
    app.teardown_request(lambda exc: torn.append("request"))
    app.teardown_appcontext(lambda exc: torn.append("appcontext"))
    ctx = app.test_request_context("/twice")
    ctx.push()
    ctx.push()
    assert request.path == "/twice"
    ctx.pop()
    assert torn == [] and request.path == "/twice" and current_app.import_name == __name__
    ctx.pop()
    assert torn == ["request", "appcontext"]
    assert not has_request_context() and not has_app_context()
    with pytest.raises(RuntimeError, match="popped the wrong request context"):
        ctx.pop()


@pytest.mark.parametrize("override", [False, True], ids=["serves-as-app-context", "own-app-context"])
def test_g_lives_as_long_as_the_application_context(override: bool) -> None:
    app = _app_with_own_context(__name__) if override else App(__name__)
    seen: list[object] = []
    app.teardown_appcontext(lambda exc: seen.append(g.get("user")))
    ctx = app.test_request_context("/")
    with ctx:
        g.user = "ann"
        with ctx:  # a nested push is the same application context
            assert g.user == "ann"
        assert g.user == "ann"
    assert seen == ["ann"]  # teardown_appcontext still sees g
    with ctx:  # pushed again after the last pop: a new application context
        assert "user" not in g
    assert seen == ["ann", None]


@pytest.mark.parametrize("method", ["do_teardown_request", "do_teardown_appcontext"])
def test_an_overridden_teardown_method_runs_without_teardown_hooks(method: str) -> None:
    calls: list[str] = []

    def override(self: App, exc: BaseException | None) -> None:
        calls.append(method)

    app = type("Overriding", (App,), {method: override})(__name__)
    app.add_url_rule("/", "index", lambda: "ok")
    assert TestClient(validator(app)).get("/").data == b"ok"
    assert calls == [method]


def test_teardown_signals_are_sent_without_teardown_hooks() -> None:
    calls: list[str] = []

    def request_receiver(sender: App, exc: BaseException | None) -> None:
        calls.append(f"request_tearing_down {sender.import_name}")

    def appcontext_receiver(sender: App, exc: BaseException | None) -> None:
        calls.append(f"appcontext_tearing_down {sender.import_name}")

    plain = App("plain")
    plain.add_url_rule("/", "index", lambda: "ok")
    signals.request_tearing_down.connect(request_receiver, plain)
    signals.appcontext_tearing_down.connect(appcontext_receiver, plain)
    try:
        assert TestClient(validator(plain)).get("/").data == b"ok"
        assert calls == ["request_tearing_down plain", "appcontext_tearing_down plain"]
        with plain.app_context():  # an explicit application context too
            pass
    finally:
        signals.request_tearing_down.disconnect(request_receiver)
        signals.appcontext_tearing_down.disconnect(appcontext_receiver)
    assert calls[2:] == ["appcontext_tearing_down plain"]


def test_nested_requests_and_app_contexts_see_their_own_app_and_g() -> None:
    a, b = App("a"), App("b")
    seen: list[str] = []
    a.teardown_appcontext(lambda exc: seen.append(f"a teardown {current_app.import_name} g={g.get('who')} "
                                                  f"request={has_request_context()}"))
    with a.test_request_context("/a"):
        g.who = "a-request"
        with b.test_request_context("/b"):  # another app: its own application context
            assert current_app.import_name == "b" and "who" not in g
            g.who = "b-request"
        assert current_app.import_name == "a" and g.who == "a-request" and request.path == "/a"
        with a.test_request_context("/a2"):  # the same app: the application context is reused
            assert current_app.import_name == "a" and g.who == "a-request" and request.path == "/a2"
        with a.app_context():  # an explicit one inside the request: a new g
            assert "who" not in g
            with b.test_request_context("/b2"):  # under another app's explicit context
                assert current_app.import_name == "b" and "who" not in g
            assert current_app.import_name == "a" and "who" not in g
        assert g.who == "a-request" and has_app_context()
    assert not has_app_context() and not has_request_context()
    # teardown_appcontext of the outer request: current_app and g, no request.
    assert seen[-1] == "a teardown a g=a-request request=False"
    with b.app_context():
        with a.test_request_context("/a3"):  # another app's explicit context is active
            assert current_app.import_name == "a" and "who" not in g
            g.who = "a3"
        assert current_app.import_name == "b" and "who" not in g
    assert seen[-1] == "a teardown a g=a3 request=False"
