"""An unmodified Pyramid app for live third-party app tests.

Routes:
    GET  /hello   plain text
    GET  /json    JSON renderer, echoes the ``name`` query parameter
    POST /echo    echoes form fields as text; also answers a raw body's size
    anything else Pyramid's default 404
"""

from __future__ import annotations

from typing import Any

from pyramid.config import Configurator
from pyramid.request import Request
from pyramid.response import Response
from pyramid.router import Router


def hello(request: Request) -> Response:
    return Response("Hello from Pyramid\n", content_type="text/plain", charset="utf-8")


def json_view(request: Request) -> dict[str, Any]:
    return {"framework": "pyramid", "name": request.params.get("name", ""), "numbers": [1, 2, 3]}


def echo(request: Request) -> Response:
    if request.POST:
        lines = [f"{key}={value}" for key, value in sorted(request.POST.items())]
        text = "\n".join(lines) + "\n"
    else:
        text = f"received {len(request.body)} bytes\n"
    return Response(text, content_type="text/plain", charset="utf-8")


def main(**settings: Any) -> Router:
    """App factory: ``sluice serve 'tests.apps.pyramid_app:main()'``."""
    with Configurator(settings=settings) as config:
        config.add_route("hello", "/hello")
        config.add_route("json", "/json")
        config.add_route("echo", "/echo")
        config.add_view(hello, route_name="hello", request_method="GET")
        config.add_view(json_view, route_name="json", request_method="GET", renderer="json")
        config.add_view(echo, route_name="echo", request_method="POST")
        return config.make_wsgi_app()


app = main()
