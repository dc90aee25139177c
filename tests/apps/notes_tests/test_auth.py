"""Accounts: registering, logging in and out, ``session`` and ``g.user``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from sluice import App as Flask
from sluice import g
from sluice import session
from tests.apps.notes.db import get_db


def test_register_page(client: Any) -> None:
    response = client.get("/auth/register")
    assert response.status_code == 200
    assert b"<title>Register \xc2\xb7 Notes</title>" in response.data
    assert b"Create my account" in response.data


def test_register_stores_account_and_redirects_to_login(app: Flask, client: Any) -> None:
    response = client.post("/auth/register", data={"username": "carol", "password": "long enough"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/auth/login"
    with app.app_context():
        account = get_db().execute("SELECT * FROM account WHERE username = 'carol'").fetchone()
    assert account is not None
    assert account["password_hash"].startswith("pbkdf2_sha256$1000$")
    assert "long enough" not in account["password_hash"]


def test_register_welcome_flashed_after_redirect(client: Any) -> None:
    response = client.post(
        "/auth/register", data={"username": "carol", "password": "long enough"}, follow_redirects=True
    )
    assert response.status_code == 200
    assert len(response.history) == 1
    assert response.request.path == "/auth/login"
    assert b'<p class="flash success">Welcome, carol! Log in to start writing.</p>' in response.data


@pytest.mark.parametrize(
    ("username", "password", "message"),
    [
        pytest.param("", "long enough", "Choose a username.", id="no-username"),
        pytest.param("carol", "short", "A password needs at least 8 characters.", id="short-password"),
        pytest.param("alice", "long enough", "The name alice is taken.", id="taken"),
    ],
)
def test_register_invalid_input_flashed(client: Any, username: str, password: str, message: str) -> None:
    response = client.post("/auth/register", data={"username": username, "password": password})
    assert response.status_code == 200
    assert f'<p class="flash error">{message}</p>' in response.get_data(as_text=True)
    assert f'value="{username}"' in response.text


def test_register_flashed_name_escaped(client: Any) -> None:
    client.post("/auth/register", data={"username": "<i>eve</i>", "password": "long enough"})
    response = client.post("/auth/register", data={"username": "<i>eve</i>", "password": "long enough"})
    assert b"The name &lt;i&gt;eve&lt;/i&gt; is taken." in response.data
    assert b"<i>eve</i>" not in response.data


def test_register_flash_shown_once(client: Any) -> None:
    client.post("/auth/register", data={"username": "", "password": "long enough"})
    assert b"Choose a username." not in client.get("/auth/register").data


def test_register_missing_field_is_bad_request(client: Any) -> None:
    assert client.post("/auth/register", data={"username": "carol"}).status_code == 400


def test_login_page(client: Any) -> None:
    response = client.get("/auth/login")
    assert response.status_code == 200
    assert b'<form method="post">' in response.data


def test_login_sets_session_and_g_user(client: Any, login: Callable[..., Any]) -> None:
    response = login()
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    with client:
        client.get("/")
        assert session["user_id"] == 1
        assert g.user["username"] == "alice"


@pytest.mark.parametrize(
    ("username", "password"),
    [
        pytest.param("alice", "wrong password", id="wrong-password"),
        pytest.param("nobody", "correct horse", id="no-such-user"),
    ],
)
def test_login_refused(client: Any, login: Callable[..., Any], username: str, password: str) -> None:
    with client:
        response = login(username, password)
        assert response.status_code == 200
        assert b"Wrong username or password." in response.data
        assert "user_id" not in session
        assert g.user is None


def test_login_shows_user_in_nav(client: Any, login: Callable[..., Any]) -> None:
    login("bob")
    response = client.get("/")
    assert b'<li class="user">bob</li>' in response.data
    assert b"Log out" in response.data


def test_logout_clears_session(client: Any, login: Callable[..., Any]) -> None:
    login()
    with client:
        response = client.get("/auth/logout")
        assert response.headers["Location"] == "/"
        assert "user_id" not in session
    response = client.get("/")
    assert b"You are logged out." in response.data
    assert b"Log in" in response.data


def test_session_transaction_logs_in(client: Any) -> None:
    with client.session_transaction() as sess:
        sess["user_id"] = 2
    response = client.get("/")
    assert b"<title>bob's notes \xc2\xb7 Notes</title>" in response.data
    with client.session_transaction() as sess:
        assert sess["user_id"] == 2
