"""The application object: register routes and hooks, then serve as a WSGI app.

Design: two phases. While the app is set up, decorators register rules,
views, hooks and error handlers. The first request (or :meth:`App.freeze`)
compiles the URL map and builds the middleware chain once; registering
afterwards raises an error that says what to do. A request then runs the
lifecycle of DESIGN.md §1: the request context is pushed and the URL
matched (a routing failure is kept and raised at dispatch); startup hooks
run once per process; ``request_started``; the middleware chain around
``before_request`` hooks, the view and ``after_request`` hooks, with errors
turned into responses inside it; ``request_finished``. The context stays
active until the server calls ``close()`` on the response, so a streaming
body still sees ``request``; teardown hooks and ``response_closed`` run
after the last byte.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import threading
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Mapping
from typing import Any
from typing import TypeVar

from sluice import signals
from sluice.ctx import AppContext
from sluice.ctx import RequestContext
from sluice.ctx import _cv_request
from sluice.errors import HTTP_ERRORS
from sluice.errors import HTTPError
from sluice.errors import InternalServerError
from sluice.errors import MethodNotAllowed
from sluice.routing import Map
from sluice.routing import RequestRedirect
from sluice.routing import Rule
from sluice.scaffold import RouteDecorators
from sluice.scaffold import check_error_key
from sluice.scaffold import find_instance_path
from sluice.scaffold import get_root_path
from sluice.sessions import SESSION_DEFAULTS
from sluice.sessions import SignedCookieSessionInterface
from sluice.testing import TestClient
from sluice.wrappers.request import Request
from sluice.wrappers.response import ClosingIterator
from sluice.wrappers.response import Response
from sluice.wrappers.response import _content_type_for
from sluice.wrappers.response import call_wsgi_app

log = logging.getLogger("sluice.app")

# PERF: module globals, one lookup less per check of a signal's receivers.
_request_started = signals.request_started
_request_finished = signals.request_finished
_request_tearing_down = signals.request_tearing_down
_appcontext_tearing_down = signals.appcontext_tearing_down
_response_closed = signals.response_closed

# The status code of each of sluice.errors' own classes, for errorhandler(code).
_STANDARD_CODES: dict[type, int] = {cls: code for code, cls in HTTP_ERRORS.items()}

F = TypeVar("F", bound=Callable[..., Any])
WSGIEnviron = dict[str, Any]
StartResponse = Callable[..., Any]
Handler = Callable[[Request], Response]
MiddlewareFactory = Callable[[Handler], Handler]

_DEFAULTS: dict[str, Any] = {
    "DEBUG": False,
    "TESTING": False,
    "PROPAGATE_EXCEPTIONS": None,
    "SECRET_KEY": None,
    "SECRET_KEY_FALLBACKS": [],
    "JSON_SORT_KEYS": False,
    # Request body limits, as Flask names them (None: no limit); read when
    # the app starts serving.
    "MAX_CONTENT_LENGTH": None,
    "MAX_FORM_MEMORY_SIZE": 500_000,
    "MAX_FORM_PARTS": 1000,
    **SESSION_DEFAULTS,
}
# Config key -> the Request attribute it sets.
_REQUEST_LIMITS = {
    "MAX_CONTENT_LENGTH": "max_content_length",
    "MAX_FORM_MEMORY_SIZE": "max_form_memory_size",
    "MAX_FORM_PARTS": "max_form_parts",
}


class Config(dict[str, Any]):
    """``app.config``: a dict with defaults and loaders.

    Args:
        defaults: the initial values.
    """

    def __init__(self, defaults: Mapping[str, Any] | None = None) -> None:
        super().__init__(defaults or {})

    def from_mapping(self, mapping: Mapping[str, Any] | None = None, **kwargs: Any) -> bool:
        """Update from upper-case keys of ``mapping`` and ``kwargs``; return True."""
        for key, value in {**(mapping or {}), **kwargs}.items():
            if key.isupper():
                self[key] = value
        return True

    def from_object(self, obj: object | str) -> None:
        """Update from the upper-case attributes of an object or ``"module.Object"``.

        Raises:
            ImportError: a dotted name that cannot be imported.
        """
        if isinstance(obj, str):
            module_name, _, attr = obj.rpartition(".")
            obj = getattr(importlib.import_module(module_name), attr) if module_name else importlib.import_module(attr)
        for key in dir(obj):
            if key.isupper():
                self[key] = getattr(obj, key)

    def from_prefixed_env(self, prefix: str = "SLUICE", environ: Mapping[str, str] | None = None) -> bool:
        """Load ``PREFIX_KEY`` variables; values are parsed as JSON when they can be.

        ``PREFIX_A__B`` sets ``config["A"]["B"]``. Returns True.
        """
        env = os.environ if environ is None else environ
        start = f"{prefix}_"
        for name in sorted(env):
            if not name.startswith(start):
                continue
            raw = env[name]
            try:
                value: Any = json.loads(raw)
            except ValueError:
                value = raw
            key = name[len(start) :]
            if "__" in key:
                *parents, last = key.split("__")
                target = self
                for part in parents:
                    target = target.setdefault(part, {})
                target[last] = value
            else:
                self[key] = value
        return True


class App(RouteDecorators):
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
        self.config = Config(_DEFAULTS)
        self.url_map = Map()
        self.view_functions: dict[str, Callable[..., Any]] = {}
        # Hooks and handlers by scope: None for the app, else a blueprint's
        # full dotted name.
        self.before_request_funcs: dict[str | None, list[Callable[[], Any]]] = {}
        self.after_request_funcs: dict[str | None, list[Callable[[Response], Response]]] = {}
        self.teardown_request_funcs: dict[str | None, list[Callable[[BaseException | None], Any]]] = {}
        self.teardown_appcontext_funcs: list[Callable[[BaseException | None], Any]] = []
        self.startup_funcs: list[Callable[[], Any]] = []
        self.url_value_preprocessors: list[Callable[[str | None, dict[str, Any] | None], Any]] = []
        self.url_default_functions: list[Callable[[str, dict[str, Any]], Any]] = []
        self.error_handlers: dict[str | None, dict[int | type[BaseException], Callable[[Any], Any]]] = {}
        self.blueprints: dict[str, Any] = {}
        self.middleware: list[MiddlewareFactory] = list(middleware)
        self._frozen = False
        self._handler: Handler = self._dispatch_with_errors
        # PERF: without an app_context() override, a request context serves as
        # the application context too (one object less per request).
        self._app_context_factory = None if type(self).app_context is App.app_context else self.app_context
        self._has_before = False
        self._has_after = False
        self._lazy_session = False
        self._plain_response = False
        self._direct = False
        self._teardown_hooks = True  # until freeze() knows (see AppLike)
        self._request_limits: tuple[tuple[str, int | None], ...] = ()
        self._startup_lock = threading.RLock()
        self._started = False

    def __repr__(self) -> str:
        return f"<App {self.import_name!r}>"

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
            **options: ``strict_slashes``, ``defaults``.

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
        self.url_map.add(Rule(rule, endpoint, methods, **options))

    def before_request(self, func: F) -> F:
        """Run ``func()`` before each view; a non-None return value is the response."""
        self._check_setup("a before_request hook")
        self.before_request_funcs.setdefault(None, []).append(func)
        return func

    def after_request(self, func: F) -> F:
        """Run ``func(response)`` after each view; it returns the response to send.

        Hooks run in the reverse order of registration, as in Flask.
        """
        self._check_setup("an after_request hook")
        self.after_request_funcs.setdefault(None, []).append(func)
        return func

    def teardown_request(self, func: F) -> F:
        """Run ``func(exc)`` when the request context ends, always (after the body was sent)."""
        self._check_setup("a teardown_request hook")
        self.teardown_request_funcs.setdefault(None, []).append(func)
        return func

    def teardown_appcontext(self, func: F) -> F:
        """Run ``func(exc)`` when the application context ends, always."""
        self._check_setup("a teardown_appcontext hook")
        self.teardown_appcontext_funcs.append(func)
        return func

    def url_value_preprocessor(self, func: F) -> F:
        """Run ``func(endpoint, view_args)`` before the before_request hooks.

        It may pop values from ``view_args`` (e.g. a language code into ``g``)
        so the view does not receive them.
        """
        self._check_setup("a url_value_preprocessor")
        self.url_value_preprocessors.append(func)
        return func

    def url_defaults(self, func: F) -> F:
        """Run ``func(endpoint, values)`` in ``url_for`` to fill in values (e.g. the current language)."""
        self._check_setup("a url_defaults function")
        self.url_default_functions.append(func)
        return func

    def inject_url_defaults(self, endpoint: str, values: dict[str, Any]) -> None:
        """Let the url_defaults functions add values for ``endpoint`` (used by ``url_for``)."""
        for func in self.url_default_functions:
            func(endpoint, values)

    def on_startup(self, func: F) -> F:
        """Run ``func()`` once per process, before the first request is handled."""
        self._check_setup("a startup hook")
        self.startup_funcs.append(func)
        return func

    def errorhandler(self, code_or_exception: int | type[BaseException]) -> Callable[[F], F]:
        """Register a handler for a status code or an exception class.

        The handler gets the exception and returns a response value. For an
        exception, the handler of the most specific class along its MRO wins.

        Raises:
            ValueError: an int that is not an error status.
            TypeError: neither an int nor an exception class.
        """
        check_error_key(code_or_exception)

        def decorator(func: F) -> F:
            self.register_error_handler(None, code_or_exception, func)
            return func

        return decorator

    def register_error_handler(
        self, scope: str | None, code_or_exception: int | type[BaseException], func: Callable[[Any], Any]
    ) -> None:
        """Register an error handler for the app (``scope`` None) or a blueprint.

        Raises:
            ValueError: an int that is not an error status.
        """
        self._check_setup("an error handler")
        check_error_key(code_or_exception)
        self.error_handlers.setdefault(scope, {})[code_or_exception] = func

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

    # -- serving -------------------------------------------------------------------

    def freeze(self) -> None:
        """Compile the URL map and the middleware chain, once; registration ends.

        Thread-safe: concurrent first requests build the chain once.
        """
        if self._frozen:
            return
        with self._startup_lock:
            if not self._frozen:
                self._freeze()

    def _freeze(self) -> None:
        self.url_map.freeze()
        handler: Handler = self._dispatch_with_errors
        for factory in reversed(self.middleware):
            handler = factory(handler)
        self._handler = handler
        # PERF: what a request may skip, known once registration ended
        # (benchmarks/framework.py: an app without hooks pays for none).
        self._has_before = bool(self.url_value_preprocessors) or any(self.before_request_funcs.values())
        self._has_after = any(self.after_request_funcs.values())
        self._teardown_hooks = (
            any(self.teardown_request_funcs.values())
            or bool(self.teardown_appcontext_funcs)
            or type(self).do_teardown_request is not App.do_teardown_request
            or type(self).do_teardown_appcontext is not App.do_teardown_appcontext
        )
        # The default session interface writes nothing for a request that
        # neither used the session nor sent a cookie, so it is opened lazily.
        self._lazy_session = type(self.session_interface) is SignedCookieSessionInterface
        # A str is made a response without make_response() only when
        # neither it nor the response class's constructor was overridden.
        self._plain_response = (
            self.response_class.__init__ is Response.__init__ and type(self).make_response is App.make_response
        )
        self._request_limits = self._limits_from_config()
        # wsgi_app may dispatch without self._handler when no middleware
        # wraps it, and answer a str, bytes, dict or list without a Response
        # when no after hook, custom session interface, response class or
        # make_response() could need one.
        self._direct = (
            handler == self._dispatch_with_errors
            and not self._has_after
            and self._lazy_session
            and self.response_class is Response
            and self._plain_response
        )
        self._frozen = True

    def _limits_from_config(self) -> tuple[tuple[str, int | None], ...]:
        """The Request attributes the config sets to other values than the request class has.

        Raises:
            ValueError: a limit that is neither None nor a non-negative int.
        """
        limits = []
        for key, attribute in _REQUEST_LIMITS.items():
            value = self.config.get(key)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
                raise ValueError(f"config[{key!r}] = {value!r}: give a number of bytes (or parts), or None for no limit")
            if value != getattr(self.request_class, attribute):
                limits.append((attribute, value))
        return tuple(limits)

    def app_context(self) -> AppContext:
        """Return an application context (use as ``with app.app_context():``)."""
        return AppContext(self)

    def request_context(self, environ: WSGIEnviron) -> RequestContext:
        """Return the request context for ``environ``."""
        return RequestContext(self, self._new_request(environ), self._app_context_factory)

    def test_request_context(self, path: str = "/", method: str = "GET", **kwargs: Any) -> RequestContext:
        """Return a request context for a made-up request (see :class:`TestClient.open`)."""
        environ = TestClient(self).build_environ(path, method, **kwargs)
        return self.request_context(environ)

    def test_client(self) -> TestClient:
        """Return a :class:`sluice.testing.TestClient` for this app."""
        return TestClient(self)

    def _new_request(self, environ: WSGIEnviron) -> Request:
        """Build the request, with the body limits of the config when they differ from the class's."""
        request = self.request_class(environ)
        for name, value in self._request_limits if self._frozen else self._limits_from_config():
            setattr(request, name, value)
        return request

    def open_session(self, request: Request) -> Any:
        """Open the session of ``request`` with :attr:`session_interface` (on first use of ``session``)."""
        return self.session_interface.open_session(self, request)

    def do_teardown_request(self, exc: BaseException | None) -> None:
        """Run the teardown_request hooks (newest first) and send ``request_tearing_down``."""
        if self.teardown_request_funcs:
            for scope in (*_scopes(_cv_request.get(None)), None):
                for func in reversed(self.teardown_request_funcs.get(scope, ())):
                    func(exc)
        if _request_tearing_down.receivers:
            _request_tearing_down.send(self, exc=exc)

    def do_teardown_appcontext(self, exc: BaseException | None) -> None:
        """Run the teardown_appcontext hooks (newest first) and send the signal."""
        if self.teardown_appcontext_funcs:
            for func in reversed(self.teardown_appcontext_funcs):
                func(exc)
        if _appcontext_tearing_down.receivers:
            _appcontext_tearing_down.send(self, exc=exc)

    def _start(self) -> None:
        """Freeze, then run the startup hooks once per process (concurrent first requests wait)."""
        with self._startup_lock:
            if self._started:
                return
            self.freeze()
            for func in self.startup_funcs:
                func()
            self._started = True

    def __call__(self, environ: WSGIEnviron, start_response: StartResponse) -> Iterable[bytes]:
        return self.wsgi_app(environ, start_response)

    def wsgi_app(self, environ: WSGIEnviron, start_response: StartResponse) -> Iterable[bytes]:
        """The WSGI entry point; ``app.wsgi_app = Middleware(app.wsgi_app)`` wraps it."""
        if not self._started:
            self._start()
        # PERF: without configured limits, no call to _new_request().
        request = self._new_request(environ) if self._request_limits else self.request_class(environ)
        ctx = RequestContext(self, request, self._app_context_factory)
        ctx.push()
        try:
            self._match(ctx)
            if not self._lazy_session:
                ctx.session  # noqa: B018 - opened when the request starts, as the interface may expect
            if _request_started.receivers:
                _request_started.send(self)
            if self._direct:
                # No middleware, no after_request hooks, the default session
                # interface and response class: the view's value is known
                # here, before any Response exists.
                try:
                    # PERF: the view called here when nothing comes before it;
                    # _view_result for hooks, routing errors, OPTIONS and a
                    # missing view (1.7% fewer instructions per request).
                    rule = ctx.url_rule
                    view = None
                    if not self._has_before and rule is not None:
                        view = self.view_functions.get(rule.endpoint)
                        if rule.provide_automatic_options and request.method == "OPTIONS":
                            view = None
                    if view is None:
                        rv = self._view_result(request, ctx)
                    else:
                        view_args = request.view_args
                        rv = view(**view_args) if view_args else view()
                except Exception as exc:
                    rv = self._handle_exception(exc)
                kind = type(rv)
                if (
                    (kind is str or kind is dict or kind is bytes or kind is list)
                    and not ctx.after_request_functions
                    and not ctx.session_opened
                    and not request.response_callbacks
                    and not _request_finished.receivers
                    and "HTTP_COOKIE" not in environ
                ):
                    # PERF: nothing can observe a Response object, so none is
                    # built; the head and body are those of make_response(rv)
                    # (tests/test_app_direct.py; benchmarks/RESULTS.md,
                    # "Framework hot path").
                    data: bytes | None = None
                    if kind is str:
                        data = rv.encode("utf-8")
                        content_type = _content_type_for(Response.default_mimetype)
                    elif kind is bytes:
                        data = rv
                        content_type = _content_type_for(Response.default_mimetype)
                    else:
                        try:
                            text = json.dumps(rv, sort_keys=self.config["JSON_SORT_KEYS"], separators=(",", ":"))
                        except Exception:  # noqa: S110 - _finish_view handles it as the view's error
                            pass
                        else:
                            data = text.encode("utf-8")
                            content_type = _content_type_for("application/json")
                    if data is not None:
                        start_response("200 OK", [("Content-Type", content_type), ("Content-Length", str(len(data)))])
                        ctx.handed_off = True
                        direct = _new_object(_DirectBody)
                        direct._chunks = () if request.method == "HEAD" else (data,)
                        direct._ctx = ctx
                        direct._content_type = content_type
                        direct._data = data
                        return direct
                response = self._finish_view(rv, request, ctx)
            else:
                response = self._handler(request)
            for callback in request.response_callbacks:
                callback(request, response)
            if _request_finished.receivers:
                _request_finished.send(self, response=response)
            if type(response).__call__ is _RESPONSE_CALL:
                # PERF: the response's own iterable also ends the request.
                body = response.start(environ, start_response, _RequestBody)
            else:
                iterable = response(environ, start_response)
                body = _RequestBody(iterable, iterable, ())
        except BaseException as exc:
            try:
                ctx.pop(exc)
            finally:
                request.close()
            raise
        body._state = (ctx, response)
        # A buffered body runs no app code until close(); a request context
        # still active at the next request of this thread is then abandoned
        # (see RequestContext.push). A streamed body runs app code, which may
        # push contexts of its own, so it is not marked.
        ctx.handed_off = buffered = body.buffered
        return body if buffered else body.wsgi_result(environ)

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
            handler = self._handler if use_middleware else self._dispatch_with_errors
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

    def _dispatch_with_errors(self, request: Request) -> Response:
        """The innermost handler: hooks and view, errors turned into responses, after hooks."""
        ctx = _cv_request.get()
        try:
            rv = self._view_result(request, ctx)
        except Exception as exc:
            rv = self._handle_exception(exc)
        return self._finish_view(rv, request, ctx)

    def _view_result(self, request: Request, ctx: RequestContext) -> Any:
        """What the before_request hooks or the view return (routing errors raised, automatic OPTIONS answered)."""
        if self._has_before:
            rv = self._run_before_hooks(request, ctx)
            if rv is not None:
                return rv
        if ctx.routing_exception is not None:
            raise ctx.routing_exception
        rule = ctx.url_rule
        if rule.provide_automatic_options and request.method == "OPTIONS":
            return self._automatic_options(request)
        view = self.view_functions.get(rule.endpoint)
        if view is None:
            raise RuntimeError(f"no view function for endpoint {rule.endpoint!r}; pass view_func= to add_url_rule")
        view_args = request.view_args
        return view(**view_args) if view_args else view()  # PERF: no empty **{}

    def _finish_view(self, rv: Any, request: Request, ctx: RequestContext) -> Response:
        """Turn ``rv`` into the response (a failure handled as the view's), run after hooks, save the session."""
        try:
            # PERF: the common return values skip make_response's rule list.
            if type(rv) is str and self._plain_response:
                response = self.response_class.from_text(rv)
            elif isinstance(rv, Response):
                response = rv
            else:
                response = self.make_response(rv)
        except Exception as exc:
            response = self._handle_exception(exc)
        if self._has_after or ctx.after_request_functions:
            response = self._run_after_hooks(response, ctx)
        if ctx.session_opened or not self._lazy_session or "HTTP_COOKIE" in request.environ:
            self.session_interface.save_session(self, ctx.session, response)
        return response

    def _run_before_hooks(self, request: Request, ctx: RequestContext) -> Any:
        """The url_value_preprocessors, then the before_request hooks (app first); the first non-None wins."""
        for preprocess in self.url_value_preprocessors:
            preprocess(request.endpoint, request.view_args)
        for scope in (None, *reversed(_scopes(ctx))):
            for func in self.before_request_funcs.get(scope, ()):
                rv = func()
                if rv is not None:
                    return rv
        return None

    def _run_after_hooks(self, response: Response, ctx: RequestContext) -> Response:
        """``after_this_request`` functions, then the after_request hooks (innermost scope first, newest first)."""
        for func in reversed(ctx.after_request_functions):
            response = func(response)
        for scope in (*_scopes(ctx), None):
            for func in reversed(self.after_request_funcs.get(scope, ())):
                response = func(response)
        return response

    def _match(self, ctx: RequestContext) -> None:
        """Match the URL when the context is pushed; keep a failure for dispatch.

        So every hook (and middleware) already knows the endpoint and view
        arguments, and a 404/405/redirect is raised inside the error
        handling, where handlers and after_request hooks apply.
        """
        request = ctx.request
        try:
            rule, view_args = self.url_map.match(request.path, request.method)
        except RequestRedirect as redirect:
            query = request.environ.get("QUERY_STRING")
            if query:
                redirect.new_url = f"{redirect.new_url}?{query}"
            ctx.routing_exception = redirect
        except HTTPError as exc:
            ctx.routing_exception = exc
        else:
            ctx.url_rule = rule
            endpoint = request.endpoint = rule.endpoint
            request.view_args = view_args
            if "." in endpoint:
                request.blueprint = endpoint.rpartition(".")[0]

    def _automatic_options(self, request: Request) -> Response:
        response = self.response_class("")
        response.headers.set("Allow", ", ".join(self.url_map.allowed_methods(request.path)))
        return response

    def _find_handler(self, exc: BaseException) -> Callable[[Any], Any] | None:
        # The innermost blueprint's handlers first, then outer ones, then the
        # app's (as Flask). Within a scope, the most specific class along the
        # MRO wins; a handler registered by code stands for that code's class
        # (404 for NotFound), so errorhandler(MissingItem) beats
        # errorhandler(404) for a MissingItem(NotFound). An HTTPError subclass
        # outside that tree still reaches the handler of its code.
        for scope in (*_scopes(_cv_request.get(None)), None):
            handlers = self.error_handlers.get(scope)
            if not handlers:
                continue
            for cls in type(exc).__mro__:
                handler = handlers.get(cls)
                if handler is None and cls in _STANDARD_CODES:
                    handler = handlers.get(_STANDARD_CODES[cls])
                if handler is not None:
                    return handler
            if isinstance(exc, HTTPError) and exc.code in handlers:
                return handlers[exc.code]
        return None

    def _handle_exception(self, exc: Exception) -> Response:
        handler = self._find_handler(exc)
        if handler is not None:
            return self.make_response(handler(exc))
        if isinstance(exc, HTTPError):
            return self._error_response(exc)
        if signals.got_request_exception.receivers:
            signals.got_request_exception.send(self, exception=exc)
        propagate = self.config["PROPAGATE_EXCEPTIONS"]
        if propagate or (propagate is None and (self.testing or self.debug)):
            raise exc
        request = _cv_request.get().request
        log.error("Exception on %s %s", request.method, request.path, exc_info=exc)
        server_error = InternalServerError()
        handler = self._find_handler(server_error)
        if handler is not None:
            return self.make_response(handler(server_error))
        return self._error_response(server_error)

    def _error_response(self, error: HTTPError) -> Response:
        request = _cv_request.get().request
        body, content_type = error.get_body(prefers_json=request.prefers_json)
        response = self.response_class(body, status=error.code, content_type=content_type)
        for name, value in error.get_headers():
            response.headers.add(name, value)
        if isinstance(error, MethodNotAllowed) and not error.valid_methods:
            response.headers.set("Allow", ", ".join(self.url_map.allowed_methods(request.path)))
        return response

    def make_response(self, rv: Any) -> Response:
        """Turn a view's return value into a :class:`Response` (DESIGN.md §1 step 7).

        ``Response`` as is; ``str``/``bytes``; ``dict``/``list`` as JSON; a
        generator or other iterator streams; ``(body, status)``,
        ``(body, headers)``, ``(body, status, headers)``; a WSGI callable is
        called and its answer buffered.

        Raises:
            TypeError: ``None`` (the message names the view), or an
                unsupported type.
        """
        status: int | str | None = None
        headers: Any = None
        if isinstance(rv, tuple):
            if len(rv) == 3:
                rv, status, headers = rv
            elif len(rv) == 2:
                if isinstance(rv[1], (int, str)):
                    rv, status = rv
                else:
                    rv, headers = rv
            else:
                raise TypeError(
                    f"a view returned a tuple of {len(rv)} items; return (body, status), "
                    "(body, headers) or (body, status, headers)"
                )
        if rv is None:
            ctx = _cv_request.get(None)
            endpoint = getattr(ctx.request, "endpoint", None) if ctx else None
            raise TypeError(
                f"the view function for {endpoint!r} returned None; it must return a response, "
                "a string, bytes, a dict or list (JSON), a generator, or a tuple"
            )
        if isinstance(rv, self.response_class):
            response = rv
        elif isinstance(rv, (str, bytes, bytearray)):
            response = self.response_class(rv)
        elif isinstance(rv, (dict, list)):
            response = self.response_class(
                json.dumps(rv, sort_keys=self.config["JSON_SORT_KEYS"], separators=(",", ":")),
                mimetype="application/json",
            )
        elif isinstance(rv, Iterator):
            response = self.response_class(rv)
        elif callable(rv):
            status_line, wsgi_headers, body = call_wsgi_app(rv, _cv_request.get().request.environ)
            response = self.response_class(body, status=status_line, headers=wsgi_headers)
        else:
            raise TypeError(
                f"a view returned {type(rv).__name__}; return a Response, str, bytes, dict, list, "
                "generator or tuple"
            )
        if status is not None:
            response.status = status
        if headers:
            items = headers.items() if isinstance(headers, Mapping) else headers
            for name, value in items:
                response.headers.set(name, value)
        return response


