"""The route decorators shared by the App and blueprints."""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Callable
from typing import Any
from typing import TypeVar

F = TypeVar("F", bound=Callable[..., Any])


def get_root_path(import_name: str) -> str:
    """The folder of the module or package ``import_name``: where its templates and static files live.

    A module already imported gives its ``__file__``'s folder; otherwise the
    module is found without importing it; a module without a file (the
    interactive interpreter, ``__main__`` of ``python -c``) or a name that
    is no module gives the current directory (as Flask).

    Raises:
        RuntimeError: the module is a namespace package; pass ``root_path=``.
    """
    module = sys.modules.get(import_name)
    file = getattr(module, "__file__", None) if module is not None else None
    if isinstance(file, str):
        return os.path.dirname(os.path.abspath(file))
    if module is not None:
        return os.getcwd()
    try:
        spec = importlib.util.find_spec(import_name)
    except (ImportError, ValueError):
        spec = None
    if spec is None:
        return os.getcwd()
    if spec.origin is None or spec.origin in ("namespace", "built-in", "frozen"):
        raise RuntimeError(
            f"cannot find the folder of {import_name!r} (a namespace package or built-in module); pass root_path="
        )
    return os.path.dirname(os.path.abspath(spec.origin))


def find_instance_path(import_name: str, root_path: str) -> str:
    """The default instance folder of an app: ``instance`` beside its top-level package or module.

    The top-level name decides (as Flask): for ``/proj/app.py``,
    ``/proj/app/__init__.py`` or ``/proj/app/sub/views.py`` alike it is
    ``/proj/instance``. For code installed under ``sys.prefix`` it is
    ``PREFIX/var/NAME-instance``, since site-packages is no place for data.
    A name that cannot be found gives ``instance`` in ``root_path``.
    """
    top = import_name.partition(".")[0]
    module = sys.modules.get(top)
    locations = getattr(module, "__path__", None) if module is not None else None
    origin = getattr(module, "__file__", None) if module is not None else None
    if module is None:
        try:
            spec = importlib.util.find_spec(top)
        except (ImportError, ValueError):
            spec = None
        if spec is not None:
            locations = spec.submodule_search_locations
            origin = spec.origin
    if locations:
        # A package: its folder's parent (a namespace package: its first folder's).
        package_path = os.path.dirname(os.path.abspath(list(locations)[0]))
    elif isinstance(origin, str) and origin not in ("built-in", "frozen", "namespace"):
        package_path = os.path.dirname(os.path.abspath(origin))
    else:
        return os.path.join(root_path, "instance")
    prefix = os.path.abspath(sys.prefix)
    if package_path.startswith(os.path.join(prefix, "lib") + os.sep):
        return os.path.join(prefix, "var", f"{top}-instance")
    return os.path.join(package_path, "instance")


class RouteDecorators:
    """``route``, ``get``, ``post``, ``put``, ``patch`` and ``delete`` over ``add_url_rule``."""

    def add_url_rule(
        self, rule: str, endpoint: str | None = None, view_func: Callable[..., Any] | None = None, **options: Any
    ) -> None:
        """Register a rule; implemented by the App and by Blueprint."""
        raise NotImplementedError

    def route(self, rule: str, **options: Any) -> Callable[[F], F]:
        """Decorate a view function to register it for ``rule`` (see ``add_url_rule``)."""

        def decorator(func: F) -> F:
            endpoint = options.pop("endpoint", None)
            self.add_url_rule(rule, endpoint, func, **options)
            return func

        return decorator

    def get(self, rule: str, **options: Any) -> Callable[[F], F]:
        """Register a GET view (``route(rule, methods=["GET"])``)."""
        return self.route(rule, methods=["GET"], **options)

    def post(self, rule: str, **options: Any) -> Callable[[F], F]:
        """Register a POST view."""
        return self.route(rule, methods=["POST"], **options)

    def put(self, rule: str, **options: Any) -> Callable[[F], F]:
        """Register a PUT view."""
        return self.route(rule, methods=["PUT"], **options)

    def patch(self, rule: str, **options: Any) -> Callable[[F], F]:
        """Register a PATCH view."""
        return self.route(rule, methods=["PATCH"], **options)

    def delete(self, rule: str, **options: Any) -> Callable[[F], F]:
        """Register a DELETE view."""
        return self.route(rule, methods=["DELETE"], **options)


