"""A templated sluice app: layouts, blueprints with template folders, flashed messages, a streamed page.

Served by ``sluice serve tests.apps.templated:app`` in live tests and used
through the test client by tests/test_templating.py and tests/test_flashing.py.
Folders: ``templates/`` (the app's), ``admin_templates/`` (the admin
blueprint's) and ``reports_templates/`` (the nested ``admin.reports``
blueprint's). ``shadow.html`` exists in all three: the app's must win.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sluice import flash
from sluice import g
from sluice import redirect
from sluice import render_template
from sluice import request
from sluice import stream_template
from sluice import url_for
from sluice import App
from sluice import Blueprint


def create_app(**config: Any) -> App:
    """Build the app; ``config`` updates ``app.config``."""
    app = App(__name__)
    app.config.update(SECRET_KEY="templated-test-secret-0123456789", SITE_NAME="Sluice <Site>", **config)
    admin = Blueprint("admin", __name__, url_prefix="/admin", template_folder="admin_templates")
    reports = Blueprint("reports", __name__, url_prefix="/reports", template_folder="reports_templates")

    @app.before_request
    def load_user() -> None:
        g.user = request.args.get("user", "anonymous")

    @app.context_processor
    def site() -> dict[str, Any]:
        return {"site": "app", "scope": "app"}

    @admin.context_processor
    def admin_section() -> dict[str, Any]:
        return {"section": "admin", "scope": "admin"}

    @reports.context_processor
    def reports_section() -> dict[str, Any]:
        return {"scope": "admin.reports"}

    @admin.app_context_processor
    def everywhere() -> dict[str, Any]:
        return {"everywhere": "yes"}

    @admin.app_template_filter("shout")
    def shout(value: str) -> str:
        return value.upper() + "!"

    @app.get("/")
    def index() -> str:
        return render_template("index.html", title="Home <&>")

    @app.get("/flash")
    def flash_and_redirect() -> Any:
        flash(request.args.get("message", "saved"), request.args.get("category", "message"))
        return redirect(url_for("index"))

    @app.get("/stream")
    def stream() -> Iterator[str]:
        return stream_template("stream.html", items=["a<", "b&", "c"])

    @app.get("/shadow")
    def app_shadow() -> str:
        return render_template("shadow.html")

    @admin.get("/")
    def panel() -> str:
        return render_template("admin/panel.html")

    @admin.get("/shadow")
    def admin_shadow() -> str:
        return render_template("shadow.html")

    @reports.get("/")
    def report() -> str:
        return render_template("report.html")

    admin.register_blueprint(reports)
    app.register_blueprint(admin)
    return app


app = create_app()
