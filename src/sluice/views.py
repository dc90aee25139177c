"""Class-based views: ``View`` and ``MethodView`` (one method per HTTP method).

A view class becomes a view function with ``as_view(name)``; register that
with ``app.add_url_rule``. ``MethodView`` dispatches ``GET`` to ``get()``,
``POST`` to ``post()`` and so on, and its ``methods`` are the ones it
defines, so the router answers others with 405 and ``Allow``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from typing import ClassVar

from sluice.ctx import request
from sluice.errors import MethodNotAllowed

_HTTP_METHODS = ("get", "post", "head", "options", "delete", "put", "trace", "patch")


class View:
    """Subclass and implement :meth:`dispatch_request`.

    Class attributes:
        methods: the methods the view accepts (None: the rule's default).
        decorators: applied to the generated view function, first innermost.
        init_every_request: build a new instance per request (True, safe for
            per-request state on ``self``) or once at ``as_view`` time.
    """

    methods: ClassVar[set[str] | None] = None
    decorators: ClassVar[list[Callable[..., Any]]] = []
    init_every_request: ClassVar[bool] = True

    def dispatch_request(self, **kwargs: Any) -> Any:
        """Handle the request; ``kwargs`` are the URL's view arguments."""
        raise NotImplementedError(f"{type(self).__name__} must implement dispatch_request()")

    @classmethod
    def as_view(cls, name: str, *class_args: Any, **class_kwargs: Any) -> Callable[..., Any]:
        """Return a view function named ``name`` that runs this class.

        Args:
            name: the view function's name (the default endpoint).
            *class_args: passed to the class constructor.
            **class_kwargs: passed to the class constructor.
        """
        if cls.init_every_request:

            def view(**kwargs: Any) -> Any:
                return cls(*class_args, **class_kwargs).dispatch_request(**kwargs)

        else:
            instance = cls(*class_args, **class_kwargs)

            def view(**kwargs: Any) -> Any:
                return instance.dispatch_request(**kwargs)

        for decorator in cls.decorators:
            view = decorator(view)
        view.__name__ = name
        view.__qualname__ = name
        view.__doc__ = cls.__doc__
        view.__module__ = cls.__module__
        view.view_class = cls  # type: ignore[attr-defined]
        view.methods = cls.methods  # type: ignore[attr-defined]
        return view


class MethodView(View):
    """Dispatch to the method named like the request's HTTP method.

    ``HEAD`` falls back to ``get()`` when no ``head()`` is defined.
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "methods" not in cls.__dict__:
            methods = {name.upper() for name in _HTTP_METHODS if callable(getattr(cls, name, None))}
            cls.methods = methods or None

    def dispatch_request(self, **kwargs: Any) -> Any:
        """Call the method for ``request.method``.

        Raises:
            MethodNotAllowed: the class defines no method for it.
        """
        method = getattr(self, request.method.lower(), None)
        if method is None and request.method == "HEAD":
            method = getattr(self, "get", None)
        if method is None:
            raise MethodNotAllowed(sorted(self.methods or ()))
        return method(**kwargs)