def _scopes(ctx: RequestContext | None) -> tuple[str, ...]:
    """The request's blueprint scopes, innermost first (``a.b``, then ``a``)."""
    if ctx is None:
        return ()
    name = ctx.request.blueprint
    if not name:
        return ()
    parts = name.split(".")
    return tuple(".".join(parts[:i]) for i in range(len(parts), 0, -1))


_RESPONSE_CALL = Response.__call__
_new_object = object.__new__


def _end_request(ctx: RequestContext, body: _RequestBody | _DirectBody) -> None:
    """End the request once the server closed its body.

    The request context is popped (teardown hooks), the finished callbacks
    run, upload files are closed and ``response_closed`` is sent with the
    body's response, each even if an earlier step raised.
    """
    ctx.handed_off = False  # hooks below may push contexts of their own
    request = ctx.request
    # The test client's ``with client:`` keeps the last request's context:
    # it is told about the context here and pushes it again once closed.
    preserve = request.environ.get("sluice.preserve_context")
    if preserve is not None:
        preserve(ctx)
    try:
        ctx.pop(None)
    finally:
        try:
            for callback in request.finished_callbacks:
                callback(request)
        finally:
            request.close()
            if _response_closed.receivers:
                _response_closed.send(ctx.app, response=body.closed_response())


