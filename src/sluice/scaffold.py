"""The route decorators shared by the App and blueprints."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from typing import TypeVar

F = TypeVar("F", bound=Callable[..., Any])


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
