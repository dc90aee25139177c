"""The Jinja2 side of templating: the app's Environment and the loader that searches its folders.

Design: this is the one module that imports ``jinja2`` at its top, and
:mod:`sluice.templating` imports it on the first render (or the first use
of ``app.jinja_env``), so an app that never renders a template never loads
Jinja2. The loader searches the app's template folder first, then each
blueprint's in registration order, and a miss names every folder searched,
so a wrong path is found from the error alone. ``auto_reload`` follows the
app's config at each lookup (``TEMPLATES_AUTO_RELOAD``; None follows
``DEBUG``) unless it was set explicitly, so ``app.debug = True`` after the
first render still turns reloading on, as Flask's debug setter does.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import MutableMapping
from types import CodeType
from typing import Any

import jinja2
from jinja2 import BaseLoader
from jinja2 import FileSystemLoader
from jinja2 import TemplateNotFound
from markupsafe import Markup
from markupsafe import escape as markup_escape

__all__ = ["DispatchingLoader", "Environment", "Template", "escape", "folder_loader"]

# Every name getattr() finds on a plain dict (dict instances have no
# __dict__ of their own): dict's and object's attributes.
_DICT_ATTRIBUTES = frozenset(dir(dict))
_new_str = str.__new__

# markupsafe's compiled escaping of a str (what markupsafe.escape itself
# calls), when its C speedups are built; else the same replacements in Python.
_escape_str: Callable[[str], str] | None
try:
    from markupsafe._speedups import _escape_inner

    _escape_str = _escape_inner
except ImportError:  # pragma: no cover - markupsafe without speedups, or before 3.0
    _escape_str = None


def folder_loader(root_path: str, template_folder: str | None) -> FileSystemLoader | None:
    """Return a loader for ``template_folder`` below ``root_path``, or None when there is no folder.

    Args:
        root_path: the folder of the app's or blueprint's module.
        template_folder: a folder relative to ``root_path`` (or absolute), or None.

    Returns:
        A :class:`jinja2.FileSystemLoader`, or None.
    """
    if template_folder is None:
        return None
    return FileSystemLoader(os.path.join(root_path, template_folder))


class DispatchingLoader(BaseLoader):
    """Find a template in the app's folder, then in each blueprint's, in registration order.

    Args:
        app: the application; its ``jinja_loader`` and the ``jinja_loader``
            of each blueprint in ``app.blueprints`` are asked in turn.
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    def iter_loaders(self) -> Iterator[tuple[str, BaseLoader]]:
        """Yield ``(who, loader)`` for the app, then each blueprint (one registered twice is searched once)."""
        loader = self.app.jinja_loader
        if loader is not None:
            yield "the application", loader
        seen: set[int] = set()
        for name, blueprint in self.app.blueprints.items():
            if id(blueprint) in seen:
                continue
            seen.add(id(blueprint))
            loader = getattr(blueprint, "jinja_loader", None)
            if loader is not None:
                yield f"blueprint {name!r}", loader

    def get_source(
        self, environment: jinja2.Environment, template: str
    ) -> tuple[str, str | None, Callable[[], bool] | None]:
        """Return the first loader's source for ``template``.

        Raises:
            TemplateNotFound: no loader has it; the message lists what was searched.
        """
        for _who, loader in self.iter_loaders():
            try:
                return loader.get_source(environment, template)
            except TemplateNotFound:
                continue
        raise TemplateNotFound(template, f"template {template!r} not found; {self.explain()}")

    def explain(self) -> str:
        """Say which folders are searched, in order, for an error message."""
        searched = [f"{_describe(loader)} ({who})" for who, loader in self.iter_loaders()]
        if not searched:
            return (
                "no template folder is set: pass template_folder= to the App or Blueprint "
                "(the App's default is 'templates' beside its module)"
            )
        return "searched, in this order: " + "; ".join(searched)

    def list_templates(self) -> list[str]:
        """Return the names of every template any loader can find."""
        names: set[str] = set()
        for _who, loader in self.iter_loaders():
            names.update(loader.list_templates())
        return sorted(names)


