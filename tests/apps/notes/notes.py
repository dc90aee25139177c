"""Notes: the list, one note, and writing, editing and deleting notes."""

from __future__ import annotations

import sqlite3

from sluice import Blueprint
from sluice import Response
from sluice import abort
from sluice import flash
from sluice import g
from sluice import jsonify
from sluice import redirect
from sluice import render_template
from sluice import request
from sluice import url_for

from .auth import login_required
from .db import get_db

bp = Blueprint("notes", __name__)


@bp.route("/")
def index() -> str:
    notes = []
    if g.user is not None:
        notes = (
            get_db()
            .execute(
                "SELECT id, title, body, pinned, updated FROM note WHERE owner_id = ?"
                " ORDER BY pinned DESC, updated DESC, id DESC",
                (g.user["id"],),
            )
            .fetchall()
        )
    return render_template("notes/index.html", notes=notes)


def get_note(note_id: int) -> sqlite3.Row:
    """Return the current user's note ``note_id``.

    Raises:
        NotFound: there is no such note (404).
        Forbidden: the note belongs to someone else (403).
    """
    note = get_db().execute("SELECT * FROM note WHERE id = ?", (note_id,)).fetchone()
    if note is None:
        abort(404, f"Note {note_id} does not exist.")
    if note["owner_id"] != g.user["id"]:
        abort(403)
    row: sqlite3.Row = note
    return row


def read_form() -> tuple[str, str, bool] | None:
    """Return the posted title, body and pin, or None after flashing what is missing."""
    title = request.form["title"].strip()
    if not title:
        flash("A note needs a title.", "error")
        return None
    return title, request.form.get("body", ""), "pinned" in request.form


@bp.route("/new", methods=("GET", "POST"))
@login_required
def create() -> str | Response:
    if request.method == "POST":
        fields = read_form()
        if fields is not None:
            db = get_db()
            with db:
                db.execute(
                    "INSERT INTO note (owner_id, title, body, pinned) VALUES (?, ?, ?, ?)",
                    (g.user["id"], *fields),
                )
            flash(f"Saved “{fields[0]}”.", "success")
            return redirect(url_for("notes.index"))
    return render_template("notes/create.html")


@bp.route("/<int:note_id>")
@login_required
def detail(note_id: int) -> str:
    return render_template("notes/detail.html", note=get_note(note_id))


@bp.route("/<int:note_id>/edit", methods=("GET", "POST"))
@login_required
def update(note_id: int) -> str | Response:
    note = get_note(note_id)
    if request.method == "POST":
        fields = read_form()
        if fields is not None:
            db = get_db()
            with db:
                db.execute(
                    "UPDATE note SET title = ?, body = ?, pinned = ?, updated = datetime('now') WHERE id = ?",
                    (*fields, note_id),
                )
            return redirect(url_for("notes.detail", note_id=note_id))
    return render_template("notes/update.html", note=note)


@bp.route("/<int:note_id>/delete", methods=("POST",))
@login_required
def delete(note_id: int) -> Response:
    note = get_note(note_id)
    db = get_db()
    with db:
        db.execute("DELETE FROM note WHERE id = ?", (note_id,))
    flash(f"Deleted “{note['title']}”.", "info")
    return redirect(url_for("notes.index"))


@bp.route("/export.json")
@login_required
def export() -> Response:
    rows = get_db().execute(
        "SELECT id, title, body, pinned FROM note WHERE owner_id = ? ORDER BY id", (g.user["id"],)
    )
    return jsonify(
        owner=g.user["username"],
        notes=[{"id": r["id"], "title": r["title"], "body": r["body"], "pinned": bool(r["pinned"])} for r in rows],
    )
