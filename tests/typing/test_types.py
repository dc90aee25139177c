"""What mypy infers for typical app code: decorators keep the function's type, proxies are typed.

The ``assert_type`` lines are checked by the suite's mypy run (tests/test_typing.py);
the functions also run, so every line here is valid at runtime too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from typing import NoReturn
from typing import assert_type

from sluice import App
from sluice import Blueprint
from sluice import Request
from sluice import Response
from sluice import abort
from sluice import current_app
from sluice import g
from sluice import jsonify
from sluice import redirect
from sluice import request
from sluice import session
from sluice import url_for
from sluice.app import Config
from sluice.errors import NotFound
from sluice.sessions import Session
from sluice.testing import TestResponse
from sluice.views import MethodView
from sluice.wrappers.datastructures import FileStorage
from sluice.wrappers.datastructures import Headers
from sluice.wrappers.datastructures import MultiDict


def _app() -> App:
    app = App(__name__)
    bp = Blueprint("api", __name__, url_prefix="/api")

    @app.route("/", methods=["GET", "POST"])
    def index() -> str:
        return "index"

    @app.get("/users/<int:user_id>")
    def user(user_id: int) -> dict[str, int]:
        return {"id": user_id}

    @bp.post("/items")
    def create() -> tuple[str, int]:
        return "created", 201

    @app.before_request
    def before() -> None:
        g.started = True

    @app.after_request
    def after(response: Response) -> Response:
        return response

    @app.teardown_request
    def teardown(exc: BaseException | None) -> None:
        pass

    @app.errorhandler(NotFound)
    def not_found(exc: NotFound) -> tuple[str, int]:
        return "nothing here", 404

    @app.on_startup
    def startup() -> None:
        pass

    # Each decorator returns the function unchanged, with its own type
    # (parameter names included: the keyword calls below type-check).
    assert_type(index, Callable[[], str])
    assert_type(user(user_id=1), dict[str, int])
    assert_type(create, Callable[[], tuple[str, int]])
    assert_type(before, Callable[[], None])
    assert_type(after(response=Response("x")), Response)
    assert_type(teardown(exc=None), None)
    assert_type(not_found(exc=NotFound()), tuple[str, int])
    assert_type(startup, Callable[[], None])

    class Items(MethodView):
        def get(self) -> str:
            return "items"

    app.add_url_rule("/items", view_func=Items.as_view("items"))
    app.register_blueprint(bp)

    @app.get("/inspect")
    def inspect() -> Response:
        assert_type(request, Request)
        assert_type(request.method, str)
        assert_type(request.args, MultiDict[str])
        assert_type(request.files, MultiDict[FileStorage])
        assert_type(request.headers, Headers)
        assert_type(request.view_args, dict[str, Any] | None)
        assert_type(request.get_json(silent=True), Any)
        assert_type(session, Session)
        assert_type(current_app, App)
        assert_type(current_app.config, Config)
        assert_type(g.started, Any)
        assert_type(url_for("user", user_id=1), str)
        assert_type(redirect("/"), Response)
        return jsonify(method=request.method, started=g.started)

    return app


def test_typed_app_code_runs() -> None:
    client = _app().test_client()
    response = client.get("/inspect")
    assert_type(response, TestResponse)
    assert_type(response.status_code, int)
    assert_type(response.data, bytes)
    assert response.get_json() == {"method": "GET", "started": True}
    assert client.get("/users/7").get_json() == {"id": 7}
    assert client.post("/api/items").status_code == 201
    assert client.get("/items").text == "items"


def test_abort_never_returns() -> None:
    def check() -> NoReturn:
        abort(404)

    assert_type(check, Callable[[], NoReturn])
    try:
        check()
    except NotFound as exc:
        assert exc.code == 404
    else:  # pragma: no cover - abort always raises
        raise AssertionError("abort returned")
