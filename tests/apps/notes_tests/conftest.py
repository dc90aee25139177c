"""Fixtures of the notes suite: an app on a temporary database, its client and CLI runner.

The database starts with two accounts, alice and bob (passwords in
``PASSWORDS``), and three notes: 1 and 2 are alice's, 3 is bob's.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sluice import App as Flask
from tests.apps.notes import create_app
from tests.apps.notes.db import get_db
from tests.apps.notes.db import init_db
from tests.apps.notes.passwords import hash_password

PASSWORDS = {"alice": "correct horse", "bob": "battery staple"}
#: Few PBKDF2 rounds: each registration and login in the suite costs microseconds.
TEST_ITERATIONS = 1_000

SEED_NOTES = [
    (1, "Shopping", "eggs, flour, milk", 0),
    (1, "Ideas", "a notebook app that runs on any framework", 1),
    (2, "Bob's secret", "bob's eyes only", 0),
]


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test",
            "DATABASE": str(tmp_path / "notes.sqlite"),
            "PASSWORD_ITERATIONS": TEST_ITERATIONS,
        }
    )
    with app.app_context():
        init_db()
        db = get_db()
        with db:
            db.executemany(
                "INSERT INTO account (username, password_hash) VALUES (?, ?)",
                [(name, hash_password(password, TEST_ITERATIONS)) for name, password in PASSWORDS.items()],
            )
            db.executemany("INSERT INTO note (owner_id, title, body, pinned) VALUES (?, ?, ?, ?)", SEED_NOTES)
    yield app


@pytest.fixture
def client(app: Flask) -> Any:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> Any:
    return app.test_cli_runner()


@pytest.fixture
def login(client: Any) -> Callable[..., Any]:
    """``login("bob")`` posts the login form for that account and returns the response."""

    def login(username: str = "alice", password: str | None = None) -> Any:
        if password is None:
            password = PASSWORDS[username]
        return client.post("/auth/login", data={"username": username, "password": password})

    return login
