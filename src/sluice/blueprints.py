"""Blueprints: a group of routes, hooks and error handlers registered on an app.

Design: a blueprint records what it is given and replays it when it is
registered (``app.register_blueprint(bp, url_prefix=...)``), so one
blueprint can be registered on several apps, or twice under other names.
Its endpoints are ``name.view`` (``parent.child.view`` when nested), its
hooks and error handlers apply to its own requests only, and
``url_for(".view")`` inside it refers to its own endpoints.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING
from typing import Any
from typing import TypeVar

from sluice.commands import CommandsMixin
from sluice.commands import register_commands
from sluice.scaffold import ErrorKey
from sluice.scaffold import Scaffold
from sluice.scaffold import check_error_key
from sluice.scaffold import get_root_path
from sluice.templating import BlueprintTemplating

if TYPE_CHECKING:
    from sluice.app import App

F = TypeVar("F", bound=Callable[..., Any])


class _Default:
    """The type of a "not given" default (None has a meaning of its own)."""


_DEFAULT = _Default()


class _Setup:
    """What a recorded registration needs to replay itself on one app."""

    def __init__(self, app: App, name: str, url_prefix: str) -> None:
        self.app = app
        self.name = name
        self.url_prefix = url_prefix

    def add_url_rule(self, rule: str, endpoint: str | None, view_func: Callable[..., Any] | None, **options: Any) -> None:
        if endpoint is None:
            if view_func is None:
                raise ValueError(f"rule {rule!r} needs an endpoint or a view function")
            endpoint = view_func.__name__
        if "." in endpoint:
            raise ValueError(f"blueprint endpoint {endpoint!r} may not contain '.'")
        path = self.url_prefix.rstrip("/") + rule if self.url_prefix else rule
        self.app.add_url_rule(path or "/", f"{self.name}.{endpoint}", view_func, **options)


# The hook tables of a blueprint that join the app's under its registered name.
_SCOPED_TABLES = (
    "before_request_funcs",
    "after_request_funcs",
    "teardown_request_funcs",
    "url_value_preprocessors",
    "url_default_functions",
)


class Blueprint(Scaffold, BlueprintTemplating, CommandsMixin):
    """Routes, hooks and error handlers under one name and URL prefix.

    Args:
        name: the blueprint's name; endpoints become ``name.view``.
        import_name: the blueprint's module (``__name__``).
        static_folder: a folder of static files, relative to ``root_path``
            (served below ``static_url_path`` as endpoint ``name.static``).
        static_url_path: the URL path of the static files (default
            ``/`` + the folder's name, below ``url_prefix``).
        template_folder: a folder of templates, relative to ``root_path``;
            the app's own templates win over a blueprint's.
        url_prefix: a path prefix for every rule, e.g. ``/admin``.
        root_path: the folder the other paths are relative to (default: the
            folder of ``import_name``'s module).
        cli_group: the name of the group of this blueprint's commands
            (default: ``name``; None: top level).

    Raises:
        ValueError: the name is empty or contains a dot.
    """

    def __init__(
        self,
        name: str,
        import_name: str,
        static_folder: str | os.PathLike[str] | None = None,
        static_url_path: str | None = None,
        template_folder: str | os.PathLike[str] | None = None,
        url_prefix: str | None = None,
        root_path: str | None = None,
        cli_group: str | None | _Default = _DEFAULT,
    ) -> None:
        if not name or "." in name:
            raise ValueError(f"blueprint name {name!r} must be non-empty and contain no '.'")
        super().__init__()
        self.name = name
        self.import_name = import_name
        self.url_prefix = url_prefix or ""
        self.root_path = root_path if root_path is not None else get_root_path(import_name)
        self.static_folder = os.fspath(static_folder) if static_folder is not None else None
        self.static_url_path = static_url_path
        self.template_folder = os.fspath(template_folder) if template_folder is not None else None
        #: The group name of this blueprint's commands under ``sluice``: its
        #: name by default; None puts them at the top level.
        self.cli_group = name if isinstance(cli_group, _Default) else cli_group
        self._deferred: list[Callable[[_Setup], None]] = []
        self._children: list[tuple[Blueprint, dict[str, Any]]] = []
        self._registered = False

    def __repr__(self) -> str:
        return f"<Blueprint {self.name!r}>"

    def _check_setup(self, what: str) -> None:
        if self._registered:
            raise RuntimeError(
                f"cannot register {what} on blueprint {self.name!r}: it is already registered on an app, "
                "where it would not apply consistently. Set up the blueprint completely (imports, "
                "decorators) before registering it."
            )

    def record(self, func: Callable[[_Setup], None]) -> None:
        """Replay ``func(setup)`` when the blueprint is registered.

        Raises:
            RuntimeError: the blueprint is already registered.
        """
        self._check_setup("a deferred setup function")
        self._deferred.append(func)

    def add_url_rule(
        self, rule: str, endpoint: str | None = None, view_func: Callable[..., Any] | None = None, **options: Any
    ) -> None:
        """Register a rule (see :meth:`sluice.App.add_url_rule`); the endpoint gets the blueprint's name."""
        if endpoint is not None and "." in endpoint:
            raise ValueError(f"blueprint endpoint {endpoint!r} may not contain '.'")
        self.record(lambda s: s.add_url_rule(rule, endpoint, view_func, **options))

    # -- hooks for every request of the app ------------------------------------------

    def before_app_request(self, func: F) -> F:
        """Run ``func()`` before every request of the app, as ``app.before_request``."""
        self.record(lambda s: s.app.before_request_funcs.setdefault(None, []).append(func))
        return func

    def after_app_request(self, func: F) -> F:
        """Run ``func(response)`` after every request of the app, as ``app.after_request``."""
        self.record(lambda s: s.app.after_request_funcs.setdefault(None, []).append(func))
        return func

    def teardown_app_request(self, func: F) -> F:
        """Run ``func(exc)`` at the end of every request of the app, as ``app.teardown_request``."""
        self.record(lambda s: s.app.teardown_request_funcs.setdefault(None, []).append(func))
        return func

    def app_url_value_preprocessor(self, func: F) -> F:
        """Run ``func(endpoint, view_args)`` for every request of the app."""
        self.record(lambda s: s.app.url_value_preprocessors.setdefault(None, []).append(func))
        return func

    def app_url_defaults(self, func: F) -> F:
        """Run ``func(endpoint, values)`` in every ``url_for`` of the app."""
        self.record(lambda s: s.app.url_default_functions.setdefault(None, []).append(func))
        return func

    def app_errorhandler(self, code_or_exception: ErrorKey) -> Callable[[F], F]:
        """Handle an error in every request of the app, as ``app.errorhandler``.

        Raises:
            ValueError: an int that is not an error status.
            TypeError: neither an int nor an exception class.
        """
        check_error_key(code_or_exception)

        def decorator(func: F) -> F:
            self.record(lambda s: s.app.error_handlers.setdefault(None, {}).__setitem__(code_or_exception, func))
            return func

        return decorator

    # -- registration ------------------------------------------------------------------

    def register_blueprint(self, blueprint: Blueprint, **options: Any) -> None:
        """Nest ``blueprint``: its name and URL prefix go below this one's.

        Raises:
            ValueError: a blueprint registered on itself.
        """
        if blueprint is self:
            raise ValueError("a blueprint cannot be registered on itself")
        self._check_setup(f"blueprint {blueprint.name!r}")
        self._children.append((blueprint, options))

    def register(self, app: App, options: dict[str, Any], parent: _Setup | None = None) -> None:
        """Replay this blueprint (and its children) on ``app``; called by ``register_blueprint``.

        Its hooks and error handlers go into the app's tables under its full
        name; its static folder becomes the endpoint ``name.static``; its
        commands join ``app.cli``.

        Raises:
            ValueError: the full name is already registered on the app.
        """
        name = options.get("name", self.name)
        url_prefix = options.get("url_prefix", self.url_prefix) or ""
        if parent is not None:
            name = f"{parent.name}.{name}"
            url_prefix = parent.url_prefix.rstrip("/") + url_prefix
        if name in app.blueprints:
            raise ValueError(
                f"a blueprint named {name!r} is already registered; pass name='...' to register it again"
            )
        app.blueprints[name] = self
        self._registered = True
        setup = _Setup(app, name, url_prefix)
        if self.static_folder is not None:
            from sluice.files import make_static_view

            folder = os.path.join(self.root_path, self.static_folder)
            static_path = self.static_url_path
            if static_path is None:
                static_path = "/" + os.path.basename(self.static_folder.rstrip("/"))
            setup.add_url_rule(f"{static_path.rstrip('/')}/<path:filename>", "static", make_static_view(lambda: folder))
        for table in _SCOPED_TABLES:
            own = getattr(self, table).get(None)
            if own:
                getattr(app, table).setdefault(name, []).extend(own)
        handlers = self.error_handlers.get(None)
        if handlers:
            app.error_handlers.setdefault(name, {}).update(handlers)
        for func in self._deferred:
            func(setup)
        for child, child_options in self._children:
            child.register(app, child_options, setup)
        register_commands(app, self, options.get("cli_group", self.cli_group))
