"""Application and request contexts on ``contextvars``, and their proxies.

Design: the active contexts live in two ``ContextVar``s, so every thread,
greenlet (with contextvars support) and asyncio task sees its own, and
nothing leaks from one request to the next. ``push()`` keeps the token of
each ``set()`` and ``pop()`` resets it, which restores whatever was active
before, so contexts nest. The module-level ``current_app``, ``g``,
``request`` and ``session`` objects are proxies that look the context up on
every use; outside a context they raise ``RuntimeError`` with a message that
says how to get one. As in Flask, pushing a request context provides an
application context when none for the same app is active, and reuses an
active one; unless the app supplies its own ``AppContext`` factory, the
request context itself serves as that application context (its own ``g``,
teardown_appcontext hooks and appcontext signals at its last pop), which
saves an object and a push per request. The session is opened on first use.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from collections.abc import Iterator
from contextvars import ContextVar
from contextvars import Token
from types import TracebackType
from typing import Any
from typing import Protocol
from typing import TYPE_CHECKING
from typing import Self
from typing import TypeAlias
from typing import cast

from sluice.signals import appcontext_popped
from sluice.signals import appcontext_pushed
from sluice.signals import appcontext_tearing_down
from sluice.signals import request_tearing_down

if TYPE_CHECKING:
    from sluice.app import App
    from sluice.sessions import Session
    from sluice.wrappers.request import Request


class AppLike(Protocol):
    """What the contexts need from an application object."""

    #: False when the app has no teardown hooks and its ``do_teardown_*``
    #: methods only run those and send the teardown signals; the contexts
    #: then call them only for a signal receiver (PERF: two calls less per
    #: request, benchmarks/RESULTS.md "Framework hot path").
    _teardown_hooks: bool
    #: True when the app's request class overrides ``Request.close()``, so
    #: every request's ``close()`` is called, not only one with uploads.
    _request_close: bool

    def do_teardown_appcontext(self, exc: BaseException | None) -> None:
        """Run the teardown_appcontext hooks."""

    def do_teardown_request(self, exc: BaseException | None) -> None:
        """Run the teardown_request hooks."""

    def open_session(self, request: Any) -> Any:
        """Return the session of ``request``."""


# What serves as the application context: an AppContext, or a request context
# that provided it implicitly.
_AnyAppContext: TypeAlias = "AppContext | RequestContext"

_cv_app: ContextVar[_AnyAppContext] = ContextVar("sluice.app_ctx")
_cv_request: ContextVar[RequestContext] = ContextVar("sluice.request_ctx")
#: What a request context's push did for the application context.
_Pushed: TypeAlias = "Token[_AnyAppContext] | AppContext | RequestContext | None"

log = logging.getLogger("sluice.app")

_NO_APP = (
    "Working outside of application context. Code that uses current_app or g "
    "needs an active application: run it inside a request, or wrap it in "
    "'with app.app_context():'."
)
_NO_REQUEST = (
    "Working outside of request context. Code that uses request or session "
    "runs only while a request is handled; in tests, wrap it in "
    "'with app.test_request_context():'."
)


class AppGlobals:
    """The ``g`` namespace: per application context, free-form attributes."""

    if TYPE_CHECKING:
        # Any attribute may be set and read (a missing one raises AttributeError).
        def __getattr__(self, name: str) -> Any: ...
        def __setattr__(self, name: str, value: Any) -> None: ...

    def get(self, name: str, default: Any = None) -> Any:
        """Return attribute ``name`` or ``default``."""
        return self.__dict__.get(name, default)

    def pop(self, name: str, *default: Any) -> Any:
        """Remove and return attribute ``name`` (or ``default``).

        Raises:
            KeyError: ``name`` is not set and no default was given.
        """
        return self.__dict__.pop(name, *default)

    def setdefault(self, name: str, default: Any = None) -> Any:
        """Return attribute ``name``, setting it to ``default`` first if missing."""
        return self.__dict__.setdefault(name, default)

    def __contains__(self, name: str) -> bool:
        return name in self.__dict__

    def __iter__(self) -> Iterator[str]:
        return iter(self.__dict__)

    def __repr__(self) -> str:
        return f"<sluice.g {self.__dict__!r}>"


class _Context:
    """``with`` support: push on entry, pop with the exception on exit."""

    def push(self) -> None:
        raise NotImplementedError

    def pop(self, exc: BaseException | None = None) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        self.push()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.pop(exc)


class AppContext(_Context):
    """Makes ``current_app`` and ``g`` available; usable as ``with``.

    Args:
        app: the application.
    """

    def __init__(self, app: AppLike) -> None:
        self.app = app
        self.g = AppGlobals()
        self._tokens: list[Token[_AnyAppContext]] = []

    def push(self) -> None:
        """Make this context active (it may be pushed several times)."""
        self._tokens.append(_cv_app.set(self))
        if appcontext_pushed.receivers:
            appcontext_pushed.send(self.app)

    def pop(self, exc: BaseException | None = None) -> None:
        """Deactivate this context; the last pop runs the teardown hooks.

        Args:
            exc: the exception that ended the work, passed to the hooks.

        Raises:
            RuntimeError: this context is not the active one.
        """
        if not self._tokens or _cv_app.get(None) is not self:
            raise RuntimeError(f"popped the wrong application context ({self!r} is not the active one)")
        try:
            if len(self._tokens) == 1 and (self.app._teardown_hooks or appcontext_tearing_down.receivers):
                self.app.do_teardown_appcontext(exc)
        finally:
            _cv_app.reset(self._tokens.pop())
            if appcontext_popped.receivers:
                appcontext_popped.send(self.app)

    def __repr__(self) -> str:
        return f"<AppContext of {self.app!r}>"


class RequestContext(_Context):
    """Makes ``request`` and ``session`` available for one request.

    When no application context of ``app`` is active, pushing also provides
    one, as Flask does: with an ``app_context`` factory, a separate
    :class:`AppContext` is pushed; without one, this context serves as the
    application context itself (``current_app`` and a fresh ``g``; its last
    pop runs the teardown_appcontext hooks and sends the appcontext
    signals), which costs one object less per request.

    Args:
        app: the application handling the request.
        request: the request object.
        app_context: a factory for the application context to push when none
            for ``app`` is active, or None (this context serves as one).
    """

    #: The matched URL rule (set by the app when the URL matched).
    url_rule: Any = None
    #: The HTTP error routing raised (404, 405, redirect), raised at dispatch.
    routing_exception: BaseException | None = None
    #: Functions registered with ``after_this_request``.
    after_request_functions: tuple[Callable[[Any], Any], ...] = ()
    #: Set by the app once the response went to the server; the context then
    #: lives until the server calls ``close()``. A new request that finds such
    #: a context still active in its thread ends it first.
    handed_off = False
    #: The endpoint's compiled hooks (:class:`sluice.pipeline.Plan`), set when the URL matched.
    plan: Any
    #: The unhandled exception that made the response a 500 (or broke a
    #: streamed body): what the teardown hooks receive.
    error: BaseException | None
    #: The request context serving as the application context of this one
    #: when no application context variable is set (itself, or one below).
    _app_holder: RequestContext | None = None
    _g: AppGlobals | None = None
    #: True once the session was opened (read or assigned).
    session_opened = False
    _session: Any = None
    #: The ``g`` the request had, kept by :meth:`preserve`.
    _kept_g: AppGlobals | None = None
    #: The (token, pushed) pairs of the outer pushes of a context pushed again.
    _outer_pushes: list[tuple[Token[RequestContext] | None, _Pushed]] | None = None
    #: True once :meth:`push_preserved` pushed the context again after its
    #: request ended: its pops run no teardown hooks and send no signals.
    _ended = False

    def __init__(
        self, app: AppLike, request: Any, app_context: Callable[[], AppContext] | None = None
    ) -> None:
        self.app = app
        self.request = request
        self._app_context = app_context
        # PERF: the attributes every request reads are set here, not left to
        # class defaults: CPython 3.11 specialises loads of instance
        # attributes, not of class attributes read through an instance
        # (each such read costs about 130 instructions more; RESULTS.md).
        self.plan = None
        self.error = None
        self.routing_exception = None
        self.after_request_functions = ()
        self.session_opened = False
        # The innermost push: the request variable's token, and what was
        # pushed for the application context (a token, an AppContext, itself
        # when serving without the variable, or None). PERF: fields, not a
        # list of pairs; a context pushed again keeps its outer pushes in
        # ``_outer_pushes``.
        self._depth = 0
        self._token: Token[RequestContext] | None = None
        self._pushed: _Pushed = None

    @property
    def g(self) -> AppGlobals:
        """The ``g`` namespace while this context serves as the application context (made on first use)."""
        g = self._g
        if g is None:
            g = self._g = AppGlobals()
        return g

    @property
    def session(self) -> Any:
        """The request's session, opened by the app's session interface on first use."""
        if not self.session_opened:
            self._session = self.app.open_session(self.request)
            self.session_opened = True
        return self._session

    @session.setter
    def session(self, value: Any) -> None:
        self._session = value
        self.session_opened = True

    def copy(self) -> RequestContext:
        """A new context for the same request and session (see ``copy_current_request_context``).

        It is not active; pushing it gives it its own ``g`` unless an
        application context of the app is active.
        """
        other = type(self)(self.app, self.request, self._app_context)
        other.url_rule = self.url_rule
        other.plan = self.plan
        if self.session_opened:
            other.session = self._session
        return other

    def preserve(self) -> None:
        """Keep the request's ``g`` so :meth:`push_preserved` can show it after the request ended.

        Call it while the request's application context is still active,
        before the request's last pop (the test client does, from the
        ``sluice.preserve_context`` callback, inside ``with client:``).
        """
        self._kept_g = _app_ctx().g

    def push_preserved(self) -> None:
        """Make this context active again after its request ended, to inspect it.

        ``request``, ``session``, ``current_app`` and the ``g`` the request
        had (see :meth:`preserve`) are visible; the context serves as its
        own application context. Neither this push nor the pop that ends it
        runs a hook or sends a signal: the teardown ran when the request
        ended, as it would outside a test.

        Raises:
            RuntimeError: the context is still active, or :meth:`preserve`
                was not called before its request ended.
        """
        if self._depth or self._kept_g is None:
            raise RuntimeError(
                f"{self!r} cannot be pushed as preserved: call preserve() before its request ends, "
                "and push_preserved() only once it was popped"
            )
        self._ended = True
        self._g = self._kept_g
        self._app_holder = self
        self._record_push(self if _cv_app.get(None) is None else _cv_app.set(self))

    def _record_push(self, pushed: _Pushed) -> None:
        """Set the request variable to this context; ``pushed`` is what the application context got."""
        if self._depth:
            if self._outer_pushes is None:
                self._outer_pushes = []
            self._outer_pushes.append((self._token, self._pushed))
        self._token = _cv_request.set(self)
        self._pushed = pushed
        self._depth += 1

    def push(self) -> None:
        """Make this context active, and provide an application context if none for ``app`` is."""
        top = _cv_request.get(None)
        if top is not None and top.handed_off:
            # The previous request of this thread was answered but its
            # context never ended: the server did not call close().
            log.warning(
                "the WSGI server did not call close() on the previous response (PEP 3333 requires it); "
                "ending that request's context now, before the next request"
            )
            top.pop(None)
            top = _cv_request.get(None)
        var_ctx = _cv_app.get(None)
        holder = top._app_holder if top is not None else None
        app_ctx = var_ctx if var_ctx is not None else holder
        pushed: _Pushed = None
        if app_ctx is not None and app_ctx.app is self.app:
            # Reused: a request context below serves as the application
            # context, or the variable's context does (no holder needed).
            self._app_holder = holder if var_ctx is None else None
        elif self._app_context is not None:
            pushed = self._app_context()
            pushed.push()
        else:
            # This context serves as the application context. PERF: when no
            # application context variable is set, none is set for it
            # (lookups fall back to the active request context's holder), so
            # a request sets and resets one context variable, not two.
            self._app_holder = self
            pushed = self if var_ctx is None else _cv_app.set(self)
            if appcontext_pushed.receivers:
                appcontext_pushed.send(self.app)
        self._record_push(pushed)

    def pop(self, exc: BaseException | None = None) -> None:
        """Deactivate; the last pop runs teardown hooks, always, even if one raises.

        Raises:
            RuntimeError: this context is not the active one.
        """
        depth = self._depth
        if not depth or _cv_request.get(None) is not self:
            raise RuntimeError(f"popped the wrong request context ({self!r} is not the active one)")
        app = self.app
        try:
            if depth == 1 and (app._teardown_hooks or request_tearing_down.receivers) and not self._ended:
                app.do_teardown_request(exc)
        finally:
            token = self._token
            pushed = self._pushed
            self._depth = depth = depth - 1
            if depth:
                self._token, self._pushed = self._outer_pushes.pop()  # type: ignore[union-attr]
            else:
                self._token = self._pushed = None
            _cv_request.reset(token)  # type: ignore[arg-type]
            if pushed is None:
                pass
            elif pushed is not self and isinstance(pushed, AppContext):
                pushed.pop(exc)
            else:
                try:
                    if (app._teardown_hooks or appcontext_tearing_down.receivers) and not self._ended:
                        if pushed is self:
                            # current_app and g stay visible to the hooks;
                            # request no longer is (as in Flask).
                            visible = _cv_app.set(self)
                            try:
                                app.do_teardown_appcontext(exc)
                            finally:
                                _cv_app.reset(visible)
                        else:
                            app.do_teardown_appcontext(exc)
                finally:
                    if pushed is not self:
                        _cv_app.reset(pushed)  # type: ignore[arg-type]
                    self._app_holder = None
                    self._g = None  # a later push serves as a new application context
                    if appcontext_popped.receivers and not self._ended:
                        appcontext_popped.send(self.app)

    def __repr__(self) -> str:
        return f"<RequestContext {self.request!r}>"


def _active_app_ctx() -> _AnyAppContext | None:
    """The active application context: the variable's, else the one the active request context has."""
    ctx = _cv_app.get(None)
    if ctx is None:
        top = _cv_request.get(None)
        if top is not None:
            return top._app_holder
    return ctx


