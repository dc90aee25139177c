"""Templates: render_template and friends, and the registration API of the App and blueprints.

Design: Jinja2 is imported on the first render or the first use of
``app.jinja_env`` (:mod:`sluice.jinja_env` holds everything that imports
it), so a JSON-only app pays nothing for templates. Until then the
decorators (``template_filter``, ``template_global``, ``template_test``)
keep what they are given in plain dicts, copied into the environment when
it is made; after that they also write to it directly. The environment is
made once per app, under a lock. A render builds the context as Flask
does: ``g`` inside an application context, ``request`` and ``session``
inside a request context, then the app's context processors, then the
processors of the request's blueprints from outer to inner (``a``, then
``a.b``), then the keyword arguments, which win. ``session`` is given as
the proxy, so a template that does not use it does not open it. Jinja2
caches compiled templates (and, with ``auto_reload``, checks their files'
modification times at each lookup). The mixins :class:`AppTemplating` and
:class:`BlueprintTemplating` are bases of ``App`` and ``Blueprint``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Mapping
from functools import cached_property
from typing import TYPE_CHECKING
from typing import Any
from typing import ClassVar
from typing import TypeVar
from typing import cast
from typing import overload

from sluice import signals
from sluice.ctx import _active_app_ctx
from sluice.ctx import _app_ctx
from sluice.ctx import _cv_request
from sluice.ctx import g
from sluice.ctx import request
from sluice.ctx import session
from sluice.flashing import get_flashed_messages
from sluice.helpers import url_for

if TYPE_CHECKING:
    from jinja2 import BaseLoader
    from jinja2 import Environment
    from jinja2 import Template

    from sluice.jinja_env import DispatchingLoader

F = TypeVar("F", bound=Callable[..., Any])

# PERF: module globals, one lookup less per check of a signal's receivers.
_before_render_template = signals.before_render_template
_template_rendered = signals.template_rendered

# Made once per app; a lock so that concurrent first renders build one.
_env_lock = threading.Lock()

# Autoescape for these endings, and for templates from strings (as Flask).
_AUTOESCAPE_ENDINGS = (".html", ".htm", ".xml", ".xhtml", ".svg")


class AppTemplating:
    """The App's template API: ``jinja_env``, context processors, filters, globals and tests.

    Attributes:
        jinja_options: extra :class:`jinja2.Environment` options
            (``autoescape`` and ``auto_reload`` have app defaults).
        jinja_environment: the environment class (None: :class:`sluice.jinja_env.Environment`).
        template_context_processors: functions returning dicts merged into
            every template's context, by scope: None for the app, else a
            blueprint's dotted name.
    """

    jinja_options: ClassVar[dict[str, Any]] = {}
    jinja_environment: ClassVar[type[Environment] | None] = None

    if TYPE_CHECKING:

        @property
        def config(self) -> Mapping[str, Any]: ...

        root_path: str
        template_folder: str | None
        blueprints: dict[str, Any]

        def _check_setup(self, what: str) -> None: ...

    template_context_processors: dict[str | None, list[Callable[[], dict[str, Any]]]]
    _jinja_env: Environment | None
    _template_filters: dict[str, Callable[..., Any]]
    _template_globals: dict[str, Any]
    _template_tests: dict[str, Callable[..., bool]]

    def _init_templating(self) -> None:
        """Create the template state; called from ``App.__init__``."""
        self.template_context_processors = {}
        self._jinja_env = None
        self._template_filters = {}
        self._template_globals = {}
        self._template_tests = {}

    # -- the environment -----------------------------------------------------------

    @property
    def jinja_env(self) -> Environment:
        """The app's Jinja2 environment, made (and Jinja2 imported) on first use."""
        env = self._jinja_env
        if env is None:
            with _env_lock:
                env = self._jinja_env
                if env is None:
                    env = self._jinja_env = self.create_jinja_environment()
        return env

    def create_jinja_environment(self) -> Environment:
        """Make the environment: :attr:`jinja_options`, the app's defaults, globals and registered filters.

        Returns:
            An instance of :attr:`jinja_environment`.
        """
        from sluice.jinja_env import Environment as DefaultEnvironment

        options = dict(self.jinja_options)
        options.setdefault("autoescape", self.select_jinja_autoescape)
        cls = self.jinja_environment or DefaultEnvironment
        env = cls(self, **options)  # type: ignore[arg-type]
        env.globals.update(
            url_for=url_for,
            get_flashed_messages=get_flashed_messages,
            config=self.config,
            # Proxies, so that macros imported without context see them too.
            request=request,
            session=session,
            g=g,
        )
        env.globals.update(self._template_globals)
        env.filters.update(self._template_filters)
        env.tests.update(self._template_tests)
        return env

    def create_global_jinja_loader(self) -> DispatchingLoader:
        """Return the loader of the environment: the app's folder, then each blueprint's."""
        from sluice.jinja_env import DispatchingLoader

        return DispatchingLoader(self)

    @cached_property
    def jinja_loader(self) -> BaseLoader | None:
        """The loader of the app's own ``template_folder`` (below ``root_path``), or None."""
        from sluice.jinja_env import folder_loader

        return folder_loader(self.root_path, self.template_folder)

    def select_jinja_autoescape(self, filename: str | None) -> bool:
        """Return whether to autoescape a template: from a string, or named ``.html .htm .xml .xhtml .svg``."""
        if filename is None:
            return True
        return filename.endswith(_AUTOESCAPE_ENDINGS)

    def update_template_context(self, context: dict[str, Any]) -> None:
        """Add ``g``, ``request``, ``session`` and the context processors' values to ``context``.

        Values already in ``context`` (the render's keyword arguments) win.
        The app's processors run first, then those of the request's
        blueprints from outer to inner.
        """
        extra: dict[str, Any] = {}
        ctx = _cv_request.get(None)
        app_ctx = _active_app_ctx()
        if app_ctx is not None:
            extra["g"] = app_ctx.g
        if ctx is not None:
            extra["request"] = ctx.request
            extra["session"] = session
        processors = self.template_context_processors
        if processors:
            for func in processors.get(None, ()):
                extra.update(func())
            blueprint = ctx.request.blueprint if ctx is not None else None
            if blueprint:
                parts = blueprint.split(".")
                for i in range(1, len(parts) + 1):
                    for func in processors.get(".".join(parts[:i]), ()):
                        extra.update(func())
        extra.update(context)
        context.update(extra)

    # -- registration ----------------------------------------------------------------

    def context_processor(self, func: F) -> F:
        """Merge the dict ``func()`` returns into the context of every template.

        Raises:
            RuntimeError: the app already serves requests.
        """
        self._check_setup("a context processor")
        self.template_context_processors.setdefault(None, []).append(func)
        return func

    @overload
    def template_filter(self, name: F) -> F: ...
    @overload
    def template_filter(self, name: str | None = None) -> Callable[[F], F]: ...
    def template_filter(self, name: str | F | None = None) -> F | Callable[[F], F]:
        """Register a Jinja2 filter (``@app.template_filter()``, ``("name")`` or bare).

        Args:
            name: the filter's name in templates (default: the function's name).
        """
        if callable(name):
            self.add_template_filter(name)
            return name

        def decorator(func: F) -> F:
            self.add_template_filter(func, name)
            return func

        return decorator

    def add_template_filter(self, func: Callable[..., Any], name: str | None = None) -> None:
        """Register ``func`` as a Jinja2 filter named ``name`` (default: its own name).

        Raises:
            RuntimeError: the app already serves requests.
        """
        self._check_setup("a template filter")
        key = name or func.__name__
        self._template_filters[key] = func
        if self._jinja_env is not None:
            self._jinja_env.filters[key] = func

    @overload
    def template_global(self, name: F) -> F: ...
    @overload
    def template_global(self, name: str | None = None) -> Callable[[F], F]: ...
    def template_global(self, name: str | F | None = None) -> F | Callable[[F], F]:
        """Make a function a global of every template (``@app.template_global()``, ``("name")`` or bare).

        Args:
            name: the global's name in templates (default: the function's name).
        """
        if callable(name):
            self.add_template_global(name)
            return name

        def decorator(func: F) -> F:
            self.add_template_global(func, name)
            return func

        return decorator

    def add_template_global(self, func: Callable[..., Any], name: str | None = None) -> None:
        """Make ``func`` a template global named ``name`` (default: its own name).

        Raises:
            RuntimeError: the app already serves requests.
        """
        self._check_setup("a template global")
        key = name or func.__name__
        self._template_globals[key] = func
        if self._jinja_env is not None:
            self._jinja_env.globals[key] = func

    @overload
    def template_test(self, name: F) -> F: ...
    @overload
    def template_test(self, name: str | None = None) -> Callable[[F], F]: ...
    def template_test(self, name: str | F | None = None) -> F | Callable[[F], F]:
        """Register a Jinja2 test (``{% if x is name %}``); ``@app.template_test()``, ``("name")`` or bare.

        Args:
            name: the test's name in templates (default: the function's name).
        """
        if callable(name):
            self.add_template_test(name)
            return name

        def decorator(func: F) -> F:
            self.add_template_test(func, name)
            return func

        return decorator

    def add_template_test(self, func: Callable[..., bool], name: str | None = None) -> None:
        """Register ``func`` as a Jinja2 test named ``name`` (default: its own name).

        Raises:
            RuntimeError: the app already serves requests.
        """
        self._check_setup("a template test")
        key = name or func.__name__
        self._template_tests[key] = func
        if self._jinja_env is not None:
            self._jinja_env.tests[key] = func


