"""The request pipeline: one path from the WSGI call to the body the server closes.

Design (DESIGN.md §1). ``wsgi_app`` pushes the request context, matches the
URL, then runs one pipeline:

1. the view's value: url value preprocessors and before_request hooks, a
   routing error raised, automatic OPTIONS, the view. An exception there
   goes to the error handlers (:meth:`Pipeline._user_error`): an
   ``HTTPError`` without a handler is its own response;
2. the response: the value made a Response, after_request hooks, the
   session saved (:meth:`Pipeline._finish_view`);
3. an exception that nothing handled, in either step, in an error handler,
   in a middleware layer, becomes a 500 (:meth:`Pipeline._server_error`):
   logged, ``got_request_exception`` sent, ``errorhandler(500)`` used, the
   after_request hooks run on it (their failure logged, not raised), and the
   exception kept as ``ctx.error`` for the teardown hooks. With
   ``PROPAGATE_EXCEPTIONS`` (or testing or debug) it propagates instead.

The *direct answer* is one decision inside this pipeline: when nothing can
observe a Response (no middleware, no after hook for the endpoint, no
session, no callbacks or signal receivers) and the view returned a plain
``str``, ``bytes``, ``dict`` or ``list``, the head and body are written from
:func:`sluice.bodies.encode_plain`, the encoder ``make_response`` uses, and no
Response is built.

Each endpoint's hooks are compiled into a :class:`Plan` at freeze time
(in order, per blueprint scope), so a request reads one tuple per hook kind.
Middleware layers are each wrapped so an exception inside one becomes the
response the layer outside it sees.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import quote
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Mapping
from typing import TYPE_CHECKING
from typing import Any

from sluice import signals
from sluice.appconfig import request_limits
from sluice.bodies import DirectBody
from sluice.bodies import RequestBody
from sluice.bodies import encode_plain
from sluice.bodies import json_text
from sluice.ctx import RequestContext
from sluice.ctx import _cv_request
from sluice.errors import HTTP_ERRORS
from sluice.errors import BadRequest
from sluice.errors import HTTPError
from sluice.errors import InternalServerError
from sluice.errors import MethodNotAllowed
from sluice.errors import NotFound
from sluice.routing import RequestRedirect
from sluice.sessions import SignedCookieSessionInterface
from sluice.wrappers.request import Request
from sluice.wrappers.response import Response
from sluice.wrappers.response import call_wsgi_app

if TYPE_CHECKING:
    from sluice.app import App
    from sluice.appconfig import Config

log = logging.getLogger("sluice.app")

# PERF: module globals, one lookup less per check of a signal's receivers.
_request_started = signals.request_started
_request_finished = signals.request_finished
_request_tearing_down = signals.request_tearing_down
_appcontext_tearing_down = signals.appcontext_tearing_down
_got_request_exception = signals.got_request_exception

# The status code of each of sluice.errors' own classes, for errorhandler(code).
_STANDARD_CODES: dict[type, int] = {cls: code for code, cls in HTTP_ERRORS.items()}

WSGIEnviron = dict[str, Any]
StartResponse = Callable[..., Any]
Handler = Callable[[Request], Response]
MiddlewareFactory = Callable[[Handler], Handler]

# What a decoded path keeps as is in a Location: RFC 3986 pchar and "/"
# ("%" is not kept: in a decoded path it is a literal percent sign).
_PATH_SAFE = "/:@!$&'()*+,;=-._~"

_RESPONSE_CALL = Response.__call__
_new_object = object.__new__


def blueprint_scopes(blueprint: str | None) -> tuple[str, ...]:
    """A blueprint's scopes, innermost first: ``a.b`` gives ``("a.b", "a")``."""
    if not blueprint:
        return ()
    parts = blueprint.split(".")
    return tuple(".".join(parts[:i]) for i in range(len(parts), 0, -1))


def _redirect_url(request: Request, path: str) -> str:
    """A routing redirect's Location: ``path`` (percent-encoded) below the app's mount point, with the request's query."""
    query = request.environ.get("QUERY_STRING")
    url = request.script_root + path
    return f"{url}?{query}" if query else url


