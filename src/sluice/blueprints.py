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

from sluice.scaffold import RouteDecorators
from sluice.scaffold import get_root_path
from sluice.scaffold import check_error_key

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


class Blueprint(RouteDecorators):
    """Routes, hooks and error handlers under one name and URL prefix.

    Args:
        name: the blueprint's name; endpoints become ``name.view``.
        import_name: the blueprint's module (``__name__``).
        static_folder: a folder of static files, relative to ``root_path``
            (served below ``static_url_path``).
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

    def __repr__(self) -> str:
        return f"<Blueprint {self.name!r}>"

    def record(self, func: Callable[[_Setup], None]) -> None:
        """Replay ``func(setup)`` when the blueprint is registered."""
        self._deferred.append(func)

    def add_url_rule(
        self, rule: str, endpoint: str | None = None, view_func: Callable[..., Any] | None = None, **options: Any
    ) -> None:
        """Register a rule (see :meth:`sluice.App.add_url_rule`); the endpoint gets the blueprint's name."""
        self.record(lambda s: s.add_url_rule(rule, endpoint, view_func, **options))

    def before_request(self, func: F) -> F:
        """Run ``func()`` before this blueprint's views (after the app's hooks)."""
        self.record(lambda s: s.app.before_request_funcs.setdefault(s.name, []).append(func))
        return func

    def after_request(self, func: F) -> F:
        """Run ``func(response)`` after this blueprint's views (before the app's hooks)."""
        self.record(lambda s: s.app.after_request_funcs.setdefault(s.name, []).append(func))
        return func

    def teardown_request(self, func: F) -> F:
        """Run ``func(exc)`` when a request of this blueprint ends."""
        self.record(lambda s: s.app.teardown_request_funcs.setdefault(s.name, []).append(func))
        return func

    def errorhandler(self, code_or_exception: int | type[BaseException]) -> Callable[[F], F]:
        """Handle an error raised in this blueprint's requests (before the app's handlers).

        Raises:
            ValueError: an int that is not an error status.
            TypeError: neither an int nor an exception class.
        """
        check_error_key(code_or_exception)

        def decorator(func: F) -> F:
            self.record(lambda s: s.app.register_error_handler(s.name, code_or_exception, func))
            return func

        return decorator

    def register_blueprint(self, blueprint: Blueprint, **options: Any) -> None:
        """Nest ``blueprint``: its name and URL prefix go below this one's.

        Raises:
            ValueError: a blueprint registered on itself.
        """
        if blueprint is self:
            raise ValueError("a blueprint cannot be registered on itself")
        self._children.append((blueprint, options))

    def register(self, app: App, options: dict[str, Any], parent: _Setup | None = None) -> None:
        """Replay this blueprint (and its children) on ``app``; called by ``register_blueprint``.

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
        setup = _Setup(app, name, url_prefix)
        for func in self._deferred:
            func(setup)
        for child, child_options in self._children:
            child.register(app, child_options, setup)
