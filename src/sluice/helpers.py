"""Helpers used in views: url_for, redirect, jsonify, after_this_request, abort."""

from __future__ import annotations

import functools
import html
from collections.abc import Callable
from typing import Any
from typing import TypeVar
from urllib.parse import quote

from sluice.bodies import json_text
from sluice.ctx import _active_app_ctx
from sluice.ctx import _cv_request
from sluice.ctx import current_app
from sluice.errors import abort as abort
from sluice.wrappers.response import Response

F = TypeVar("F", bound=Callable[..., Any])


def url_for(
    endpoint: str,
    *,
    _external: bool | None = None,
    _anchor: str | None = None,
    _method: str | None = None,
    _scheme: str | None = None,
    **values: Any,
) -> str:
    """Build the URL of ``endpoint``; unknown values become the query string.

    In a request the URL is relative to the host (below the app's
    ``SCRIPT_NAME``) unless ``_external``; outside a request (an app
    context, a command) it is absolute, from ``SERVER_NAME``,
    ``APPLICATION_ROOT`` and ``PREFERRED_URL_SCHEME``, as Flask builds it.

    Args:
        endpoint: the endpoint name (a view function's name by default);
            ``.view`` means ``view`` of the current request's blueprint.
        _external: return an absolute URL with scheme and host (default:
            only outside a request, or with ``_scheme``).
        _anchor: a fragment to append (``#...``).
        _method: choose the rule that accepts this method.
        _scheme: the scheme of an absolute URL (needs ``_external``).
        **values: the URL variables, then query arguments.

    Returns:
        The path or the absolute URL.

    Raises:
        BuildError: no rule of ``endpoint`` can be built from ``values``.
        ValueError: ``_scheme`` with ``_external=False``.
        RuntimeError: outside an application context, or outside a request
            without ``SERVER_NAME`` configured.
    """
    ctx = _cv_request.get(None)
    if endpoint.startswith("."):
        # Relative to the current request's blueprint.
        blueprint = ctx.request.blueprint if ctx is not None else None
        endpoint = f"{blueprint}{endpoint}" if blueprint else endpoint[1:]
    app = current_app
    config = app.config
    if _scheme is not None and _external is False:
        raise ValueError("url_for(_scheme=...) builds an absolute URL: it cannot be used with _external=False")
    if ctx is None:
        server_name = config.get("SERVER_NAME")
        if not server_name:
            raise RuntimeError(
                "url_for() outside a request needs config['SERVER_NAME'] (e.g. 'example.com') to build "
                "an absolute URL; set it, and APPLICATION_ROOT and PREFERRED_URL_SCHEME as needed"
            )
        if _external is None:
            _external = True
        scheme = _scheme or config.get("PREFERRED_URL_SCHEME") or "http"
        host = server_name
        root = (config.get("APPLICATION_ROOT") or "/").rstrip("/")
    else:
        if _external is None:
            _external = _scheme is not None
        request = ctx.request
        scheme = _scheme or request.scheme
        host = request.host
        root = request.script_root
    app.inject_url_defaults(endpoint, values)
    if config.get("STATIC_URL_VERSIONING", False) and endpoint.endswith("static") and "v" not in values:
        from sluice.files import static_url_version

        version = static_url_version(app, endpoint, values)
        if version is not None:
            values["v"] = version
    path = app.url_map.build(endpoint, values, method=_method, anchor=_anchor)
    if _external:
        return f"{scheme}://{host}{root}{path}"
    return f"{root}{path}"


def redirect(location: str, code: int = 302) -> Response:
    """Return a response that redirects to ``location`` with status ``code``.

    Raises:
        ValueError: ``code`` is not a redirect status.
    """
    if code not in (301, 302, 303, 307, 308):
        raise ValueError(f"redirect code must be 301, 302, 303, 307 or 308, not {code}")
    # An IRI becomes a URI (RFC 3987 §3.1): non-ASCII and characters not
    # allowed in a URI are percent-encoded as UTF-8; escapes stay as they are.
    uri = quote(location, safe=_URI_SAFE)
    shown = html.escape(uri)
    body = (
        "<!doctype html>\n<html lang=en>\n<title>Redirecting</title>\n"
        f'<h1>Redirecting</h1>\n<p>This page moved to <a href="{shown}">{shown}</a>.</p>\n'
    )
    response = Response(body, status=code)
    response.headers.set("Location", uri)
    return response


# What a Location keeps as is: RFC 3986 reserved and unreserved characters, and "%".
_URI_SAFE = ":/?#[]@!$&'()*+,;=%-._~"


def jsonify(*args: Any, **kwargs: Any) -> Response:
    """Return a JSON response of one positional value, several (a list) or keywords (an object).

    Raises:
        TypeError: both positional and keyword arguments.
    """
    if args and kwargs:
        raise TypeError("jsonify() takes positional arguments or keyword arguments, not both")
    data: Any = kwargs if kwargs else (args[0] if len(args) == 1 else list(args))
    ctx = _active_app_ctx()
    if ctx is None:
        return Response(json_text(data, {}), mimetype="application/json")
    # The app's JSON_SORT_KEYS and response class, as make_response uses them.
    app: Any = ctx.app
    response: Response = app.response_class(json_text(data, app.config), mimetype="application/json")
    return response


def make_response(*args: Any) -> Response:
    """Make a response in a view from what a view may return, to change it before returning it.

    ``make_response()`` is an empty response, ``make_response(value)`` or
    ``make_response(body, status, headers)`` what the view returning that
    would answer (``app.make_response``).

    Raises:
        RuntimeError: outside an application context.
        TypeError: a value a view may not return.
    """
    ctx = _active_app_ctx()
    if ctx is None:
        raise RuntimeError("make_response() needs an application context (call it in a view)")
    app: Any = ctx.app
    if not args:
        empty: Response = app.response_class()
        return empty
    response: Response = app.make_response(args[0] if len(args) == 1 else args)
    return response


def after_this_request(func: F) -> F:
    """Run ``func(response)`` after the current request's view, before after_request hooks.

    Raises:
        RuntimeError: outside a request.
    """
    ctx = _cv_request.get(None)
    if ctx is None:
        raise RuntimeError("after_this_request() works only while a request is handled")
    ctx.after_request_functions += (func,)
    return func


def copy_current_request_context(func: F) -> F:
    """Let ``func`` run with a copy of the current request context, e.g. in another thread.

    The copy shares the request and its session; calling the returned
    function pushes the copy around ``func`` (its own ``g``; teardown hooks
    run when it ends).

    Raises:
        RuntimeError: no request is being handled.
    """
    ctx = _cv_request.get(None)
    if ctx is None:
        raise RuntimeError(
            "copy_current_request_context() needs an active request context: use it in a view function"
        )
    copied = ctx.copy()

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with copied:
            return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def get_template_attribute(template_name: str, attribute: str) -> Any:
    """A macro or variable of a template, e.g. to call a macro from Python.

    Raises:
        jinja2.TemplateNotFound: no such template.
        AttributeError: the template has no such name.
    """
    app: Any = current_app
    return getattr(app.jinja_env.get_template(template_name).module, attribute)


def stream_with_context(generator_or_function: Any) -> Any:
    """Keep the request context for a streamed body (kept for code written for Flask).

    In sluice the request context already lives until the server closes the
    response, so a generator can use ``request`` and ``session`` without
    this; it is returned unchanged. Used as a decorator on a generator
    function, it returns that function unchanged too.
    """
    return generator_or_function