def host_is_trusted(host: str, trusted: tuple[str, ...]) -> bool:
    """Whether ``host`` (a Host header, port allowed) is one of ``trusted``.

    An entry ``".example.com"`` also takes every subdomain of example.com;
    names compare case-insensitively, without a trailing dot.
    """
    if host.startswith("["):
        name = host[1 : host.find("]")] if "]" in host else host
    else:
        name = host.rpartition(":")[0] if ":" in host else host
    name = name.rstrip(".").lower()
    for entry in trusted:
        entry = entry.rstrip(".").lower()
        if entry.startswith("."):
            if name == entry[1:] or name.endswith(entry):
                return True
        elif name == entry:
            return True
    return False


class Plan:
    """The hooks of one endpoint, in the order they run, compiled at freeze time.

    Attributes:
        scopes: the endpoint's blueprint scopes, innermost first.
        blueprint: the innermost scope (``request.blueprint``), or None.
        preprocess: url value preprocessors: the app's, then outer to inner
            blueprints', each in registration order.
        before: before_request hooks, in the same order.
        has_before: either of the two is not empty.
        after: after_request hooks: innermost blueprint first, newest first.
        teardown: teardown_request hooks, in the same order as ``after``.
    """

    __slots__ = ("scopes", "blueprint", "preprocess", "before", "has_before", "after", "teardown", "canonical")

    def __init__(self, app: App, scopes: tuple[str, ...]) -> None:
        self.scopes = scopes
        self.blueprint = scopes[0] if scopes else None
        #: Rules of the endpoint with defaults: a URL whose values are those
        #: defaults redirects to the rule's own URL (set at freeze).
        self.canonical: tuple[Any, ...] = ()
        outward = (*scopes, None)
        inward = (None, *reversed(scopes))
        self.preprocess = tuple(f for s in inward for f in app.url_value_preprocessors.get(s, ()))
        self.before = tuple(f for s in inward for f in app.before_request_funcs.get(s, ()))
        self.has_before = bool(self.preprocess or self.before)
        self.after = tuple(f for s in outward for f in reversed(app.after_request_funcs.get(s, ())))
        self.teardown = tuple(f for s in outward for f in reversed(app.teardown_request_funcs.get(s, ())))