def has_app_context() -> bool:
    """Return True inside an application context."""
    return _active_app_ctx() is not None


def has_request_context() -> bool:
    """Return True while a request is handled (inside a request context)."""
    return _cv_request.get(None) is not None


def _app_ctx() -> _AnyAppContext:
    ctx = _active_app_ctx()
    if ctx is None:
        raise RuntimeError(_NO_APP)
    return ctx


def _request_ctx() -> RequestContext:
    ctx = _cv_request.get(None)
    if ctx is None:
        raise RuntimeError(_NO_REQUEST)
    return ctx


class _Proxy:
    """Forwards every operation to the object ``get()`` returns now."""

    __slots__ = ("_get",)

    def __init__(self, get: Callable[[], Any]) -> None:
        object.__setattr__(self, "_get", get)

    def _get_current_object(self) -> Any:
        """Return the object behind the proxy (to pass it to another thread)."""
        return self._get()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._get(), name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._get(), name, value)

    def __delattr__(self, name: str) -> None:
        delattr(self._get(), name)

    def __getitem__(self, key: Any) -> Any:
        return self._get()[key]

    def __setitem__(self, key: Any, value: Any) -> None:
        self._get()[key] = value

    def __delitem__(self, key: Any) -> None:
        del self._get()[key]

    def __contains__(self, item: Any) -> bool:
        return item in self._get()

    def __iter__(self) -> Iterator[Any]:
        return iter(self._get())

    def __len__(self) -> int:
        return len(self._get())

    def __bool__(self) -> bool:
        try:
            return bool(self._get())
        except RuntimeError:
            return False

    def __eq__(self, other: object) -> bool:
        return bool(self._get() == other)

    def __ne__(self, other: object) -> bool:
        return bool(self._get() != other)

    __hash__ = None  # type: ignore[assignment]

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._get()(*args, **kwargs)

    def __repr__(self) -> str:
        try:
            return repr(self._get())
        except RuntimeError:
            return "<unbound proxy>"

    def __str__(self) -> str:
        try:
            return str(self._get())
        except RuntimeError:
            return "<unbound proxy>"


# Typed as what they stand for, so ``request.args`` or ``current_app.config``
# type-check; ``_get_current_object()`` is the one proxy method outside those
# types (use ``typing.cast(Any, request)._get_current_object()`` in typed code).

#: The application handling the current request (or of the app context).
current_app: App = cast("App", _Proxy(lambda: _app_ctx().app))
#: A namespace for data during one application context (one request).
g: AppGlobals = cast(AppGlobals, _Proxy(lambda: _app_ctx().g))
#: The request being handled.
request: Request = cast("Request", _Proxy(lambda: _request_ctx().request))
#: The session of the request being handled.
session: Session = cast("Session", _Proxy(lambda: _request_ctx().session))
