"""The SQLite connection of the current app context, and the ``init-db`` command."""

from __future__ import annotations

import sqlite3

import click

from sluice import App as Flask
from sluice import current_app
from sluice import g


def get_db() -> sqlite3.Connection:
    """Return this app context's connection, opened on first use.

    Rows come back as :class:`sqlite3.Row`, so columns read by name.
    """
    if "db" not in g:
        g.db = sqlite3.connect(current_app.config["DATABASE"])
        g.db.row_factory = sqlite3.Row
        g.db.execute("PRAGMA foreign_keys = ON")
    db: sqlite3.Connection = g.db
    return db


def close_db(e: BaseException | None = None) -> None:
    """Close the connection, if this app context opened one."""
    db = g.pop("db", None)
    if db is not None:
        db.close()


def init_db() -> None:
    """Drop every table and create them again from ``schema.sql``."""
    db = get_db()
    with current_app.open_resource("schema.sql") as f:
        db.executescript(f.read().decode("utf-8"))


@click.command("init-db")
def init_db_command() -> None:
    """Create a fresh, empty notes database (existing notes are lost)."""
    init_db()
    click.echo(f"Created a fresh notes database in {current_app.config['DATABASE']}.")


def init_app(app: Flask) -> None:
    """Close the connection at the end of each app context, and add ``init-db``."""
    app.teardown_appcontext(close_db)
    app.cli.add_command(init_db_command)
