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