def check_error_key(code_or_exception: object) -> None:
    """Refuse what ``errorhandler()`` cannot handle, when it is called, not at the first error.

    Raises:
        ValueError: an int that is not a 4xx or 5xx status.
        TypeError: neither an int nor an exception class.
    """
    if isinstance(code_or_exception, bool) or not isinstance(code_or_exception, (int, type)):
        raise TypeError(
            f"errorhandler({code_or_exception!r}): give a status code such as 404 or an exception class"
        )
    if isinstance(code_or_exception, int):
        if not 400 <= code_or_exception <= 599:
            raise ValueError(f"errorhandler({code_or_exception}): only 4xx and 5xx codes have handlers")
    elif not issubclass(code_or_exception, BaseException):
        raise TypeError(f"errorhandler({code_or_exception.__name__}): the class must be an exception class")


# A scope is None for the app itself, else a blueprint's full dotted name.
Scope = str | None
ErrorKey = int | type[BaseException]


class Scaffold(RouteDecorators):
    """The hooks and error handlers an App and a Blueprint both register.

    Each table is keyed by scope: None for the object's own registrations.
    An App reads its tables while serving; a Blueprint's own tables are
    merged into the app's under the blueprint's registered name when it is
    registered, so they apply to that blueprint's requests only.
    """

    def __init__(self) -> None:
        self.before_request_funcs: dict[Scope, list[Callable[[], Any]]] = {}
        self.after_request_funcs: dict[Scope, list[Callable[[Any], Any]]] = {}
        self.teardown_request_funcs: dict[Scope, list[Callable[[BaseException | None], Any]]] = {}
        self.url_value_preprocessors: dict[Scope, list[Callable[[str | None, dict[str, Any] | None], Any]]] = {}
        self.url_default_functions: dict[Scope, list[Callable[[str, dict[str, Any]], Any]]] = {}
        self.error_handlers: dict[Scope, dict[ErrorKey, Callable[[Any], Any]]] = {}

    def _check_setup(self, what: str) -> None:
        """Raise when registering ``what`` comes too late; overridden by App and Blueprint."""

    def _add_hook(self, table: dict[Scope, list[Any]], what: str, func: F) -> F:
        """Append ``func`` to its own scope's list of ``table``, if setup is still open."""
        self._check_setup(what)
        table.setdefault(None, []).append(func)
        return func

    def before_request(self, func: F) -> F:
        """Run ``func()`` before each view; a non-None return value is the response.

        An app's hooks run before its blueprints' (outer blueprint first).
        """
        return self._add_hook(self.before_request_funcs, "a before_request hook", func)

    def after_request(self, func: F) -> F:
        """Run ``func(response)`` after each view; it returns the response to send.

        Hooks run newest first, a blueprint's before the app's, as in Flask.
        """
        return self._add_hook(self.after_request_funcs, "an after_request hook", func)

    def teardown_request(self, func: F) -> F:
        """Run ``func(exc)`` when the request ends, always, after the body was sent.

        ``exc`` is the unhandled exception that made the response a 500, or
        None (no error, or an error handler answered it).
        """
        return self._add_hook(self.teardown_request_funcs, "a teardown_request hook", func)

    def url_value_preprocessor(self, func: F) -> F:
        """Run ``func(endpoint, view_args)`` before the before_request hooks.

        It may pop values from ``view_args`` (e.g. a language code into ``g``)
        so the view does not receive them.
        """
        return self._add_hook(self.url_value_preprocessors, "a url_value_preprocessor", func)

    def url_defaults(self, func: F) -> F:
        """Run ``func(endpoint, values)`` in ``url_for`` to fill in values (e.g. the current language)."""
        return self._add_hook(self.url_default_functions, "a url_defaults function", func)

    def errorhandler(self, code_or_exception: ErrorKey) -> Callable[[F], F]:
        """Register a handler for a status code or an exception class.

        The handler gets the exception and returns a response value. For an
        exception, the handler of the most specific class along its MRO wins;
        a blueprint's handlers win over the app's for its requests.

        Raises:
            ValueError: an int that is not an error status.
            TypeError: neither an int nor an exception class.
        """
        check_error_key(code_or_exception)

        def decorator(func: F) -> F:
            self.register_error_handler(code_or_exception, func)
            return func

        return decorator

    def register_error_handler(self, code_or_exception: ErrorKey, func: Callable[[Any], Any]) -> None:
        """Register ``func`` for a status code or exception class, as ``errorhandler`` does.

        Raises:
            ValueError: an int that is not an error status.
            TypeError: neither an int nor an exception class.
        """
        self._check_setup("an error handler")
        check_error_key(code_or_exception)
        self.error_handlers.setdefault(None, {})[code_or_exception] = func
