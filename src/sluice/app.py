"""The application object: what an app registers, and its resources.

Design: two phases. While the app is set up, decorators register rules,
views, hooks and error handlers (the hook registration is shared with
blueprints: :mod:`sluice.scaffold`). The first request (or :meth:`App.freeze`)
compiles the URL map, the per-endpoint hook plans and the middleware chain
once; registering afterwards raises an error that says what to do. Serving
is :mod:`sluice.pipeline`'s job, the body/close protocol
:mod:`sluice.bodies`', the configuration :mod:`sluice.appconfig`'s,
templates :mod:`sluice.templating`'s and commands :mod:`sluice.commands`'.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from datetime import timedelta
from functools import cached_property
from collections.abc import Callable
from collections.abc import Iterable
from typing import IO
from typing import Any
from typing import TYPE_CHECKING
from typing import TypeVar

from sluice.appconfig import DEFAULTS
from sluice.appconfig import request_limits
from sluice.appconfig import Config
from sluice.commands import AppCommandsMixin
from sluice.ctx import AppContext
from sluice.ctx import RequestContext
from sluice.ctx import _cv_request
from sluice.pipeline import MiddlewareFactory
from sluice.pipeline import Pipeline
from sluice.pipeline import blueprint_scopes
from sluice.routing import Map
from sluice.routing import Rule
from sluice.scaffold import Scaffold
from sluice.scaffold import find_instance_path
from sluice.scaffold import get_root_path
from sluice.sessions import SignedCookieSessionInterface
from sluice.templating import AppTemplating
from sluice.wrappers.request import Request
from sluice.wrappers.response import Response

if TYPE_CHECKING:
    from sluice.json import JSONProvider
    from sluice.testing import TestClient

__all__ = ["App", "Config", "Flask"]

F = TypeVar("F", bound=Callable[..., Any])
WSGIEnviron = dict[str, Any]


class App(Scaffold, Pipeline, AppTemplating, AppCommandsMixin):
    """A WSGI application with a Flask-shaped API.

    Args:
        import_name: the application's module name (``__name__``).
        static_url_path: the URL path of the static files (default ``/`` +
            the static folder's name).
        static_folder: the folder of static files, relative to
            ``root_path``; None serves none.
        template_folder: the folder of templates, relative to ``root_path``.
        instance_path: an absolute path for files that are not code
            (configuration, a SQLite database); default ``instance``
            beside the app's module or package.
        instance_relative_config: ``config.from_pyfile`` and
            ``config.from_file`` names are relative to the instance folder
            instead of ``root_path``.
        root_path: the folder the other paths are relative to (default: the
            folder of ``import_name``'s module).
        middleware: factories ``factory(get_response) -> handler``, the
            first one outermost (Django style).

    Raises:
        ValueError: ``instance_path`` is relative.
    """

    request_class = Request
    response_class = Response
    session_interface = SignedCookieSessionInterface()

    def __init__(
        self,
        import_name: str,
        static_url_path: str | None = None,
        static_folder: str | os.PathLike[str] | None = "static",
        template_folder: str | os.PathLike[str] | None = "templates",
        instance_path: str | None = None,
        instance_relative_config: bool = False,
        root_path: str | None = None,
        *,
        middleware: Iterable[MiddlewareFactory] = (),
    ) -> None:
        super().__init__()
        self.import_name = import_name
        self.root_path = root_path if root_path is not None else get_root_path(import_name)
        if instance_path is None:
            instance_path = find_instance_path(import_name, self.root_path)
        elif not os.path.isabs(instance_path):
            raise ValueError(f"instance_path={instance_path!r} must be an absolute path")
        self.instance_path = instance_path
        self.instance_relative_config = instance_relative_config
        self.static_folder = os.fspath(static_folder) if static_folder is not None else None
        self.static_url_path = static_url_path
        self.template_folder = os.fspath(template_folder) if template_folder is not None else None
        self.config = Config(instance_path if instance_relative_config else self.root_path, DEFAULTS)
        self.url_map = Map()
        self.view_functions: dict[str, Callable[..., Any]] = {}
        #: Endpoints whose request body the server passes on as it arrives.
        self.streaming_endpoints: set[str] = set()
        self.teardown_appcontext_funcs: list[Callable[[BaseException | None], Any]] = []
        self.startup_funcs: list[Callable[[], Any]] = []
        self.worker_start_funcs: list[Callable[[], Any]] = []
        self.worker_stop_funcs: list[Callable[[], Any]] = []
        self.blueprints: dict[str, Any] = {}
        #: Where extensions keep their per-app state, by name (as Flask).
        self.extensions: dict[str, Any] = {}
        self.middleware: list[MiddlewareFactory] = list(middleware)
        self._init_pipeline()
        # PERF: without an app_context() override, a request context serves as
        # the application context too (one object less per request).
        self._app_context_factory = None if type(self).app_context is App.app_context else self.app_context
        self._startup_lock = threading.RLock()
        self._init_templating()
        if self.static_folder is not None:
            if self.static_url_path is None:
                self.static_url_path = "/" + os.path.basename(self.static_folder.rstrip("/\\"))
            from sluice.files import make_static_view

            self._static_view = make_static_view(lambda: self.static_folder)
            self.add_url_rule(f"{self.static_url_path.rstrip('/')}/<path:filename>", "static", self._static_view)

    def __repr__(self) -> str:
        return f"<App {self.import_name!r}>"

    @cached_property
    def name(self) -> str:
        """The app's name: ``import_name``, or the script's name when run as ``__main__``."""
        if self.import_name == "__main__":
            file = getattr(sys.modules.get("__main__"), "__file__", None)
            if isinstance(file, str):
                return os.path.splitext(os.path.basename(file))[0]
            return "__main__"
        return self.import_name

    @cached_property
    def logger(self) -> logging.Logger:
        """The logger named after the app (:attr:`name`), for the app's own messages."""
        return logging.getLogger(self.name)

    @cached_property
    def json(self) -> JSONProvider:
        """JSON with the app's settings: ``app.json.dumps``, ``loads``, ``response``, ``sort_keys``."""
        from sluice.json import JSONProvider

        return JSONProvider(self)

    @property
    def has_static_folder(self) -> bool:
        """True when the app serves a static folder."""
        return self.static_folder is not None

    @property
    def permanent_session_lifetime(self) -> timedelta:
        """``config["PERMANENT_SESSION_LIFETIME"]`` as a timedelta (seconds are accepted in the config)."""
        value = self.config["PERMANENT_SESSION_LIFETIME"]
        return value if isinstance(value, timedelta) else timedelta(seconds=value)

    @permanent_session_lifetime.setter
    def permanent_session_lifetime(self, value: timedelta | int) -> None:
        self.config["PERMANENT_SESSION_LIFETIME"] = value

    # -- configuration -----------------------------------------------------------

    @property
    def debug(self) -> bool:
        """``config["DEBUG"]``."""
        return bool(self.config["DEBUG"])

    @debug.setter
    def debug(self, value: bool) -> None:
        self.config["DEBUG"] = value

    @property
    def testing(self) -> bool:
        """``config["TESTING"]``: exceptions propagate to the test client."""
        return bool(self.config["TESTING"])

    @testing.setter
    def testing(self, value: bool) -> None:
        self.config["TESTING"] = value

    @property
    def secret_key(self) -> Any:
        """``config["SECRET_KEY"]``, used to sign the session cookie."""
        return self.config["SECRET_KEY"]

    @secret_key.setter
    def secret_key(self, value: Any) -> None:
        self.config["SECRET_KEY"] = value

    # -- registration --------------------------------------------------------------

    def _check_setup(self, what: str) -> None:
        if self._frozen:
            raise RuntimeError(
                f"cannot register {what}: the application already handled a request (or freeze() "
                "was called). Register every route, hook and handler while setting up the app, "
                "before it serves requests."
            )

    def add_url_rule(
        self,
        rule: str,
        endpoint: str | None = None,
        view_func: Callable[..., Any] | None = None,
        methods: Iterable[str] | None = None,
        **options: Any,
    ) -> None:
        """Register ``rule`` for ``view_func`` under ``endpoint``.

        Args:
            rule: the URL pattern, e.g. ``/users/<int:id>``.
            endpoint: the name for ``url_for``; default the function's name.
            view_func: the view; may be omitted to add a rule to an endpoint
                registered before.
            methods: the accepted methods (default: the view's ``methods``
                attribute, else ``GET``).
            **options: ``strict_slashes``, ``defaults``;
                ``stream_request_body=True`` to read the body as it arrives
                (see :meth:`streams_request_body`).

        Raises:
            RuntimeError: the app already serves requests.
            ValueError: ``endpoint`` is taken by another function, or no
                endpoint can be derived.
        """
        self._check_setup(f"rule {rule!r}")
        if endpoint is None:
            if view_func is None:
                raise ValueError(f"rule {rule!r} needs an endpoint or a view function")
            endpoint = view_func.__name__
        if methods is None and view_func is not None:
            methods = getattr(view_func, "methods", None)
        if view_func is not None:
            existing = self.view_functions.get(endpoint)
            if existing is not None and existing is not view_func:
                raise ValueError(
                    f"endpoint {endpoint!r} is already used by {existing.__qualname__}; "
                    "give this view another endpoint= or another function name"
                )
            self.view_functions[endpoint] = view_func
        stream = options.pop("stream_request_body", None)
        if stream is None and view_func is not None:
            stream = getattr(view_func, "stream_request_body", None)
        if stream:
            self.streaming_endpoints.add(endpoint)
        provide = options.pop("provide_automatic_options", None)
        if provide is None and view_func is not None:
            provide = getattr(view_func, "provide_automatic_options", None)
        new_rule = Rule(rule, endpoint, methods, **options)
        if provide is None:
            provide = bool(self.config.get("PROVIDE_AUTOMATIC_OPTIONS", True))
        if not provide and new_rule.provide_automatic_options:
            # No automatic OPTIONS answer: OPTIONS is then not among its methods (a 405, as Flask).
            new_rule.provide_automatic_options = False
            new_rule.methods = new_rule.methods - {"OPTIONS"}
        self.url_map.add(new_rule)

    def streams_request_body(self, method: str, path: str, content_length: int | None = None) -> bool:
        """Whether the app reads this request's body as the client sends it.

        sluice's server calls this from its event loop for each request
        with a body (not for one that waits for ``100 Continue``, which the
        app always reads as it arrives). False, the default: the server
        receives the whole body first (in memory, or a temporary file past
        ``--request-buffer``), so a slow client never holds a thread. True
        for every request when ``config["STREAM_REQUEST_BODY"]`` is set, or
        for the routes registered with ``stream_request_body=True``: the
        view runs at once and ``request.stream`` yields bytes as they come
        (a long upload processed on the fly, a proxy), holding its thread
        while the client sends. Also True for a body announced larger than
        ``MAX_CONTENT_LENGTH``: the app refuses it with a 413 at once,
        without waiting for bytes it would not read (as Flask does).

        Args:
            method: the request method.
            path: the ``PATH_INFO`` the app will see.
            content_length: the announced body length (None: chunked).
        """
        if self.config.get("STREAM_REQUEST_BODY"):
            return True
        if content_length is not None:
            limit = self.config.get("MAX_CONTENT_LENGTH")
            if limit is None:
                limit = self.request_class.max_content_length
            if limit is not None and content_length > limit:
                return True
        if not self.streaming_endpoints:
            return False
        try:
            rule, _ = self.url_map.match(path, method)
        except Exception:
            return False
        return rule.endpoint in self.streaming_endpoints

    def teardown_appcontext(self, func: F) -> F:
        """Run ``func(exc)`` when the application context ends, always.

        ``exc`` is the unhandled exception of the request (see
        ``teardown_request``), or None.
        """
        self._check_setup("a teardown_appcontext hook")
        self.teardown_appcontext_funcs.append(func)
        return func

    def inject_url_defaults(self, endpoint: str, values: dict[str, Any]) -> None:
        """Let the url_defaults functions add values for ``endpoint`` (used by ``url_for``)."""
        for scope in (None, *reversed(blueprint_scopes(endpoint.rpartition(".")[0]))):
            for func in self.url_default_functions.get(scope, ()):
                func(endpoint, values)

    def on_startup(self, func: F) -> F:
        """Run ``func()`` once per process, before the first request is handled."""
        self._check_setup("a startup hook")
        self.startup_funcs.append(func)
        return func

    def on_worker_start(self, func: F) -> F:
        """Run ``func()`` in each server worker process before it serves (open pools, clients).

        Under ``sluice serve --workers N`` it runs in every worker, after the
        fork; in a single process it runs once before serving. An exception
        stops that worker from serving, as an import error does.
        """
        self._check_setup("an on_worker_start hook")
        self.worker_start_funcs.append(func)
        return func

    def on_worker_stop(self, func: F) -> F:
        """Run ``func()`` in each server worker process after its last request (close pools).

        An exception is logged; the worker still exits.
        """
        self._check_setup("an on_worker_stop hook")
        self.worker_stop_funcs.append(func)
        return func

    def register_blueprint(self, blueprint: Any, **options: Any) -> None:
        """Register a :class:`sluice.blueprints.Blueprint` and its nested blueprints.

        Args:
            blueprint: the blueprint.
            **options: ``url_prefix`` (replaces the blueprint's), ``name``
                (register it again under another name).

        Raises:
            ValueError: a blueprint of that name is already registered.
        """
        self._check_setup(f"blueprint {blueprint.name!r}")
        blueprint.register(self, options)

    def add_middleware(self, factory: MiddlewareFactory) -> None:
        """Add a middleware factory; the first added is outermost."""
        self._check_setup("middleware")
        self.middleware.append(factory)

    # -- contexts ---------------------------------------------------------------------

    def app_context(self) -> AppContext:
        """Return an application context (use as ``with app.app_context():``)."""
        return AppContext(self)

    def request_context(self, environ: WSGIEnviron) -> RequestContext:
        """Return the request context for ``environ``."""
        return RequestContext(self, self._new_request(environ), self._app_context_factory)

    def test_request_context(self, path: str = "/", method: str = "GET", **kwargs: Any) -> RequestContext:
        """Return a request context for a made-up request (see :class:`TestClient.open`)."""
        from sluice.testing import TestClient  # tests only: not loaded by serving apps

        environ = TestClient(self).build_environ(path, method, **kwargs)
        return self.request_context(environ)

    def test_client(self, **kwargs: Any) -> TestClient:
        """Return a :class:`sluice.testing.TestClient` for this app.

        Args:
            **kwargs: passed to the client: ``base_url``, ``environ_base``,
                ``allow_subdomain_redirects``.
        """
        from sluice.testing import TestClient

        return TestClient(self, **kwargs)

    def _new_request(self, environ: WSGIEnviron) -> Request:
        """Build the request, with the body limits of the config when they differ from the class's."""
        request = self.request_class(environ)
        for name, value in self._request_limits if self._frozen else request_limits(self.config, self.request_class):
            setattr(request, name, value)
        return request

    def open_session(self, request: Request) -> Any:
        """Open the session of ``request`` with :attr:`session_interface` (on first use of ``session``)."""
        return self.session_interface.open_session(self, request)

    def invoke_subrequest(self, request_or_path: Request | str, use_middleware: bool = False) -> Response:
        """Run a whole internal request and return its (buffered) response.

        Args:
            request_or_path: a :class:`Request`, or a path (``/x?y=1``) that
                becomes a GET built from the current request's environ.
            use_middleware: run the middleware chain too (default: only
                hooks, view and error handling, as Pyramid does).

        Returns:
            The response, its body already read; the subrequest's context
            was torn down.
        """
        if isinstance(request_or_path, str):
            outer = _cv_request.get(None)
            environ: WSGIEnviron = dict(outer.request.environ) if outer is not None else {}
            path, _, query = request_or_path.partition("?")
            environ.update(
                {"REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": query, "CONTENT_LENGTH": "0"}
            )
            environ.pop("CONTENT_TYPE", None)
            request = self._new_request(environ)
        else:
            request = request_or_path
        self.freeze()
        ctx = RequestContext(self, request, self._app_context_factory)
        ctx.push()
        error: BaseException | None = None
        try:
            self._match(ctx)
            handler = self._handler if use_middleware else self._dispatch
            response = handler(request)
            for callback in request.response_callbacks:
                callback(request, response)
            response.set_data(response.get_data())
            return response
        except BaseException as exc:
            error = exc
            raise
        finally:
            try:
                ctx.pop(error)
            finally:
                for finished in request.finished_callbacks:
                    finished(request)

    # -- resources -------------------------------------------------------------------

    def send_static_file(self, filename: str) -> Response:
        """Serve ``filename`` from the static folder, as the ``static`` endpoint does.

        Raises:
            NotFound: no static folder, or no such file in it.
        """
        view = getattr(self, "_static_view", None)
        if view is None:
            from sluice.errors import NotFound

            raise NotFound()
        response: Response = view(filename)
        return response

    def open_resource(self, resource: str, mode: str = "rb", encoding: str | None = None) -> IO[Any]:
        """Open a file of the app's package for reading, relative to :attr:`root_path`.

        Args:
            resource: the path below ``root_path``, e.g. ``"schema.sql"``.
            mode: ``"r"``, ``"rt"`` or ``"rb"``.
            encoding: the text encoding (text modes).

        Raises:
            ValueError: a mode that writes.
            OSError: the file cannot be opened.
        """
        if mode not in ("r", "rt", "rb"):
            raise ValueError(f"open_resource(mode={mode!r}): resources open for reading only (r, rt, rb)")
        path = os.path.join(self.root_path, resource)
        if mode == "rb":
            return open(path, mode)  # noqa: SIM115 - the caller closes it
        return open(path, mode, encoding=encoding)  # noqa: SIM115

    def open_instance_resource(self, resource: str, mode: str = "rb", encoding: str | None = "utf-8") -> IO[Any]:
        """Open a file of the instance folder (:attr:`instance_path`), for reading or writing.

        Raises:
            OSError: the file cannot be opened.
        """
        path = os.path.join(self.instance_path, resource)
        if "b" in mode:
            return open(path, mode)  # noqa: SIM115 - the caller closes it
        return open(path, mode, encoding=encoding)  # noqa: SIM115


#: ``from sluice import Flask`` works too: a Flask app's import lines change
#: only in their module name.
Flask = App