class _RequestBody(ClosingIterator):
    """The iterable handed to the server; ``close()`` also ends the request.

    The body's own closing (its ``close()``, the response's
    ``call_on_close`` callbacks) comes first, then :func:`_end_request`.
    """

    __slots__ = ("_state",)

    _state: tuple[RequestContext, Response]

    def close(self) -> None:
        if self._closed:
            return
        ctx = self._state[0]
        ctx.handed_off = False  # call_on_close callbacks may push contexts of their own
        try:
            if self._callbacks or type(self._body) is not list:
                ClosingIterator.close(self)
            else:
                self._closed = True  # PERF: nothing to close but the request
        finally:
            _end_request(ctx, self)

    def closed_response(self) -> Response:
        """The response that was sent."""
        return self._state[1]


class _DirectBody:
    """The body of a response that wsgi_app answered without a Response: one chunk, none for HEAD.

    Not a list: some servers (granian) never call ``close()`` on a list.
    ``close()`` ends the request (:func:`_end_request`).
    """

    __slots__ = ("_chunks", "_ctx", "_content_type", "_data")

    # Set by wsgi_app (PERF: no __init__ call).
    _chunks: tuple[bytes, ...]  # (data,), or () for HEAD
    _ctx: RequestContext | None  # None once closed
    _content_type: str
    _data: bytes

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._chunks)

    def close(self) -> None:
        ctx = self._ctx
        if ctx is not None:
            self._ctx = None
            _end_request(ctx, self)

    def closed_response(self) -> Response:
        """A Response equal to what was sent, for ``response_closed`` receivers."""
        return Response(self._data, content_type=self._content_type)