class BlueprintTemplating:
    """The Blueprint's template API: its folder, its context processors, and app-wide filters, globals and tests."""

    if TYPE_CHECKING:
        root_path: str
        template_folder: str | None

        def record(self, func: Callable[[Any], None]) -> None: ...

    @cached_property
    def jinja_loader(self) -> BaseLoader | None:
        """The loader of the blueprint's ``template_folder`` (below its ``root_path``), or None."""
        from sluice.jinja_env import folder_loader

        return folder_loader(self.root_path, self.template_folder)

    def context_processor(self, func: F) -> F:
        """Merge ``func()`` into the context of templates rendered in this blueprint's requests."""
        self.record(lambda s: s.app.template_context_processors.setdefault(s.name, []).append(func))
        return func

    def app_context_processor(self, func: F) -> F:
        """Merge ``func()`` into the context of every template of the app, as ``app.context_processor``."""
        self.record(lambda s: s.app.context_processor(func))
        return func

    @overload
    def app_template_filter(self, name: F) -> F: ...
    @overload
    def app_template_filter(self, name: str | None = None) -> Callable[[F], F]: ...
    def app_template_filter(self, name: str | F | None = None) -> F | Callable[[F], F]:
        """Register an app-wide Jinja2 filter when the blueprint is registered (see ``app.template_filter``)."""
        if callable(name):
            self.add_app_template_filter(name)
            return name

        def decorator(func: F) -> F:
            self.add_app_template_filter(func, name)
            return func

        return decorator

    def add_app_template_filter(self, func: Callable[..., Any], name: str | None = None) -> None:
        """Register ``func`` as an app-wide filter when the blueprint is registered."""
        self.record(lambda s: s.app.add_template_filter(func, name))

    @overload
    def app_template_global(self, name: F) -> F: ...
    @overload
    def app_template_global(self, name: str | None = None) -> Callable[[F], F]: ...
    def app_template_global(self, name: str | F | None = None) -> F | Callable[[F], F]:
        """Register an app-wide template global when the blueprint is registered (see ``app.template_global``)."""
        if callable(name):
            self.add_app_template_global(name)
            return name

        def decorator(func: F) -> F:
            self.add_app_template_global(func, name)
            return func

        return decorator

    def add_app_template_global(self, func: Callable[..., Any], name: str | None = None) -> None:
        """Make ``func`` an app-wide template global when the blueprint is registered."""
        self.record(lambda s: s.app.add_template_global(func, name))

    @overload
    def app_template_test(self, name: F) -> F: ...
    @overload
    def app_template_test(self, name: str | None = None) -> Callable[[F], F]: ...
    def app_template_test(self, name: str | F | None = None) -> F | Callable[[F], F]:
        """Register an app-wide Jinja2 test when the blueprint is registered (see ``app.template_test``)."""
        if callable(name):
            self.add_app_template_test(name)
            return name

        def decorator(func: F) -> F:
            self.add_app_template_test(func, name)
            return func

        return decorator

    def add_app_template_test(self, func: Callable[..., bool], name: str | None = None) -> None:
        """Register ``func`` as an app-wide Jinja2 test when the blueprint is registered."""
        self.record(lambda s: s.app.add_template_test(func, name))


