"""The App's session lifecycle: opened on first use, saved only when there is something to save."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sluice.app import App
from sluice.ctx import session
from sluice.sessions import Session
from sluice.sessions import SignedCookieSessionInterface
from sluice.wrappers.response import Response
from tests.validated import validated_client


def _app() -> App:
    app = App(__name__)
    app.secret_key = "s" * 32

    @app.get("/login")
    def login() -> str:
        session["user"] = "ada"
        session.permanent = True
        return "in"

    @app.get("/plain")
    def plain() -> str:
        return "plain"

    @app.get("/who")
    def who() -> str:
        return str(session.get("user"))

    return app


def _expires(response: Any) -> datetime:
    cookie = response.headers["Set-Cookie"]
    value = next(part.split("=", 1)[1] for part in cookie.split("; ") if part.startswith("Expires="))
    return datetime.strptime(value, "%a, %d %b %Y %H:%M:%S GMT")


def test_untouched_session_without_cookie_sets_nothing() -> None:
    r = validated_client(_app()).get("/plain")
    assert r.status_code == 200 and "Set-Cookie" not in r.headers


def test_session_used_by_view_sets_cookie_and_is_read_back() -> None:
    c = validated_client(_app())
    assert "Set-Cookie" in c.get("/login").headers
    assert c.get("/who").text == "ada"


def test_permanent_session_refreshed_by_request_that_does_not_touch_it() -> None:
    app = _app()
    app.config["PERMANENT_SESSION_LIFETIME"] = 3600
    c = validated_client(app)
    first = _expires(c.get("/login"))
    app.config["PERMANENT_SESSION_LIFETIME"] = 7200
    refreshed = c.get("/plain")
    assert "Set-Cookie" in refreshed.headers
    assert (_expires(refreshed) - first).total_seconds() > 3000
    assert c.get("/who").text == "ada"


def test_permanent_session_not_refreshed_when_configured_off() -> None:
    app = _app()
    app.config["SESSION_REFRESH_EACH_REQUEST"] = False
    c = validated_client(app)
    c.get("/login")
    assert "Set-Cookie" not in c.get("/plain").headers


class _CountingInterface(SignedCookieSessionInterface):
    """A custom interface: the app must open and save it on every request, as Flask does."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def open_session(self, app: Any, request: Any) -> Session:
        self.calls.append("open")
        return super().open_session(app, request)

    def save_session(self, app: Any, session: Session, response: Any) -> None:
        self.calls.append("save")
        assert isinstance(response, Response)
        response.headers.set("X-Session-Saved", "1")


def test_custom_session_interface_is_opened_and_saved_on_every_request() -> None:
    app = _app()
    iface = app.session_interface = _CountingInterface()
    r = validated_client(app).get("/plain")
    assert r.headers["X-Session-Saved"] == "1"
    assert iface.calls == ["open", "save"]
