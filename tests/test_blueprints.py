"""Tests of blueprints: prefixes, endpoints, nesting, scoped hooks and handlers."""

from __future__ import annotations

from typing import Any

import pytest

from sluice.app import App
from sluice.blueprints import Blueprint
from sluice.ctx import request
from sluice.errors import NotFound
from sluice.helpers import url_for
from sluice.wrappers.response import Response
from tests.validated import validated_client


def build() -> tuple[App, list[str]]:
    events: list[str] = []
    app = App(__name__)
    admin = Blueprint("admin", __name__, url_prefix="/admin")
    users = Blueprint("users", __name__, url_prefix="/users")

    @app.before_request
    def app_before() -> None:
        events.append("app before")

    @app.after_request
    def app_after(response: Response) -> Response:
        events.append("app after")
        return response

    @admin.before_request
    def admin_before() -> None:
        events.append(f"admin before {request.blueprint}")

    @admin.after_request
    def admin_after(response: Response) -> Response:
        events.append("admin after")
        return response

    @users.before_request
    def users_before() -> None:
        events.append("users before")

    @admin.get("/")
    def index() -> str:
        return url_for(".index") + " " + url_for("admin.users.show", user_id=3)

    @users.get("/<int:user_id>")
    def show(user_id: int) -> dict[str, Any]:
        return {"endpoint": request.endpoint, "blueprint": request.blueprint, "self": url_for(".show", user_id=user_id)}

    @users.get("/missing")
    def missing() -> str:
        raise NotFound()

    @users.errorhandler(404)
    def users_404(exc: NotFound) -> tuple[str, int]:
        return "no such user", 404

    @app.get("/")
    def home() -> str:
        raise NotFound()

    admin.register_blueprint(users)
    app.register_blueprint(admin)
    return app, events


def test_blueprint_prefix_and_nested_endpoint() -> None:
    app, _ = build()
    c = validated_client(app)
    assert c.get("/admin/").text == "/admin/ /admin/users/3"
    assert c.get("/admin/users/7").get_json() == {
        "endpoint": "admin.users.show",
        "blueprint": "admin.users",
        "self": "/admin/users/7",
    }


def test_blueprint_hooks_scoped_and_ordered() -> None:
    app, events = build()
    c = validated_client(app)
    c.get("/admin/users/1")
    assert events == ["app before", "admin before admin.users", "users before", "admin after", "app after"]
    events.clear()
    c.get("/admin/")
    assert events == ["app before", "admin before admin", "admin after", "app after"]


def test_blueprint_error_handler_only_for_its_requests() -> None:
    app, _ = build()
    c = validated_client(app)
    assert c.get("/admin/users/missing").text == "no such user"
    assert c.get("/").status_code == 404
    assert c.get("/").text != "no such user"


def test_blueprint_registered_twice_needs_a_new_name() -> None:
    app = App(__name__)
    bp = Blueprint("bp", __name__)

    @bp.get("/x")
    def x() -> str:
        return request.endpoint or ""

    app.register_blueprint(bp, url_prefix="/one")
    with pytest.raises(ValueError, match="already registered; pass name="):
        app.register_blueprint(bp, url_prefix="/two")
    app.register_blueprint(bp, url_prefix="/two", name="bp2")
    c = validated_client(app)
    assert (c.get("/one/x").text, c.get("/two/x").text) == ("bp.x", "bp2.x")


@pytest.mark.parametrize("name", ["", "a.b"])
def test_blueprint_invalid_name_rejected(name: str) -> None:
    with pytest.raises(ValueError, match="must be non-empty and contain no '.'"):
        Blueprint(name, __name__)


def test_blueprint_on_itself_rejected() -> None:
    bp = Blueprint("bp", __name__)
    with pytest.raises(ValueError, match="cannot be registered on itself"):
        bp.register_blueprint(bp)