# -- rendering -------------------------------------------------------------------------


def _app() -> AppTemplating:
    """The current app (it must have the template API).

    Raises:
        RuntimeError: outside an application context.
    """
    return cast(AppTemplating, _app_ctx().app)


def _render(app: AppTemplating, template: Template, context: dict[str, Any]) -> str:
    app.update_template_context(context)
    if _before_render_template.receivers:
        _before_render_template.send(app, template=template, context=context)
    rv = template.render(context)
    if _template_rendered.receivers:
        _template_rendered.send(app, template=template, context=context)
    return rv


def _stream(app: AppTemplating, template: Template, context: dict[str, Any]) -> Iterator[str]:
    # The context is built and before_render_template sent now, as in
    # Flask; the template runs as the body is sent. sluice keeps the request
    # context until the server closes the response, so the template still
    # sees request and session then.
    app.update_template_context(context)
    if _before_render_template.receivers:
        _before_render_template.send(app, template=template, context=context)

    def generate() -> Iterator[str]:
        yield from template.generate(context)
        if _template_rendered.receivers:
            _template_rendered.send(app, template=template, context=context)

    return generate()


def render_template(template_name_or_list: str | Template | list[str | Template], **context: Any) -> str:
    """Render a template of the app's (or a blueprint's) template folder with ``context``.

    Args:
        template_name_or_list: a template name, a list of names (the first
            that exists is used), or a :class:`jinja2.Template`.
        **context: the template's variables; they win over context processors.

    Returns:
        The rendered text.

    Raises:
        jinja2.TemplateNotFound: no folder has the template (the message
            lists the folders searched).
        RuntimeError: outside an application context.
    """
    app = _app()
    template = app.jinja_env.get_or_select_template(template_name_or_list)
    return _render(app, template, context)


