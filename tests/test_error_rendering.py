"""HTTPError responses as a client sees them: HTML or JSON by ``Accept``, and the app's and blueprints' handlers."""

from __future__ import annotations

import json
from collections.abc import Callable
from html import escape
from typing import Any

import pytest

from sluice.app import App
from sluice.blueprints import Blueprint
from sluice.errors import HTTPError
from sluice.errors import InternalServerError
from sluice.errors import MethodNotAllowed
from sluice.errors import NotFound
from sluice.errors import ServiceUnavailable
from sluice.errors import abort
from sluice.testing import TestResponse
from sluice.wrappers.response import Response
from tests.validated import validated_client

HTML = "text/html; charset=utf-8"
RAW_DESCRIPTION = "No <script>alert('x')</script> & no \"quotes\"."
ESCAPED_DESCRIPTION = b"No &lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; no &quot;quotes&quot;."
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


class PaymentRequired(HTTPError):
    """A status sluice has no class for, defined by an application."""

    code = 402
    description = "Pay first."


class AppError(Exception):
    pass


class SpecificError(AppError):
    pass


class OtherError(AppError):
    pass


class MissingItem(NotFound):
    description = "No such item."


def make_app() -> App:
    app = App(__name__)
    # Render the 500 of an unhandled exception instead of raising it in the test.
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/missing")
    def missing() -> str:
        abort(404)

    @app.route("/bad", methods=["GET", "POST"])
    def bad() -> str:
        abort(400, description=RAW_DESCRIPTION)

    @app.get("/only-get")
    def only_get() -> str:
        return "ok"

    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError("secret detail")

    @app.get("/unavailable")
    def unavailable() -> str:
        raise ServiceUnavailable(headers=[("Retry-After", "30")])

    @app.get("/pay")
    def pay() -> str:
        raise PaymentRequired()

    return app


# (method, path, code, reason phrase, description): one of each way an error arises.
ERRORS = [
    pytest.param("GET", "/missing", 404, "Not Found", NotFound.description, id="abort-404"),
    pytest.param("GET", "/bad", 400, "Bad Request", RAW_DESCRIPTION, id="abort-400-description"),
    pytest.param("POST", "/only-get", 405, "Method Not Allowed", MethodNotAllowed.description, id="routing-405"),
    pytest.param("GET", "/no/such/url", 404, "Not Found", NotFound.description, id="routing-404"),
    pytest.param("GET", "/boom", 500, "Internal Server Error", InternalServerError.description, id="unhandled-500"),
    pytest.param("GET", "/pay", 402, "Payment Required", PaymentRequired.description, id="app-defined-402"),
]


def _open(method: str, path: str, accept: str | None = None) -> TestResponse:
    headers = {"Accept": accept} if accept is not None else {}
    return validated_client(make_app()).open(path, method=method, headers=headers)


@pytest.mark.parametrize(("method", "path", "code", "name", "description"), ERRORS)
def test_error_page_without_accept_is_html(method: str, path: str, code: int, name: str, description: str) -> None:
    r = _open(method, path)
    assert r.status == f"{code} {name.upper()}"  # as Werkzeug; the page keeps the title-case name
    assert r.header("Content-Type") == HTML
    assert r.header("Content-Length") == str(len(r.data))
    assert f"<title>{code} {name}</title>".encode() in r.data
    assert f"<h1>{name}</h1>".encode() in r.data
    assert f"<p>{escape(description)}</p>".encode() in r.data


@pytest.mark.parametrize(("method", "path", "code", "name", "description"), ERRORS)
def test_error_page_with_accept_json_is_json(method: str, path: str, code: int, name: str, description: str) -> None:
    r = _open(method, path, accept="application/json")
    assert r.status == f"{code} {name.upper()}"  # as Werkzeug; the page keeps the title-case name
    assert r.header("Content-Type") == "application/json"
    assert r.header("Content-Length") == str(len(r.data))
    assert r.get_json() == {"code": code, "error": name, "description": description}


def test_error_page_html_escapes_description() -> None:
    r = _open("GET", "/bad")
    assert b"<script>" not in r.data
    assert f"<p>{ESCAPED_DESCRIPTION.decode()}</p>".encode() in r.data


