"""Tests of flashed messages: stored in the session, shown once, cached per request, in templates."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from markupsafe import Markup

from sluice import flash
from sluice import get_flashed_messages
from sluice import render_template_string
from sluice import request
from sluice import session
from sluice import signals
from sluice.testing import TestClient
from tests.apps.templated import create_app
from sluice import App
from tests.validated import validated_client


def make_app(secret: str | None = "flash-test-secret-0123456789") -> App:
    """An app with views that flash and that show the flashed messages as JSON."""
    app = App(__name__)
    app.config["SECRET_KEY"] = secret

    @app.get("/flash")
    def flash_view() -> str:
        for message in request.args.getlist("m"):
            category, _, text = message.rpartition(":")
            flash(text, category or "message")
        return "flashed"

    @app.get("/show")
    def show() -> dict[str, Any]:
        return {"messages": get_flashed_messages()}

    @app.get("/show-categories")
    def show_categories() -> dict[str, Any]:
        wanted = request.args.getlist("only")
        return {"pairs": get_flashed_messages(with_categories=True, category_filter=wanted)}

    @app.get("/twice")
    def twice() -> dict[str, Any]:
        first = get_flashed_messages()
        flash("during")
        return {"first": first, "second": get_flashed_messages(), "pending": session.get("_flashes")}

    return app


def test_flashing_message_shown_in_next_request_once() -> None:
    client = validated_client(make_app())
    assert client.get("/flash?m=hello&m=world").text == "flashed"
    assert client.get("/show").get_json() == {"messages": ["hello", "world"]}
    assert client.get("/show").get_json() == {"messages": []}


def test_flashing_stored_in_session_as_category_message_pairs() -> None:
    app = make_app()
    with app.test_request_context("/"):
        flash("one")
        flash("two", "error")
        assert session["_flashes"] == [["message", "one"], ["error", "two"]]
        assert session.modified


def test_flashing_with_categories_and_filter() -> None:
    client = validated_client(make_app())
    client.get("/flash?m=error:disk%20full&m=info:saved&m=plain")
    assert client.get("/show-categories").get_json() == {
        "pairs": [["error", "disk full"], ["info", "saved"], ["message", "plain"]]
    }
    client.get("/flash?m=error:a&m=info:b&m=warning:c")
    assert client.get("/show-categories?only=error&only=warning").get_json() == {
        "pairs": [["error", "a"], ["warning", "c"]]
    }


def test_flashing_with_categories_returns_tuples() -> None:
    app = make_app()
    with app.test_request_context("/"):
        session["_flashes"] = [["error", "x"], ["message", "y"]]
        assert get_flashed_messages(with_categories=True) == [("error", "x"), ("message", "y")]
        assert get_flashed_messages(category_filter="error") == ["x"]


def test_flashing_same_list_for_every_call_in_a_request() -> None:
    client = validated_client(make_app())
    client.get("/flash?m=before")
    # The second call sees the cached list, not "during", which waits for the next request.
    assert client.get("/twice").get_json() == {
        "first": ["before"],
        "second": ["before"],
        "pending": [["message", "during"]],
    }
    assert client.get("/show").get_json() == {"messages": ["during"]}


def test_flashing_reading_empties_the_session_cookie() -> None:
    client = TestClient(make_app())
    client.get("/flash?m=x")
    assert client.get_cookie("session") is not None
    response = client.get("/show")
    assert "session=;" in (response.header("Set-Cookie") or "")
    assert client.get_cookie("session") is None


def test_flashing_without_secret_key_explains() -> None:
    app = make_app(secret=None)
    with app.test_request_context("/"):
        with pytest.raises(RuntimeError, match="no secret key was set"):
            flash("x")
        assert get_flashed_messages() == []


def test_flashing_outside_request_explains() -> None:
    app = make_app()
    with pytest.raises(RuntimeError, match=r"flash\(\) works only while a request is handled"):
        flash("x")
    with app.app_context():
        with pytest.raises(RuntimeError, match=r"get_flashed_messages\(\) works only while a request is handled"):
            get_flashed_messages()


def test_flashing_markup_stays_markup_and_text_is_escaped() -> None:
    app = make_app()

    @app.get("/markup")
    def markup() -> str:
        flash(Markup("<b>saved</b>"))
        flash("<i>not html</i>")
        return "ok"

    @app.get("/page")
    def page() -> str:
        return render_template_string("{% for m in get_flashed_messages() %}{{ m }}|{% endfor %}")

    client = validated_client(app)
    client.get("/markup")
    assert client.get("/page").text == "<b>saved</b>|&lt;i&gt;not html&lt;/i&gt;|"


def test_flashing_signal_sent_with_message_and_category() -> None:
    app = make_app()
    seen: list[tuple[Any, str, str]] = []

    def receiver(sender: Any, message: str, category: str) -> None:
        seen.append((sender, message, category))

    with signals.message_flashed.connected_to(receiver):
        validated_client(app).get("/flash?m=warning:careful")
    assert seen == [(app, "careful", "warning")]


def test_flashing_layout_and_page_see_the_same_messages() -> None:
    client = validated_client(create_app())
    redirect = client.get("/flash?message=<saved>&category=info")
    assert redirect.status == "302 FOUND"
    assert redirect.header("Location") == "/"
    page = client.get("/").text
    assert '<p class="info">&lt;saved&gt;</p>' in page
    assert "again=1" in page  # the page's own call sees the layout's messages
    assert "<p" not in client.get("/").text


@pytest.mark.live
def test_flashing_live_server_round_trip(live_server: Any) -> None:
    server = live_server("tests.apps.templated:app")
    with requests.Session() as browser:
        flashed = browser.get(f"{server.url}/flash?message=hi&category=error", timeout=10)
        assert flashed.status_code == 200  # the redirect was followed
        assert '<p class="error">hi</p>' in flashed.text
        assert [r.status_code for r in flashed.history] == [302]
        assert "<p" not in browser.get(f"{server.url}/", timeout=10).text