def _describe(loader: BaseLoader) -> str:
    """A folder loader's folders, else the loader's repr."""
    if isinstance(loader, FileSystemLoader):
        return ", ".join(os.fspath(path) for path in loader.searchpath)
    return repr(loader)


def escape(value: Any) -> Markup:
    """Escape ``value`` for HTML exactly as :func:`markupsafe.escape` does, faster for a plain str.

    PERF: a rendered template calls this for every ``{{ ... }}`` of an
    autoescaped template; a plain str skips ``markupsafe.escape``'s two
    Python-level calls and goes to markupsafe's compiled escaping directly
    (benchmarks/templates.py), and an int needs none.
    Anything else (``Markup``, objects with ``__html__``, other types) goes
    to ``markupsafe.escape``.
    """
    kind = type(value)
    if kind is str:
        if _escape_str is not None:
            return _new_str(Markup, _escape_str(value))
        # The replacements and their order are markupsafe's own.
        return _new_str(
            Markup,
            value.replace("&", "&amp;").replace(">", "&gt;").replace("<", "&lt;").replace("'", "&#39;").replace('"', "&#34;"),
        )
    if kind is int:
        return _new_str(Markup, str(value))  # digits and "-" need no escaping
    return markup_escape(value)


class Template(jinja2.Template):
    """A compiled template whose ``{{ ... }}`` output is escaped by :func:`escape`."""

    @classmethod
    def from_code(
        cls,
        environment: jinja2.Environment,
        code: CodeType,
        globals: MutableMapping[str, Any],
        uptodate: Callable[[], bool] | None = None,
    ) -> jinja2.Template:
        """Make the template from compiled code (see :meth:`jinja2.Template.from_code`)."""
        template = super().from_code(environment, code, globals, uptodate)
        # The compiled module imported Jinja2's escape into its namespace,
        # which its render functions (root and blocks) share.
        namespace = template.root_render_func.__globals__
        if namespace.get("escape") is markup_escape:
            namespace["escape"] = escape
        return template


class Environment(jinja2.Environment):
    """The app's Jinja2 environment: its loader searches the app's and blueprints' folders.

    Args:
        app: the application (kept as ``self.app``).
        **options: :class:`jinja2.Environment` options; without ``loader``,
            the app's ``create_global_jinja_loader()`` is used; without
            ``auto_reload``, reloading follows the app's config at each lookup.
    """

    template_class = Template

    def __init__(self, app: Any, **options: Any) -> None:
        self.app = app
        self._auto_reload: bool | None = None
        explicit = options.pop("auto_reload", None)
        if "loader" not in options:
            options["loader"] = app.create_global_jinja_loader()
        super().__init__(**options)
        self._auto_reload = explicit

    def getattr(self, obj: Any, attribute: str) -> Any:
        """Return ``obj.attribute``, else ``obj[attribute]``, else undefined (Jinja2's rule for ``{{ obj.name }}``).

        PERF: for a plain dict, the attribute lookup can only find dict's
        own methods, so any other name goes straight to the item, without
        the AttributeError Jinja2 raises and catches first (the same
        result; benchmarks/templates.py: the 12-row page renders about a
        third faster from dict rows).
        """
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except KeyError:
                return self.undefined(obj=obj, name=attribute)
        # Jinja2's own rule, inline (one call less for loop.index and objects).
        try:
            return getattr(obj, attribute)
        except AttributeError:
            pass
        try:
            return obj[attribute]
        except (TypeError, LookupError, AttributeError):
            return self.undefined(obj=obj, name=attribute)

    @property
    def auto_reload(self) -> bool:
        """Check templates for changes at each lookup: ``TEMPLATES_AUTO_RELOAD``, or ``DEBUG`` when that is None."""
        if self._auto_reload is not None:
            return self._auto_reload
        config = self.app.config
        value = config.get("TEMPLATES_AUTO_RELOAD")
        return bool(config.get("DEBUG")) if value is None else bool(value)

    @auto_reload.setter
    def auto_reload(self, value: bool | None) -> None:
        # jinja2.Environment.__init__ sets its default (True) here; __init__
        # resets it to the explicit option afterwards.
        self._auto_reload = value