def render_template_string(source: str, **context: Any) -> str:
    """Render a template given as source text (autoescaped) with ``context``.

    Raises:
        jinja2.TemplateSyntaxError: the source is not a valid template.
        RuntimeError: outside an application context.
    """
    app = _app()
    return _render(app, app.jinja_env.from_string(source), context)


def stream_template(template_name_or_list: str | Template | list[str | Template], **context: Any) -> Iterator[str]:
    """Render a template piece by piece as the response is sent; return it from a view.

    The request context stays active until the server closes the response,
    so the template can use ``request`` and ``session`` while it streams
    (no ``stream_with_context`` needed).

    Returns:
        An iterator of text chunks.

    Raises:
        jinja2.TemplateNotFound: no folder has the template.
        RuntimeError: outside an application context.
    """
    app = _app()
    template = app.jinja_env.get_or_select_template(template_name_or_list)
    return _stream(app, template, context)


def stream_template_string(source: str, **context: Any) -> Iterator[str]:
    """Render a template given as source text piece by piece as the response is sent.

    Returns:
        An iterator of text chunks.

    Raises:
        jinja2.TemplateSyntaxError: the source is not a valid template.
        RuntimeError: outside an application context.
    """
    app = _app()
    return _stream(app, app.jinja_env.from_string(source), context)
