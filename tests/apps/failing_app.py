"""Fixture app that fails on purpose at every step of the request pipeline (DESIGN.md §1).

Each path fails in one place; ``tests/test_error_paths.py`` drives it with the
test client, through the WSGI callable directly, and under ``sluice serve``
(``tests.apps.failing_app:app``, and ``:app_with_500_handler`` for the same
app with an ``errorhandler(500)``).

Paths, and where the request fails:

- ``/ok``: nowhere (200 ``ok``).
- ``/before``: a ``before_request`` hook raises.
- ``/view``: the view raises.
- ``/after``: an ``after_request`` hook raises on the view's 200 response.
- ``/after-always``: an ``after_request`` hook raises on every response,
  the 500 made for its own first failure included.
- ``/view-then-after``: the view raises, then an ``after_request`` hook
  raises on the 500 response.
- ``/handler``: the view raises ``BadlyHandled``, whose error handler raises.
- ``/handled``: the view raises ``Handled``; its handler answers 418.
- ``/forbidden``: the view calls ``abort(403)``.
- ``/none`` and ``/int``: the view returns None or 42, which
  ``make_response`` refuses.
- ``/mw/before`` and ``/mw/after``: the outermost middleware raises before
  calling ``get_response``, or after it returned.
- ``/mw/inner-403`` and ``/mw/inner-error``: the innermost middleware
  raises ``Forbidden`` or a plain exception; the middleware between them
  copies the status it saw into ``X-Outer-Saw``.
- ``/stream``: a generator view yields one chunk, then raises.
- ``/teardown-fails``: a ``teardown_request`` function raises (response 200).
- ``/record/<tag>``: what the teardown functions received for the request
  sent with ``?tag=<tag>`` (JSON), 404 until they ran.

Every exception raised on purpose is a :class:`Boom` whose message names
the place and the request's ``tag`` query argument, so a live test can find
its own traceback in the server's log. Every response gets
``X-After-Request: ran`` from an ``after_request`` hook, unless a hook that
runs before it raised.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field

from sluice.app import App
from sluice.ctx import g
from sluice.ctx import request
from sluice.errors import Forbidden
from sluice.errors import HTTPError
from sluice.errors import NotFound
from sluice.errors import abort
from sluice.wrappers.request import Request
from sluice.wrappers.response import Response

Handler = Callable[[Request], Response]

#: The first chunk ``/stream`` sends before it fails.
STREAM_FIRST_CHUNK = b"first chunk\n"


class Boom(Exception):
    """An exception the app raises on purpose."""


class Handled(Exception):
    """Raised by ``/handled``; its error handler answers 418."""


class BadlyHandled(Exception):
    """Raised by ``/handler``; its error handler raises a :class:`Boom`."""


@dataclass
class Record:
    """What the app saw, for the tests to compare with what the client saw.

    Attributes:
        keep_objects: keep the exception objects in the lists below; a
            long-running server keeps only ``by_tag`` (an exception's
            traceback holds the request it failed in).
        raised: every :class:`Boom` raised, in order.
        teardown_request: the ``exc`` each ``teardown_request`` call received.
        teardown_appcontext: the ``exc`` each ``teardown_appcontext`` call received.
        handler_500: what each ``errorhandler(500)`` call received.
        by_tag: per ``?tag=``, the ``repr`` of the ``exc`` of each teardown kind.
    """

    keep_objects: bool = True

    raised: list[BaseException] = field(default_factory=list)
    teardown_request: list[BaseException | None] = field(default_factory=list)
    teardown_appcontext: list[BaseException | None] = field(default_factory=list)
    handler_500: list[BaseException] = field(default_factory=list)
    by_tag: dict[str, dict[str, str]] = field(default_factory=dict)


def make_app(record: Record, *, with_500_handler: bool = False, failing_500_handler: bool = False) -> App:
    """Return the failing app, recording into ``record``.

    Args:
        record: where the app notes what it raised and what its teardown
            functions received.
        with_500_handler: register an ``errorhandler(500)`` that answers
            ``custom 500`` (status 500, ``X-Handler: 500``).
        failing_500_handler: register an ``errorhandler(500)`` that raises.
    """

    def boom(place: str) -> Boom:
        exc = Boom(f"{place} failed [tag={request.args.get('tag', '')}]")
        if record.keep_objects:
            record.raised.append(exc)
        return exc

    def failing_outer(get_response: Handler) -> Handler:
        def handler(req: Request) -> Response:
            if req.path == "/mw/before":
                raise boom("middleware before get_response")
            response = get_response(req)
            if req.path == "/mw/after":
                raise boom("middleware after get_response")
            return response

        return handler

    def observer(get_response: Handler) -> Handler:
        def handler(req: Request) -> Response:
            response = get_response(req)
            response.headers.set("X-Outer-Saw", str(response.status_code))
            return response

        return handler

    def failing_inner(get_response: Handler) -> Handler:
        def handler(req: Request) -> Response:
            if req.path == "/mw/inner-403":
                raise Forbidden("inner middleware refused")
            if req.path == "/mw/inner-error":
                raise boom("inner middleware")
            return get_response(req)

        return handler

    app = App(__name__, static_folder=None, middleware=[failing_outer, observer])
    app.add_middleware(failing_inner)

    # -- hooks ---------------------------------------------------------------

    @app.before_request
    def before() -> None:
        if request.path == "/before":
            raise boom("before_request")

    @app.after_request
    def mark_after(response: Response) -> Response:
        # Registered first, so it runs last (after hooks run newest first).
        response.headers.set("X-After-Request", "ran")
        return response

    @app.after_request
    def failing_after(response: Response) -> Response:
        path = request.path
        if path == "/after" and response.status_code != 500:
            raise boom("after_request")
        if path == "/after-always":
            raise boom(f"after_request on {response.status_code}")
        if path == "/view-then-after" and response.status_code == 500:
            raise boom("after_request on the 500")
        return response

    @app.teardown_request
    def record_teardown_request(exc: BaseException | None) -> None:
        # Registered first, so it runs after failing_teardown.
        if record.keep_objects:
            record.teardown_request.append(exc)
        tag = request.args.get("tag")
        g.tag = tag
        if tag:
            record.by_tag.setdefault(tag, {})["teardown_request"] = repr(exc)

    @app.teardown_request
    def failing_teardown(exc: BaseException | None) -> None:
        if request.path == "/teardown-fails":
            raise boom("teardown_request")

    @app.teardown_appcontext
    def record_teardown_appcontext(exc: BaseException | None) -> None:
        if record.keep_objects:
            record.teardown_appcontext.append(exc)
        tag = g.get("tag")
        if tag:
            record.by_tag.setdefault(tag, {})["teardown_appcontext"] = repr(exc)

    # -- error handlers --------------------------------------------------------

    @app.errorhandler(Handled)
    def handle_handled(exc: Handled) -> tuple[str, int]:
        return "handled", 418

    @app.errorhandler(BadlyHandled)
    def handle_badly(exc: BadlyHandled) -> str:
        raise boom("error handler")

    if with_500_handler:

        @app.errorhandler(500)
        def handle_500(exc: HTTPError) -> tuple[str, int, dict[str, str]]:
            if record.keep_objects:
                record.handler_500.append(exc)
            return "custom 500", 500, {"X-Handler": "500"}

    elif failing_500_handler:

        @app.errorhandler(500)
        def failing_handle_500(exc: HTTPError) -> str:
            if record.keep_objects:
                record.handler_500.append(exc)
            raise boom("500 handler")

    # -- views -------------------------------------------------------------------

    @app.get("/ok")
    def ok() -> str:
        return "ok"

    @app.get("/before")
    def before_view() -> str:
        return "before_request did not run"

    @app.get("/view")
    def view() -> str:
        raise boom("view")

    @app.get("/after")
    def after_view() -> str:
        return "after_request did not run"

    @app.get("/after-always")
    def after_always_view() -> str:
        return "after_request did not run"

    @app.get("/view-then-after")
    def view_then_after() -> str:
        raise boom("view")

    @app.get("/handler")
    def handler_view() -> str:
        raise BadlyHandled("the view's error, for a handler that fails")

    @app.get("/handled")
    def handled_view() -> str:
        raise Handled("the view's error, handled")

    @app.get("/forbidden")
    def forbidden_view() -> str:
        abort(403)

    @app.get("/none")
    def none() -> None:
        return None

    @app.get("/int")
    def int_view() -> int:
        return 42

    @app.get("/mw/before")
    def mw_before() -> str:
        return "the middleware did not raise"

    @app.get("/mw/after")
    def mw_after() -> str:
        return "the middleware did not raise"

    @app.get("/mw/inner-403")
    def mw_inner_403() -> str:
        return "the inner middleware did not refuse"

    @app.get("/mw/inner-error")
    def mw_inner_error() -> str:
        return "the inner middleware did not raise"

    @app.get("/stream")
    def stream() -> Iterator[bytes]:
        def generate() -> Iterator[bytes]:
            yield STREAM_FIRST_CHUNK
            raise boom("stream")

        return generate()

    @app.get("/teardown-fails")
    def teardown_fails() -> str:
        return "ok"

    @app.get("/record/<tag>")
    def recorded(tag: str) -> dict[str, str]:
        seen = record.by_tag.get(tag)
        if seen is None:
            raise NotFound(f"no request with tag {tag!r} was torn down yet")
        return seen

    return app


#: What the module's apps saw (used by live tests through ``/record/<tag>``).
record = Record(keep_objects=False)
app = make_app(record)
app_with_500_handler = make_app(record, with_500_handler=True)