def test_error_page_json_keeps_description_verbatim() -> None:
    r = _open("GET", "/bad", accept="application/json")
    assert r.get_json()["description"] == RAW_DESCRIPTION


@pytest.mark.parametrize("accept", [None, "application/json"], ids=["html", "json"])
def test_error_405_sends_allow_in_either_format(accept: str | None) -> None:
    r = _open("DELETE", "/only-get", accept=accept)
    assert r.status_code == 405
    assert r.header("Allow") == "GET, HEAD, OPTIONS"


@pytest.mark.parametrize("accept", [None, "application/json"], ids=["html", "json"])
def test_error_500_hides_exception_detail(accept: str | None) -> None:
    r = _open("GET", "/boom", accept=accept)
    assert r.status_code == 500
    assert b"secret detail" not in r.data and b"RuntimeError" not in r.data


@pytest.mark.parametrize("accept", [None, "application/json"], ids=["html", "json"])
def test_error_extra_headers_reach_client(accept: str | None) -> None:
    r = _open("GET", "/unavailable", accept=accept)
    assert r.status_code == 503
    assert r.header("Retry-After") == "30"


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        pytest.param("*/*", HTML, id="wildcard-only"),
        pytest.param("", HTML, id="empty"),
        pytest.param("application/json", "application/json", id="json-only"),
        pytest.param("application/json, text/html;q=0.9", "application/json", id="json-rated-higher"),
        pytest.param("text/html, application/json;q=0.5", HTML, id="html-rated-higher"),
        pytest.param("application/json, text/html", HTML, id="equal-rating-goes-to-html"),
        pytest.param("application/json, text/plain, */*", "application/json", id="json-over-wildcard"),
        pytest.param("application/*", "application/json", id="application-range"),
        pytest.param("application/json;q=0, */*", HTML, id="json-refused"),
        pytest.param("text/plain", HTML, id="neither-accepted"),
        pytest.param(BROWSER_ACCEPT, HTML, id="browser"),
    ],
)
def test_error_page_format_follows_accept(accept: str, expected: str) -> None:
    r = _open("GET", "/missing", accept=accept)
    assert r.status_code == 404
    assert r.header("Content-Type") == expected


def test_error_page_for_json_request_body_without_accept_is_html() -> None:
    # Only Accept chooses the format (Request.prefers_json); the body's
    # Content-Type says what the client sent, not what it reads.
    r = validated_client(make_app()).post("/bad", json={"k": 1})
    assert r.status_code == 400
    assert r.header("Content-Type") == HTML


def test_error_head_request_has_headers_and_no_body() -> None:
    c = validated_client(make_app())
    get = c.get("/missing")
    head = c.head("/missing")
    assert (head.status_code, head.data) == (404, b"")
    assert head.header("Content-Type") == HTML
    assert head.header("Content-Length") == get.header("Content-Length")


def _reply(scope: str) -> Callable[[Exception], tuple[str, int]]:
    """A handler answering ``"<scope> <exception class>"``, with the error's code (409 for others)."""

    def handler(exc: Exception) -> tuple[str, int]:
        code = exc.code if isinstance(exc, HTTPError) else 409
        return f"{scope} {type(exc).__name__}", code

    return handler


def make_nested_app() -> App:
    """The app, ``admin`` and ``admin.users`` each handle some codes; ``blog`` handles none."""
    app = App(__name__)
    admin = Blueprint("admin", __name__, url_prefix="/admin")
    users = Blueprint("users", __name__, url_prefix="/users")
    blog = Blueprint("blog", __name__, url_prefix="/blog")
    for code in (403, 404, 410):
        app.errorhandler(code)(_reply("app"))
    for code in (403, 404):
        admin.errorhandler(code)(_reply("admin"))
    users.errorhandler(404)(_reply("admin.users"))

    def aborts(code: int) -> Callable[[], str]:
        def view() -> str:
            abort(code)

        return view

    app.add_url_rule("/missing", "missing", aborts(404))
    for bp in (admin, users, blog):
        bp.add_url_rule("/missing", "missing", aborts(404))
        bp.add_url_rule("/forbidden", "forbidden", aborts(403))
        bp.add_url_rule("/gone", "gone", aborts(410))
    admin.register_blueprint(users)
    app.register_blueprint(admin)
    app.register_blueprint(blog)
    return app


