"""Notes: the list, a note, and creating, editing and deleting notes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from sluice import App as Flask
from sluice import request
from tests.apps.notes.db import get_db


def count_notes(app: Flask, owner_id: int = 1) -> int:
    with app.app_context():
        count: int = get_db().execute("SELECT count(*) FROM note WHERE owner_id = ?", (owner_id,)).fetchone()[0]
    return count


def test_index_anonymous(client: Any) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert b"<title>Welcome \xc2\xb7 Notes</title>" in response.data
    assert b'href="/auth/register"' in response.data
    assert b'href="/auth/login"' in response.data
    assert b"Shopping" not in response.data


def test_index_lists_own_notes_pinned_first(client: Any, login: Callable[..., Any]) -> None:
    login()
    text = client.get("/").text
    assert text.index('<a href="/2">Ideas</a>') < text.index('<a href="/1">Shopping</a>')
    assert "secret" not in text
    assert 'href="/new"' in text


def test_index_without_notes(client: Any, login: Callable[..., Any], app: Flask) -> None:
    with app.app_context():
        db = get_db()
        with db:
            db.execute("DELETE FROM note")
    login()
    assert b"No notes yet." in client.get("/").data


@pytest.mark.parametrize(
    ("method", "path"),
    [
        pytest.param("GET", "/new", id="create-form"),
        pytest.param("POST", "/new", id="create"),
        pytest.param("GET", "/1", id="detail"),
        pytest.param("GET", "/1/edit", id="update-form"),
        pytest.param("POST", "/1/edit", id="update"),
        pytest.param("POST", "/1/delete", id="delete"),
        pytest.param("GET", "/export.json", id="export"),
    ],
)
def test_login_required(client: Any, method: str, path: str) -> None:
    response = client.open(path, method=method)
    assert response.status_code == 302
    assert response.headers["Location"] == "/auth/login"


def test_login_required_explained_after_redirect(client: Any) -> None:
    response = client.get("/new", follow_redirects=True)
    assert response.request.path == "/auth/login"
    assert b'<p class="flash info">Log in to see your notes.</p>' in response.data


@pytest.mark.parametrize(
    ("method", "path"),
    [
        pytest.param("GET", "/3", id="detail"),
        pytest.param("GET", "/3/edit", id="update-form"),
        pytest.param("POST", "/3/edit", id="update"),
        pytest.param("POST", "/3/delete", id="delete"),
    ],
)
def test_other_users_note_forbidden(app: Flask, client: Any, login: Callable[..., Any], method: str, path: str) -> None:
    login()
    response = client.open(path, method=method, data={"title": "mine now"})
    assert response.status_code == 403
    with app.app_context():
        assert get_db().execute("SELECT title FROM note WHERE id = 3").fetchone()["title"] == "Bob's secret"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        pytest.param("GET", "/99", id="detail"),
        pytest.param("GET", "/99/edit", id="update-form"),
        pytest.param("POST", "/99/edit", id="update"),
        pytest.param("POST", "/99/delete", id="delete"),
    ],
)
def test_missing_note_not_found(client: Any, login: Callable[..., Any], method: str, path: str) -> None:
    login()
    response = client.open(path, method=method)
    assert response.status_code == 404
    assert b"<title>Not here \xc2\xb7 Notes</title>" in response.data
    assert b"Note 99 does not exist." in response.data


def test_unknown_url_uses_not_found_page(client: Any) -> None:
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert b"<title>Not here \xc2\xb7 Notes</title>" in response.data


def test_detail(client: Any, login: Callable[..., Any]) -> None:
    login()
    with client:
        response = client.get("/2")
        assert request.view_args == {"note_id": 2}
    assert response.status_code == 200
    assert b"<h1>Ideas</h1>" in response.data
    assert b"a notebook app that runs on any framework" in response.data
    assert b'href="/2/edit"' in response.data


def test_create_form(client: Any, login: Callable[..., Any]) -> None:
    login()
    response = client.get("/new")
    assert response.status_code == 200
    assert b'<textarea name="body" id="body"></textarea>' in response.data


def test_create_stores_note(app: Flask, client: Any, login: Callable[..., Any]) -> None:
    login()
    response = client.post("/new", data={"title": "Groceries", "body": "apples", "pinned": "on"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert count_notes(app) == 3
    with app.app_context():
        note = get_db().execute("SELECT * FROM note ORDER BY id DESC").fetchone()
    assert (note["owner_id"], note["title"], note["body"], note["pinned"]) == (1, "Groceries", "apples", 1)


def test_create_confirmed_after_redirect(client: Any, login: Callable[..., Any]) -> None:
    login()
    response = client.post("/new", data={"title": "Groceries", "body": ""}, follow_redirects=True)
    assert response.request.path == "/"
    text = response.get_data(as_text=True)
    assert "Saved “Groceries”." in text
    assert '<a href="/4">Groceries</a>' in text


def test_create_without_title_refused(app: Flask, client: Any, login: Callable[..., Any]) -> None:
    login()
    response = client.post("/new", data={"title": "  ", "body": "kept for the retry"})
    assert response.status_code == 200
    assert b'<p class="flash error">A note needs a title.</p>' in response.data
    assert b">kept for the retry</textarea>" in response.data
    assert count_notes(app) == 2


def test_create_escapes_user_input(client: Any, login: Callable[..., Any]) -> None:
    login()
    client.post("/new", data={"title": "<script>alert(1)</script>", "body": "a & b"})
    response = client.get("/4")
    assert b"<script>" not in response.data
    assert b"<h1>&lt;script&gt;alert(1)&lt;/script&gt;</h1>" in response.data
    assert b"a &amp; b" in response.data


def test_update_form_filled_in(client: Any, login: Callable[..., Any]) -> None:
    login()
    response = client.get("/1/edit")
    assert b'value="Shopping"' in response.data
    assert b">eggs, flour, milk</textarea>" in response.data
    assert b'action="/1/delete"' in response.data


def test_update_stores_note(app: Flask, client: Any, login: Callable[..., Any]) -> None:
    login()
    response = client.post("/1/edit", data={"title": "Market", "body": "eggs", "pinned": "on"})
    assert response.headers["Location"] == "/1"
    with app.app_context():
        note = get_db().execute("SELECT * FROM note WHERE id = 1").fetchone()
    assert (note["title"], note["body"], note["pinned"]) == ("Market", "eggs", 1)


def test_update_without_title_refused(app: Flask, client: Any, login: Callable[..., Any]) -> None:
    login()
    response = client.post("/1/edit", data={"title": "", "body": "eggs"})
    assert response.status_code == 200
    assert b"A note needs a title." in response.data
    with app.app_context():
        assert get_db().execute("SELECT title FROM note WHERE id = 1").fetchone()["title"] == "Shopping"


def test_delete_removes_note(app: Flask, client: Any, login: Callable[..., Any]) -> None:
    login()
    response = client.post("/1/delete")
    assert response.headers["Location"] == "/"
    assert count_notes(app) == 1
    assert "Deleted “Shopping”." in client.get("/").text


def test_delete_by_get_not_allowed(app: Flask, client: Any, login: Callable[..., Any]) -> None:
    login()
    assert client.get("/1/delete").status_code == 405
    assert count_notes(app) == 2


def test_export_json(client: Any, login: Callable[..., Any]) -> None:
    login()
    response = client.get("/export.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.json == {
        "owner": "alice",
        "notes": [
            {"id": 1, "title": "Shopping", "body": "eggs, flour, milk", "pinned": False},
            {"id": 2, "title": "Ideas", "body": "a notebook app that runs on any framework", "pinned": True},
        ],
    }
