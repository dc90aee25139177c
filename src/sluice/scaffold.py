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
    """The default instance folder of an app: ``instance`` beside its module or package.

    For a module ``/proj/app.py`` or a package ``/proj/app/`` that is
    ``/proj/instance``; for code installed under ``sys.prefix`` it is
    ``PREFIX/var/NAME-instance`` (as Flask), since site-packages is no place
    for data.
    """
    module = sys.modules.get(import_name)
    file = getattr(module, "__file__", None) if module is not None else None
    if file is None:
        try:
            spec = importlib.util.find_spec(import_name)
        except (ImportError, ValueError):
            spec = None
        file = spec.origin if spec is not None else None
    is_package = file is not None and os.path.basename(file).startswith("__init__.")
    package_path = os.path.dirname(root_path) if is_package else root_path
    site = os.path.abspath(os.path.join(sys.prefix, "lib"))
    if os.path.abspath(package_path).startswith(site + os.sep):
        return os.path.join(sys.prefix, "var", f"{import_name.partition('.')[0]}-instance")
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
