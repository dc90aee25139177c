"""The demo app: a guestbook on SQLite, as a plain PEP 3333 application.

Serve it with ``sluice serve examples.demo:app`` and open
http://127.0.0.1:8000. The database file is ``demo.sqlite3`` in the current
directory, or the path in ``SLUICE_DEMO_DB``. No other service is needed.
"""

from __future__ import annotations

import html
import os
import sqlite3
import threading
from collections.abc import Callable
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qs

_local = threading.local()
_MAX_FORM = 16 * 1024


def _db() -> sqlite3.Connection:
    conn: sqlite3.Connection | None = getattr(_local, "conn", None)
    if conn is None:
        conn = sqlite3.connect(os.environ.get("SLUICE_DEMO_DB", "demo.sqlite3"))
        conn.execute(
            "CREATE TABLE IF NOT EXISTS entries (id INTEGER PRIMARY KEY, name TEXT, message TEXT)"
        )
        _local.conn = conn
    return conn


def _page(entries: list[tuple[str, str]], error: str = "") -> bytes:
    items = "".join(f"<li><b>{html.escape(n)}</b>: {html.escape(m)}</li>" for n, m in entries)
    notice = f'<p class="error">{html.escape(error)}</p>' if error else ""
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>sluice demo</title></head>"
        "<body><h1>sluice guestbook</h1>"
        f"{notice}"
        "<form method='post' action='/'>"
        "<input name='name' placeholder='name' required> "
        "<input name='message' placeholder='message' required> "
        "<button>Sign</button></form>"
        f"<ul>{items}</ul></body></html>"
    ).encode()


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """Show the guestbook (GET /), add an entry (POST /), else 404 / 405."""
    method = environ["REQUEST_METHOD"]
    if environ["PATH_INFO"] != "/":
        body = b"Not Found\n"
        start_response("404 Not Found", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
        return [body]
    db = _db()
    if method == "POST":
        length = int(environ.get("CONTENT_LENGTH") or 0)
        if length > _MAX_FORM:
            body = b"Form too large\n"
            start_response("413 Content Too Large", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
            return [body]
        form = parse_qs(environ["wsgi.input"].read(length).decode("utf-8", "replace"))
        name = form.get("name", [""])[0].strip()[:100]
        message = form.get("message", [""])[0].strip()[:500]
        if name and message:
            with db:
                db.execute("INSERT INTO entries (name, message) VALUES (?, ?)", (name, message))
            start_response("303 See Other", [("Location", "/"), ("Content-Length", "0")])
            return []
        entries = db.execute("SELECT name, message FROM entries ORDER BY id DESC LIMIT 50").fetchall()
        body = _page(entries, "Both name and message are required.")
        start_response("400 Bad Request", [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(body)))])
        return [body]
    if method not in ("GET", "HEAD"):
        body = b"Method Not Allowed\n"
        start_response(
            "405 Method Not Allowed",
            [("Allow", "GET, HEAD, POST"), ("Content-Type", "text/plain"), ("Content-Length", str(len(body)))],
        )
        return [body]
    entries = db.execute("SELECT name, message FROM entries ORDER BY id DESC LIMIT 50").fetchall()
    body = _page(entries)
    start_response("200 OK", [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(body)))])
    return [body]