class Pipeline:
    """The serving half of :class:`sluice.App`: freeze, ``wsgi_app`` and the error paths."""

    if TYPE_CHECKING:
        config: Config
        url_map: Any
        view_functions: dict[str, Callable[..., Any]]
        middleware: list[MiddlewareFactory]
        error_handlers: dict[str | None, dict[int | type[BaseException], Callable[[Any], Any]]]
        teardown_appcontext_funcs: list[Callable[[BaseException | None], Any]]
        startup_funcs: list[Callable[[], Any]]

        def _new_request(self, environ: WSGIEnviron) -> Request: ...
        request_class: type[Request]
        response_class: type[Response]
        session_interface: Any
        _startup_lock: Any
        _app_context_factory: Any
        testing: bool
        debug: bool

    # PERF: instance attributes only (set by _init_pipeline), no class
    # defaults: CPython 3.11 does not specialise the load of an instance
    # attribute that shadows a class attribute.
    _frozen: bool
    _started: bool
    _direct: bool
    _lazy_session: bool
    _plain_response: bool
    _teardown_hooks: bool
    _request_limits: tuple[tuple[str, int | None], ...]
    _trusted_hosts: tuple[str, ...] | None
    _request_close: bool
    _app_plan: Plan
    _handler: Handler

    def _init_pipeline(self) -> None:
        """Set the serving state of an app not frozen yet; called from ``App.__init__``."""
        self._frozen = False
        self._started = False
        self._direct = False
        self._lazy_session = False
        self._plain_response = False
        self._teardown_hooks = True  # until freeze() knows (see AppLike)
        self._request_limits = ()
        self._trusted_hosts = None
        self._request_close = True  # until freeze() knows (see AppLike)
        self._handler = self._dispatch

    # -- freezing ------------------------------------------------------------------

    def freeze(self) -> None:
        """Compile the URL map, the hook plans and the middleware chain, once; registration ends.

        Thread-safe: concurrent first requests build them once.
        """
        if self._frozen:
            return
        with self._startup_lock:
            if not self._frozen:
                self._freeze()

    def _freeze(self) -> None:
        app: App = self  # type: ignore[assignment]
        self.url_map.freeze()
        self._app_plan = Plan(app, ())
        # Each rule carries its endpoint's plan (PERF: no lookup per request).
        for endpoint in {rule.endpoint for rule in self.url_map.iter_rules()}:
            plan = Plan(app, blueprint_scopes(endpoint.rpartition(".")[0]))
            rules = list(self.url_map.iter_rules(endpoint))
            if len(rules) > 1:
                plan.canonical = tuple(rule for rule in rules if rule.defaults)
            if not (plan.scopes or plan.canonical):
                plan = self._app_plan
            for rule in rules:
                rule._plan = plan
        handler: Handler = self._dispatch
        for factory in reversed(self.middleware):
            handler = self._guard(factory(handler))
        if self.middleware:
            handler = self._guard(handler)
        self._handler = handler
        cls = type(self)
        self._teardown_hooks = (
            any(app.teardown_request_funcs.values())
            or bool(self.teardown_appcontext_funcs)
            or cls.do_teardown_request is not Pipeline.do_teardown_request
            or cls.do_teardown_appcontext is not Pipeline.do_teardown_appcontext
        )
        # The default session interface writes nothing for a request that
        # neither used the session nor sent a cookie, so it is opened lazily.
        self._lazy_session = type(self.session_interface) is SignedCookieSessionInterface
        # A str is made a response without make_response() only when
        # neither it nor the response class's constructor was overridden.
        self._plain_response = (
            self.response_class.__init__ is Response.__init__ and cls.make_response is Pipeline.make_response
        )
        self._request_limits = request_limits(self.config, self.request_class)
        # PERF: a class attribute read once, not per request.
        self._request_close = self.request_class.close is not Request.close
        trusted = self.config.get("TRUSTED_HOSTS")
        if isinstance(trusted, str):
            raise ValueError("config['TRUSTED_HOSTS'] is a list of host names, e.g. ['example.com', '.example.com']")
        self._trusted_hosts = tuple(trusted) if trusted is not None else None
        # The direct answer is possible at all (each request still checks
        # that nothing observes its response).
        self._direct = (
            not self.middleware
            and self._lazy_session
            and self.response_class is Response
            and self._plain_response
        )
        self._frozen = True

    def _start(self) -> None:
        """Freeze, then run the startup hooks once per process, in an application context (concurrent first requests wait)."""
        with self._startup_lock:
            if self._started:
                return
            self.freeze()
            if self.startup_funcs:
                app: App = self  # type: ignore[assignment]
                with app.app_context():
                    for func in self.startup_funcs:
                        func()
            self._started = True

    # -- the WSGI call ---------------------------------------------------------------

    def __call__(self, environ: WSGIEnviron, start_response: StartResponse) -> Iterable[bytes]:
        return self.wsgi_app(environ, start_response)

    def wsgi_app(self, environ: WSGIEnviron, start_response: StartResponse) -> Iterable[bytes]:
        """The WSGI entry point; ``app.wsgi_app = Middleware(app.wsgi_app)`` wraps it."""
        if not self._started:
            self._start()
        # PERF: without configured limits, no call to _new_request().
        request = self._new_request(environ) if self._request_limits else self.request_class(environ)
        ctx = RequestContext(self, request, self._app_context_factory)  # type: ignore[arg-type]
        ctx.push()
        try:
            _match_request(self, ctx)
            if not self._lazy_session:
                ctx.session  # noqa: B018 - opened when the request starts, as the interface may expect
            if _request_started.receivers:
                _request_started.send(self)
            if self._direct:
                rv = _view_value(self, request, ctx)
                kind = type(rv)
                if (
                    (kind is str or kind is dict or kind is bytes or kind is list)
                    and not ctx.plan.after
                    and not ctx.after_request_functions
                    and not ctx.session_opened
                    and not request.response_callbacks
                    and not _request_finished.receivers
                    and "HTTP_COOKIE" not in environ
                ):
                    # PERF: nothing can observe a Response object, so none is
                    # built; the head and body are make_response(rv)'s
                    # (tests/test_app_direct.py; benchmarks/RESULTS.md).
                    encoded = encode_plain(rv, self.config)
                    if encoded is not None:
                        data, content_type = encoded
                        start_response("200 OK", [("Content-Type", content_type), ("Content-Length", str(len(data)))])
                        ctx.handed_off = True
                        direct = _new_object(DirectBody)
                        direct._chunks = () if request.method == "HEAD" else (data,)
                        direct._ctx = ctx
                        direct._content_type = content_type
                        direct._data = data
                        return direct
                response = self._finish_view(rv, request, ctx)
            else:
                response = self._handler(request)
            if request.response_callbacks or _request_finished.receivers:
                response = self._notify(response, request, ctx)
            if type(response).__call__ is _RESPONSE_CALL:
                # PERF: the response's own iterable also ends the request.
                body = response.start(environ, start_response, RequestBody)
            else:
                iterable = response(environ, start_response)
                body = RequestBody(iterable, iterable, ())
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

    def _notify(self, response: Response, request: Request, ctx: RequestContext) -> Response:
        """Run the response callbacks and send ``request_finished``; a failure makes a 500."""
        try:
            for callback in request.response_callbacks:
                callback(request, response)
            if _request_finished.receivers:
                _request_finished.send(self, response=response)
        except Exception as exc:
            return self._server_error(exc, ctx)
        return response

    # -- the pipeline ----------------------------------------------------------------

    def _dispatch(self, request: Request) -> Response:
        """The innermost handler: the view's value, then its response; errors become responses."""
        ctx = _cv_request.get()
        return self._finish_view(_view_value(self, request, ctx), request, ctx)

    def _view_value(self, request: Request, ctx: RequestContext) -> Any:
        """What the before_request hooks, the view or an error handler return.

        An exception no handler takes is made a 500 here (a Response).
        """
        try:
            plan = ctx.plan
            if plan.has_before:
                for preprocess in plan.preprocess:
                    preprocess(request.endpoint, request.view_args)
                for func in plan.before:
                    rv = func()
                    if rv is not None:
                        return rv
            if ctx.routing_exception is not None:
                raise ctx.routing_exception
            rule = ctx.url_rule
            if rule.provide_automatic_options and request.method == "OPTIONS":
                return self._automatic_options(request)
            try:
                view = self.view_functions[rule.endpoint]
            except KeyError:
                raise RuntimeError(
                    f"no view function for endpoint {rule.endpoint!r}; pass view_func= to add_url_rule"
                ) from None
            view_args = request.view_args
            return view(**view_args) if view_args else view()  # PERF: no empty **{}
        except Exception as exc:
            try:
                return self._user_error(exc, ctx)
            except Exception as unhandled:
                return self._server_error(unhandled, ctx)

    def _finish_view(self, rv: Any, request: Request, ctx: RequestContext) -> Response:
        """Turn ``rv`` into the response, run after_request hooks, save the session; a failure makes a 500."""
        if isinstance(rv, Response) and ctx.error is not None:
            return rv  # a 500 already finished by _server_error
        try:
            # PERF: the common return values skip make_response's rule list.
            if type(rv) is str and self._plain_response:
                response = self.response_class.from_text(rv)
            elif isinstance(rv, Response):
                response = rv
            else:
                response = self.make_response(rv)
            return self._process_response(response, request, ctx)
        except Exception as exc:
            return self._server_error(exc, ctx)

    def _process_response(self, response: Response, request: Request, ctx: RequestContext) -> Response:
        """``after_this_request`` functions, the after_request hooks, then the session saved."""
        for func in reversed(ctx.after_request_functions):
            response = func(response)
        for func in ctx.plan.after:
            response = func(response)
        if ctx.session_opened or not self._lazy_session or "HTTP_COOKIE" in request.environ:
            self.session_interface.save_session(self, ctx.session, response)
        return response

    def _guard(self, layer: Handler) -> Handler:
        """Wrap a middleware layer: an exception inside it becomes the response the layer outside sees."""

        def guarded(request: Request) -> Response:
            try:
                return layer(request)
            except Exception as exc:
                ctx = _cv_request.get()
                if exc is ctx.error:
                    raise  # propagating (PROPAGATE_EXCEPTIONS): already reported
                try:
                    rv = self._user_error(exc, ctx)
                    return rv if isinstance(rv, Response) else self.make_response(rv)
                except Exception as unhandled:
                    return self._server_error(unhandled, ctx)

        return guarded

    # -- errors ----------------------------------------------------------------------

    def _find_handler(self, exc: BaseException, scopes: tuple[str, ...]) -> Callable[[Any], Any] | None:
        # The innermost blueprint's handlers first, then outer ones, then the
        # app's (as Flask). Within a scope, the most specific class along the
        # MRO wins; a handler registered by code stands for that code's class
        # (404 for NotFound), so errorhandler(MissingItem) beats
        # errorhandler(404) for a MissingItem(NotFound). An HTTPError subclass
        # outside that tree still reaches the handler of its code.
        for scope in (*scopes, None):
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

    def _user_error(self, exc: Exception, ctx: RequestContext) -> Any:
        """The value for an exception of the hooks or view: its handler's, or an HTTPError's own response.

        Raises:
            Exception: ``exc`` when no handler takes it and it is no
                HTTPError, or what the handler raised.
        """
        handler = self._find_handler(exc, ctx.plan.scopes if ctx.plan is not None else ())
        if handler is not None:
            return handler(exc)
        if isinstance(exc, HTTPError) and not self._trapped(exc):
            return self._error_response(exc)
        raise exc

    def _propagates(self) -> bool:
        """Whether unhandled errors are raised to the caller: ``PROPAGATE_EXCEPTIONS``, default in testing or debug."""
        propagate = self.config["PROPAGATE_EXCEPTIONS"]
        return bool(propagate or (propagate is None and (self.testing or self.debug)))

    def _trapped(self, exc: HTTPError) -> bool:
        """Whether config traps this HTTPError (``TRAP_HTTP_EXCEPTIONS``, ``TRAP_BAD_REQUEST_ERRORS``)."""
        config = self.config
        if config.get("TRAP_HTTP_EXCEPTIONS"):
            return True
        return bool(config.get("TRAP_BAD_REQUEST_ERRORS")) and isinstance(exc, BadRequest)

    def _server_error(self, exc: Exception, ctx: RequestContext) -> Response:
        """The 500 for an unhandled exception, finished (after hooks, session), ``exc`` kept for teardown.

        Raises:
            Exception: ``exc``, under ``PROPAGATE_EXCEPTIONS`` (default: in
                testing or debug mode).
        """
        ctx.error = exc
        if _got_request_exception.receivers:
            _got_request_exception.send(self, exception=exc)
        if self._propagates():
            raise exc
        request = ctx.request
        log.error("Exception on %s %s", request.method, request.path, exc_info=exc)
        server_error = InternalServerError()
        server_error.original_exception = exc
        handler = self._find_handler(server_error, ctx.plan.scopes if ctx.plan is not None else ())
        try:
            rv = handler(server_error) if handler is not None else self._error_response(server_error)
            response = rv if isinstance(rv, Response) else self.make_response(rv)
        except Exception as handler_error:
            log.error("the 500 error handler failed; sending the standard 500", exc_info=handler_error)
            response = self._error_response(server_error)
        try:
            return self._process_response(response, request, ctx)
        except Exception as hook_error:
            log.error("an after_request hook failed on the 500 response; sending it as it was", exc_info=hook_error)
            return response

    def _error_response(self, error: HTTPError) -> Response:
        if error.response is not None:
            given: Response = error.response if isinstance(error.response, Response) else self.make_response(error.response)
            return given
        request = _cv_request.get().request
        response: Response = error.build_response(request.prefers_json, self.response_class)
        if isinstance(error, MethodNotAllowed) and not error.valid_methods:
            response.headers.set("Allow", ", ".join(self.url_map.allowed_methods(request.path)))
        return response

    def _match(self, ctx: RequestContext) -> None:
        """Match the URL when the context is pushed; keep a failure for dispatch.

        So every hook (and middleware) already knows the endpoint, view
        arguments and hook plan, and a 404/405/redirect is raised inside the
        error handling, where handlers and after_request hooks apply.
        """
        request = ctx.request
        if request._path_error is not None:
            ctx.routing_exception = request._path_error
            ctx.plan = self._app_plan
            return
        if self._trusted_hosts is not None and not host_is_trusted(request.host, self._trusted_hosts):
            ctx.routing_exception = BadRequest(
                f"The host {request.host!r} is not served here (config TRUSTED_HOSTS)."
            )
            ctx.plan = self._app_plan
            return
        try:
            rule, view_args = self.url_map.match(request.path, request.method)
        except RequestRedirect as redirect:
            redirect.new_url = _redirect_url(request, quote(redirect.new_url, safe=_PATH_SAFE))
            ctx.routing_exception = redirect
            ctx.plan = self._app_plan
        except HTTPError as exc:
            merged = self._merged_slashes(request) if isinstance(exc, NotFound) else None
            ctx.routing_exception = merged or exc
            ctx.plan = self._app_plan
        else:
            ctx.url_rule = rule
            request.endpoint = rule.endpoint
            request.view_args = view_args
            plan = ctx.plan = rule._plan
            if plan.canonical:
                canonical = self._canonical_redirect(request, rule, view_args, plan)
                if canonical is not None:
                    ctx.routing_exception = canonical
            if plan.blueprint is not None:
                request.blueprint = plan.blueprint

    def _canonical_redirect(
        self, request: Request, rule: Any, view_args: dict[str, Any], plan: Plan
    ) -> RequestRedirect | None:
        """A 308 to the rule whose defaults are exactly these values (as Werkzeug's redirect_defaults).

        With ``/users/`` (``defaults={"page": 1}``) and ``/users/page/<int:page>``,
        ``/users/page/1`` redirects to ``/users/``, so each page has one URL.
        """
        for other in plan.canonical:
            if other is rule or request.method not in other.methods:
                continue
            if other.arguments or other.defaults != view_args:
                continue
            return RequestRedirect(_redirect_url(request, other.build_path({})))  # build_path encodes
        return None

    def _merged_slashes(self, request: Request) -> RequestRedirect | None:
        """A 308 to the path with repeated slashes merged, when only that path matches (as Werkzeug)."""
        path = request.path
        if "//" not in path:
            return None
        merged = re.sub("/{2,}", "/", path)
        try:
            self.url_map.match(merged, request.method)
        except RequestRedirect:
            pass  # the merged path then needs its slash: redirect to it, the next request adds it
        except HTTPError:
            return None
        return RequestRedirect(_redirect_url(request, quote(merged, safe=_PATH_SAFE)))

    def _automatic_options(self, request: Request) -> Response:
        response = self.response_class("")
        response.headers.set("Allow", ", ".join(self.url_map.allowed_methods(request.path)))
        return response

    # -- teardown --------------------------------------------------------------------

    def do_teardown_request(self, exc: BaseException | None) -> None:
        """Run the teardown_request hooks (innermost blueprint first, newest first), then ``request_tearing_down``.

        Every hook runs even when one raises; failures are logged (raised,
        the first one, under ``PROPAGATE_EXCEPTIONS``).
        """
        ctx = _cv_request.get(None)
        plan = ctx.plan if ctx is not None else None
        if plan is None:
            app: App = self  # type: ignore[assignment]
            scopes = blueprint_scopes(ctx.request.blueprint) if ctx is not None else ()
            plan = Plan(app, scopes)
        self._call_all(plan.teardown, exc, "teardown_request")
        if _request_tearing_down.receivers:
            _request_tearing_down.send(self, exc=exc)

    def do_teardown_appcontext(self, exc: BaseException | None) -> None:
        """Run the teardown_appcontext hooks (newest first) and send ``appcontext_tearing_down``.

        Every hook runs even when one raises (see :meth:`do_teardown_request`).
        """
        self._call_all(reversed(self.teardown_appcontext_funcs), exc, "teardown_appcontext")
        if _appcontext_tearing_down.receivers:
            _appcontext_tearing_down.send(self, exc=exc)

    def _call_all(self, funcs: Iterable[Callable[[BaseException | None], Any]], exc: BaseException | None, kind: str) -> None:
        first: Exception | None = None
        for func in funcs:
            try:
                func(exc)
            except Exception as error:
                log.error("a %s function (%s) failed", kind, getattr(func, "__qualname__", func), exc_info=error)
                first = first or error
        if first is not None and self._propagates():
            raise first

    # -- return values ---------------------------------------------------------------

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
            response = self.response_class(json_text(rv, self.config), mimetype="application/json")
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


# PERF: the request path calls these through module names, not ``self.``: an
# App has more than 30 instance attributes, so its ``__dict__`` is a real dict,
# and CPython 3.11 specialises no method load from such an object (about 240
# instructions each, benchmarks/RESULTS.md). They are private: a subclass
# does not override them.
_match_request = Pipeline._match
_view_value = Pipeline._view_value