@pytest.mark.parametrize(
    ("path", "status", "body"),
    [
        pytest.param("/missing", 404, "app NotFound", id="app-route"),
        pytest.param("/admin/missing", 404, "admin NotFound", id="parent-own"),
        pytest.param("/admin/users/missing", 404, "admin.users NotFound", id="child-over-parent"),
        pytest.param("/admin/users/forbidden", 403, "admin Forbidden", id="parent-when-child-has-none"),
        pytest.param("/admin/users/gone", 410, "app Gone", id="app-when-blueprints-have-none"),
        pytest.param("/admin/gone", 410, "app Gone", id="app-when-parent-has-none"),
        pytest.param("/blog/missing", 404, "app NotFound", id="sibling-without-handlers"),
        pytest.param("/blog/forbidden", 403, "app Forbidden", id="sibling-other-code"),
    ],
)
def test_blueprint_handler_innermost_scope_wins(path: str, status: int, body: str) -> None:
    r = validated_client(make_nested_app()).get(path)
    assert (r.status_code, r.text) == (status, body)


def make_mro_app() -> App:
    app = App(__name__)
    api = Blueprint("api", __name__, url_prefix="/api")
    api.errorhandler(AppError)(_reply("api"))
    api.errorhandler(SpecificError)(_reply("api"))
    api.errorhandler(HTTPError)(_reply("api"))
    app.errorhandler(OtherError)(_reply("app"))

    @api.get("/specific")
    def specific() -> str:
        raise SpecificError()

    @api.get("/other")
    def other() -> str:
        raise OtherError()

    @api.get("/forbidden")
    def forbidden() -> str:
        abort(403)

    @app.get("/other")
    def app_other() -> str:
        raise OtherError()

    app.register_blueprint(api)
    return app


@pytest.mark.parametrize(
    ("path", "status", "body"),
    [
        pytest.param("/api/specific", 409, "api SpecificError", id="exact-class"),
        pytest.param("/api/other", 409, "api OtherError", id="base-class-in-blueprint-before-app-exact-class"),
        pytest.param("/api/forbidden", 403, "api Forbidden", id="httperror-base-class"),
        pytest.param("/other", 409, "app OtherError", id="app-route-app-handler"),
    ],
)
def test_blueprint_handler_most_specific_class_along_mro(path: str, status: int, body: str) -> None:
    r = validated_client(make_mro_app()).get(path)
    assert (r.status_code, r.text) == (status, body)


def test_blueprint_generic_handler_wins_over_app_code_handler() -> None:
    # A blueprint's handlers are searched before the app's (Blueprint.errorhandler).
    app = App(__name__)
    api = Blueprint("api", __name__, url_prefix="/api")
    api.errorhandler(HTTPError)(_reply("api"))
    app.errorhandler(404)(_reply("app"))

    @api.get("/missing")
    def missing() -> str:
        abort(404)

    app.register_blueprint(api)
    assert validated_client(app).get("/api/missing").text == "api NotFound"


@pytest.mark.parametrize(
    "registered",
    [pytest.param(404, id="by-code"), pytest.param(NotFound, id="by-class")],
)
@pytest.mark.parametrize(
    ("path", "description"),
    [
        pytest.param("/shop/abort", "no such shelf", id="abort-404"),
        pytest.param("/shop/subclass", MissingItem.description, id="notfound-subclass"),
    ],
)
def test_blueprint_handler_by_code_or_class_gets_the_error(
    registered: int | type[BaseException], path: str, description: str
) -> None:
    app = App(__name__)
    shop = Blueprint("shop", __name__, url_prefix="/shop")
    received: list[NotFound] = []

    @shop.errorhandler(registered)
    def not_found(exc: NotFound) -> tuple[str, int]:
        received.append(exc)
        return exc.description, 404

    @shop.get("/abort")
    def by_abort() -> str:
        abort(404, description="no such shelf")

    @shop.get("/subclass")
    def by_subclass() -> str:
        raise MissingItem()

    app.register_blueprint(shop)
    r = validated_client(app).get(path)
    assert (r.status_code, r.text) == (404, description)
    assert len(received) == 1 and isinstance(received[0], NotFound)


