"""The database: one connection per app context, closed at its end; ``init-db``."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

import pytest

from sluice import App as Flask
from sluice import g
from tests.apps.notes.db import get_db


def test_get_db_one_connection_per_app_context(app: Flask) -> None:
    with app.app_context():
        db = get_db()
        assert get_db() is db
        assert db.execute("SELECT username FROM account WHERE id = 1").fetchone()["username"] == "alice"
    with app.app_context():
        assert get_db() is not db


def test_get_db_closed_after_app_context(app: Flask) -> None:
    with app.app_context():
        db = get_db()
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        db.execute("SELECT 1")


def test_get_db_closed_after_request(client: Any, login: Callable[..., Any]) -> None:
    login()
    with client:
        client.get("/")
        # The request opened a connection to load g.user, and its teardown
        # closed it: the context kept by ``with client:`` no longer has one.
        assert g.user["username"] == "alice"
        assert "db" not in g


def test_init_db_command_empties_database(app: Flask, runner: Any) -> None:
    # ``flask init-db`` runs a command added with ``app.cli.add_command`` in an
    # app context, but the test runner invokes ``app.cli`` directly: give it one.
    with app.app_context():
        result = runner.invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    assert "Created a fresh notes database in" in result.output
    assert app.config["DATABASE"] in result.output
    with app.app_context():
        assert get_db().execute("SELECT count(*) FROM account").fetchone()[0] == 0
        assert get_db().execute("SELECT count(*) FROM note").fetchone()[0] == 0


def test_init_db_command_listed_in_help(runner: Any) -> None:
    result = runner.invoke(args=["--help"])
    assert result.exit_code == 0
    assert "init-db" in result.output
    assert "Create a fresh, empty notes database" in result.output
