"""The demo app: a guestbook where visitors leave a message and, if they like, a file.

From a clone of the repository, ``sluice serve examples.demo:app`` serves it
on http://127.0.0.1:8000 with no other service. It uses the framework's kit:

- ``create_app()``, an app factory, with settings from ``SLUICE_*`` variables;
- templates with a base layout (``templates/``) and a stylesheet (``static/``);
- a form with a file upload (``views.py``): ``request.files``,
  ``secure_filename``, ``FileStorage.save`` and a friendly 413 page for a
  body over ``MAX_CONTENT_LENGTH``;
- the file's download with ``send_from_directory``, which answers ranges;
- flashed messages after a post, shown by the layout;
- SQLite opened on ``g`` and closed at teardown, and an ``init-db`` command
  (``db.py``).

The database and the uploads live in the app's instance folder
(``app.instance_path``, sluice's default unless ``SLUICE_DEMO_INSTANCE`` names
another); ``init-db`` prints where the database is.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from typing import Any

from sluice import App
from sluice import render_template
from sluice.errors import HTTPError

from examples.demo import db
from examples.demo import views


def create_app(config: Mapping[str, Any] | None = None, instance_path: str | None = None) -> App:
    """Build the guestbook app.

    Settings come from, last one winning: the defaults below, ``SLUICE_*``
    environment variables (``SLUICE_SECRET_KEY``, ``SLUICE_MAX_CONTENT_LENGTH``…),
    then ``config``.

    Args:
        config: settings to use over the others (tests pass their own).
        instance_path: the folder for the database and the uploads; default
            ``SLUICE_DEMO_INSTANCE`` if set, else sluice's default
            instance folder.

    Returns:
        The app, ready to serve. The instance folder and the table are
        created before the first request, when missing.
    """
    instance_path = instance_path or os.environ.get("SLUICE_DEMO_INSTANCE")
    app = App(__name__, instance_path=os.path.abspath(instance_path) if instance_path else None)
    app.config.from_mapping(
        DATABASE=os.path.join(app.instance_path, "demo.sqlite3"),
        UPLOAD_FOLDER=os.path.join(app.instance_path, "uploads"),
        MAX_CONTENT_LENGTH=4 * 1024 * 1024,
    )
    app.config.from_prefixed_env()
    if config is not None:
        app.config.from_mapping(config)
    if not app.config["SECRET_KEY"]:
        # Flashed messages ride in the signed session cookie, which needs a key.
        # A key made here lives as long as this process: a restart forgets
        # pending messages (and every process would have its own key). Set
        # SLUICE_SECRET_KEY to keep one across restarts.
        app.config["SECRET_KEY"] = secrets.token_hex(32)

    db.init_app(app)
    app.register_blueprint(views.bp)

    @app.errorhandler(413)
    def too_large(exc: HTTPError) -> tuple[str, int]:
        """The layout's page for a post over ``MAX_CONTENT_LENGTH``, instead of the plain 413."""
        return render_template("too_large.html", limit=app.config["MAX_CONTENT_LENGTH"]), 413

    return app


app = create_app()
