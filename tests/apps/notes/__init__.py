"""notes: a small notebook app written the way a Flask application is written.

Each user keeps private notes (a title, a body, and a pin that keeps a note at
the top of the list). The package is an application factory with two
blueprints (``auth`` and ``notes``), Jinja2 templates, a static stylesheet,
and a SQLite database created by the ``init-db`` command.

Its only lines that name the web framework are its imports from it:
tests/test_notes_app.py runs ``notes_tests`` against this package as it is,
and against a copy whose framework imports name Flask, on Flask.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from sluice import App as Flask
from sluice import render_template


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the application.

    Args:
        test_config: settings that replace the instance folder's
            ``config.py`` (tests pass ``TESTING``, ``DATABASE`` and a cheap
            ``PASSWORD_ITERATIONS``).

    Returns:
        The configured app, its database hooks, commands and blueprints
        registered.
    """
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(
        # Replaced in production by the instance folder's config.py.
        SECRET_KEY="notes-development-key",
        DATABASE=os.path.join(app.instance_path, "notes.sqlite"),
        # OWASP's 2023 figure for PBKDF2-HMAC-SHA256.
        PASSWORD_ITERATIONS=600_000,
    )
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
    else:
        app.config.from_mapping(test_config)
    os.makedirs(app.instance_path, exist_ok=True)

    from . import auth
    from . import db
    from . import notes

    db.init_app(app)
    app.register_blueprint(auth.bp)
    app.register_blueprint(notes.bp)

    @app.errorhandler(404)
    def page_not_found(error: Exception) -> tuple[str, int]:
        return render_template("404.html", error=error), 404

    return app