def test_handler_for_subclass_wins_over_code_handler_of_its_base() -> None:
    app = App(__name__)
    app.errorhandler(404)(_reply("by code"))
    app.errorhandler(MissingItem)(_reply("by class"))

    @app.get("/item")
    def item() -> str:
        raise MissingItem()

    assert validated_client(app).get("/item").text == "by class MissingItem"


def make_json_api_app() -> App:
    """An ``api`` blueprint answers every error in JSON; the app keeps the HTML pages."""
    app = App(__name__)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    api = Blueprint("api", __name__, url_prefix="/api")

    @api.errorhandler(HTTPError)
    def api_error(exc: HTTPError) -> tuple[dict[str, Any], int]:
        return {"status": exc.code, "message": exc.description}, exc.code

    @api.get("/items/<int:item_id>")
    def item(item_id: int) -> str:
        abort(404, description=f"no item {item_id}")

    @api.get("/boom")
    def boom() -> str:
        raise RuntimeError("secret detail")

    @app.get("/page")
    def page() -> str:
        abort(404)

    app.register_blueprint(api)
    return app


@pytest.mark.parametrize("accept", [None, BROWSER_ACCEPT], ids=["no-accept", "browser"])
def test_blueprint_json_errors_while_app_renders_html(accept: str | None) -> None:
    c = validated_client(make_json_api_app())
    headers = {"Accept": accept} if accept is not None else {}
    api = c.get("/api/items/7", headers=headers)
    assert (api.status_code, api.header("Content-Type")) == (404, "application/json")
    assert api.get_json() == {"status": 404, "message": "no item 7"}
    page = c.get("/page", headers=headers)
    assert (page.status_code, page.header("Content-Type")) == (404, HTML)


def test_blueprint_json_handler_renders_unhandled_exception_as_500() -> None:
    r = validated_client(make_json_api_app()).get("/api/boom")
    assert (r.status_code, r.header("Content-Type")) == (500, "application/json")
    assert r.get_json() == {"status": 500, "message": InternalServerError.description}
    assert b"secret detail" not in r.data


@pytest.mark.parametrize(
    ("method", "path", "code"),
    [pytest.param("GET", "/api/nope", 404, id="404"), pytest.param("POST", "/api/items/7", 405, id="405")],
)
def test_blueprint_handler_not_used_for_routing_errors_under_its_prefix(method: str, path: str, code: int) -> None:
    # A URL that matched no rule belongs to no blueprint, so the app renders it.
    r = validated_client(make_json_api_app()).open(path, method=method)
    assert (r.status_code, r.header("Content-Type")) == (code, HTML)


def test_blueprint_handler_handles_abort_in_its_before_request_hook() -> None:
    app = App(__name__)
    admin = Blueprint("admin", __name__, url_prefix="/admin")
    admin.errorhandler(403)(_reply("admin"))

    @admin.before_request
    def gate() -> None:
        abort(403)

    @admin.get("/")
    def index() -> str:
        return "never"

    app.register_blueprint(admin)
    r = validated_client(app).get("/admin/")
    assert (r.status_code, r.text) == (403, "admin Forbidden")


def test_error_response_passes_through_after_request_hooks() -> None:
    app = App(__name__)
    shop = Blueprint("shop", __name__, url_prefix="/shop")

    @app.after_request
    def app_after(response: Response) -> Response:
        response.headers.add("X-Hooks", "app")
        return response

    @shop.after_request
    def shop_after(response: Response) -> Response:
        response.headers.add("X-Hooks", "shop")
        return response

    @shop.get("/missing")
    def missing() -> str:
        abort(404)

    app.register_blueprint(shop)
    r = validated_client(app).get("/shop/missing", headers={"Accept": "application/json"})
    assert r.status_code == 404
    assert json.loads(r.data)["code"] == 404
    assert r.header_list("X-Hooks") == ["shop", "app"]
