"""The demo's SQLite database: one connection per application context, kept on ``g``.

A view calls :func:`get_db`; the connection opens on first use and
:func:`close_db`, a ``teardown_appcontext`` function, closes it when the
request (or command) ends. sqlite3 comes with Python, so the demo needs no
database server. The table is created before the first request if it is
missing; ``sluice --app examples.demo init-db`` empties everything.
"""

from __future__ import annotations

import os
import shutil
import sqlite3

import click

from sluice import App
from sluice import current_app
from sluice import g

SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    id INTEGER PRIMARY KEY,
    created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M', 'now')),
    name TEXT NOT NULL,
    message TEXT NOT NULL,
    filename TEXT,   -- the attachment's name as the visitor's browser sent it
    stored TEXT,     -- its file in UPLOAD_FOLDER: a random prefix and secure_filename()
    size INTEGER     -- its length in bytes
);
"""


def get_db() -> sqlite3.Connection:
    """Return this context's connection to ``DATABASE``, opening it on first use.

    Rows come back as :class:`sqlite3.Row`, so templates read ``entry.name``
    or ``entry["name"]``.
    """
    if "db" not in g:
        g.db = sqlite3.connect(current_app.config["DATABASE"])
        g.db.row_factory = sqlite3.Row
    db: sqlite3.Connection = g.db
    return db


def close_db(exc: BaseException | None) -> None:
    """Close the connection, if this context opened one (a ``teardown_appcontext`` function)."""
    db = g.pop("db", None)
    if db is not None:
        db.close()


def create_tables(app: App) -> None:
    """Create the instance folders and the table when they are missing (a startup hook's job).

    Args:
        app: the demo app; its ``DATABASE`` and ``UPLOAD_FOLDER`` are used.
    """
    os.makedirs(app.config["UPLOAD_FOLDER"], exist_ok=True)
    # NOTE: startup hooks run before the first request's context is pushed;
    # get_db() needs one (and its teardown closes the connection).
    with app.app_context():
        get_db().executescript(SCHEMA)


@click.command("init-db")
def init_db_command() -> None:
    """Empty the guestbook: re-create the table and delete the uploaded files."""
    upload_folder = current_app.config["UPLOAD_FOLDER"]
    shutil.rmtree(upload_folder, ignore_errors=True)
    os.makedirs(upload_folder)
    db = get_db()
    db.executescript("DROP TABLE IF EXISTS entries;" + SCHEMA)
    click.echo(f"Initialised the database {current_app.config['DATABASE']}.")


def init_app(app: App) -> None:
    """Wire the database into ``app``: the startup hook, the teardown and ``init-db``.

    Args:
        app: the app being set up by ``create_app``.
    """
    app.on_startup(lambda: create_tables(app))
    app.teardown_appcontext(close_db)
    app.cli.add_command(init_db_command)
