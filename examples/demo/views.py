"""The guestbook's pages: the board with its form, posting a message, downloading a file."""

from __future__ import annotations

import os
import secrets

from sluice import Blueprint
from sluice import Response
from sluice import abort
from sluice import current_app
from sluice import flash
from sluice import redirect
from sluice import render_template
from sluice import request
from sluice import secure_filename
from sluice import send_from_directory
from sluice import url_for

from examples.demo.db import get_db

bp = Blueprint("guestbook", __name__)

NAME_MAX = 60
MESSAGE_MAX = 2000


@bp.app_template_filter("filesize")
def filesize(size: int) -> str:
    """``1536`` -> ``"1.5 KiB"``: a byte count for people."""
    value = float(size)
    for unit in ("bytes", "KiB", "MiB"):
        if value < 1024 or unit == "MiB":
            break
        value /= 1024
    return f"{size} bytes" if unit == "bytes" else f"{value:.1f} {unit}"


def _board(**context: object) -> str:
    entries = get_db().execute("SELECT * FROM entries ORDER BY id DESC LIMIT 100").fetchall()
    return render_template("index.html", entries=entries, name_max=NAME_MAX, message_max=MESSAGE_MAX, **context)


@bp.get("/")
def index() -> str:
    """The board: the form, then the newest messages first."""
    return _board(form={})


@bp.post("/")
def post() -> Response | tuple[str, int]:
    """Add a message and its optional file, then go back to the board (POST, redirect, GET)."""
    name = request.form.get("name", "").strip()
    message = request.form.get("message", "").strip()
    upload = request.files.get("attachment")
    problems = []
    if not name or len(name) > NAME_MAX:
        problems.append(f"Please give a name of 1 to {NAME_MAX} characters.")
    if not message or len(message) > MESSAGE_MAX:
        problems.append(f"Please write a message of 1 to {MESSAGE_MAX} characters.")
    if problems:
        for problem in problems:
            flash(problem, "error")
        # Shown again with what the visitor typed; a file has to be chosen again.
        return _board(form=request.form), 400

    filename = stored = size = None
    # A FileStorage is false when no file was chosen (the browser still sends the field).
    if upload:
        filename = upload.filename
        # Never build a path from the client's name: secure_filename() keeps a
        # harmless ASCII version, and the random prefix keeps two uploads of
        # "photo.jpg" apart. The name as sent is kept for display and download.
        stored = f"{secrets.token_hex(8)}-{secure_filename(filename or '') or 'file'}"
        path = os.path.join(current_app.config["UPLOAD_FOLDER"], stored)
        upload.save(path)
        size = os.path.getsize(path)
    db = get_db()
    with db:
        db.execute(
            "INSERT INTO entries (name, message, filename, stored, size) VALUES (?, ?, ?, ?, ?)",
            (name, message, filename, stored, size),
        )
    flash(f"Thank you, {name}: your message is on the board.", "success")
    return redirect(url_for("guestbook.index"), code=303)


@bp.get("/files/<int:entry_id>")
def download(entry_id: int) -> Response:
    """Send a message's file as a download; ranges and conditional requests come with it."""
    row = get_db().execute("SELECT filename, stored FROM entries WHERE id = ?", (entry_id,)).fetchone()
    if row is None or row["stored"] is None:
        abort(404, description="This message has no file.")
    return send_from_directory(
        current_app.config["UPLOAD_FOLDER"],
        row["stored"],
        as_attachment=True,
        download_name=row["filename"],
    )
