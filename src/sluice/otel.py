"""OpenTelemetry server spans for any WSGI app: the ``sluice[otel]`` extra.

Design: :func:`instrument` wraps a WSGI app (a sluice App, Flask, Django,
anything) in a :class:`TracedApp`; ``sluice serve --otel`` (the ``otel``
server setting) does the same to the app it serves. Nothing in the request
pipeline or the server knows about tracing, so an app served without it
pays nothing, not even a check per request.

sluice only creates spans, through the OpenTelemetry API. Which tracer
provider, sampler and exporter receive them is the user's choice, made as
for any OpenTelemetry program: the SDK set up in the app's module, or
``opentelemetry-instrument`` and the ``OTEL_*`` variables. Tests pass a
provider to :func:`instrument` instead of setting the global one, which
can be set once per process.

One request, one span:

- **Parent**: the incoming ``traceparent``/``tracestate`` (and baggage), read
  by the globally configured propagator (``opentelemetry.propagate``) from
  the environ's ``HTTP_*`` keys.
- **Kind and name**: SERVER, named ``"{method} {route}"`` once the route is
  known (``GET /users/<int:id>``), else the method alone, as the HTTP
  semantic conventions say; a method outside the standard ones is ``HTTP``
  (with ``http.request.method`` ``_OTHER`` and the original in
  ``http.request.method_original``).
- **Attributes** (stable HTTP semantic conventions): ``http.request.method``,
  ``url.scheme``, ``url.path``, ``url.query`` (when there is one, signature
  parameters redacted), ``server.address``, ``server.port``,
  ``client.address`` (``REMOTE_ADDR``: the peer, unless a proxy fix outside
  the instrumentation rewrote it), ``network.protocol.version``,
  ``user_agent.original``, ``sluice.request_id`` (when the server set
  ``environ["sluice.request_id"]``), then ``http.route`` and
  ``http.response.status_code`` when the app calls ``start_response``.
- **Route**: read when the app calls ``start_response``, while the app's
  request is active: a sluice App's matched rule (``request.url_rule``,
  which the App keeps in its request context anyway), or Flask's; a sluice
  App's request context also has the exception it turned into a 500
  (``ctx.error``), recorded on the span as if it had propagated. Neither
  framework is imported for this: a module not loaded cannot be serving
  the request. The route is the template below the app's mount point
  (``SCRIPT_NAME`` + rule). Other apps get no ``http.route``; their span
  is named by the method.
- **Status**: ERROR for a 5xx response (``error.type`` is the code) and for
  an exception out of the app, its iterable or its ``close()``, or one a
  sluice App made a 500 (recorded as an exception event; ``error.type`` is
  the exception's class); unset otherwise, 4xx included (they are the
  client's errors).
- **Duration**: from the app call to the end of the body: the span ends when
  the server calls the iterable's ``close()``, so a streamed body is
  covered. A list or tuple body is complete when the app returns and has
  no ``close()`` (some servers never look for one), so its span ends then.
  A ``wsgi.file_wrapper`` object is returned as it is, its ``close`` replaced
  on the instance, so sluice's server still sends the file with
  ``sendfile``; any other body is wrapped.

Context and threads: the span's context is attached around each call into
app code (the app call, each ``next()`` of the body, its ``close()``) and
detached before the call returns, so spans the app makes are children of
the server span, and no server's choice of threads for iterating and
closing can leave a context attached to a pool thread or detach one in the
wrong thread. One request's calls come one after another (PEP 3333); a
:class:`_Exchange` is only ever used by the thread making the current call.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from sluice import __version__

_MISSING = (
    "OpenTelemetry tracing (--otel, sluice.otel) needs the OpenTelemetry packages; "
    "install them with: pip install 'sluice[otel]'"
)

try:
    from opentelemetry import context as otel_context
    from opentelemetry import propagate
    from opentelemetry import trace
    from opentelemetry.context import Context
    from opentelemetry.propagators.textmap import Getter
    from opentelemetry.trace import Span
    from opentelemetry.trace import SpanKind
    from opentelemetry.trace import Status
    from opentelemetry.trace import StatusCode
    from opentelemetry.trace import TracerProvider
    from opentelemetry.util.types import AttributeValue
except ImportError as exc:
    raise ImportError(f"{_MISSING} ({exc})", name=exc.name) from exc

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
WSGIApp = Callable[[Environ, StartResponse], Iterable[bytes]]

#: The environ key a TracedApp sets to its span: an inner TracedApp (``--otel``
#: over an app that instruments itself) then adds no second span.
SPAN_KEY = "sluice.otel.span"

# HTTP semantic conventions: the methods with a name of their own; others are _OTHER.
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH", "QUERY"})
# Query parameters whose values the URL semantic conventions say to redact.
_SENSITIVE = frozenset({"AWSAccessKeyId", "Signature", "sig", "X-Goog-Signature"})
# RFC 3986 pchar and "/": what a path keeps unencoded.
_PATH_SAFE = "/:@!$&'()*+,;=-._~"


class _EnvironGetter(Getter[Mapping[str, Any]]):
    """Reads propagation headers (``traceparent``) from a WSGI environ's ``HTTP_*`` keys."""

    def get(self, carrier: Mapping[str, Any], key: str) -> list[str] | None:
        value = carrier.get("HTTP_" + key.upper().replace("-", "_"))
        return [value] if isinstance(value, str) else None

    def keys(self, carrier: Mapping[str, Any]) -> list[str]:
        return [key[5:].lower().replace("_", "-") for key in carrier if key.startswith("HTTP_")]


_GETTER = _EnvironGetter()


def instrument(app: WSGIApp, *, tracer_provider: TracerProvider | None = None) -> TracedApp:
    """Wrap a WSGI app so each request is an OpenTelemetry server span.

    For a sluice App, wrap its ``wsgi_app`` so the App stays the object you
    serve (its commands and worker hooks keep working)::

        app.wsgi_app = sluice.otel.instrument(app.wsgi_app)

    Args:
        app: any WSGI application.
        tracer_provider: where the spans go; by default the globally
            configured one (``opentelemetry.trace.set_tracer_provider``), looked
            up when the first span starts.

    Returns:
        The traced app.
    """
    return TracedApp(app, tracer_provider)


class TracedApp:
    """A WSGI app that runs ``app`` inside a server span per request (see the module docstring).

    Args:
        app: the WSGI application traced.
        tracer_provider: the provider of the tracer, or None for the global one.
    """

    def __init__(self, app: WSGIApp, tracer_provider: TracerProvider | None = None) -> None:
        self.app = app
        self._tracer = trace.get_tracer("sluice", __version__, tracer_provider)

    def __getattr__(self, name: str) -> Any:
        # The server asks the app about itself (streams_request_body, worker hooks).
        return getattr(self.app, name)

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        if SPAN_KEY in environ:
            return self.app(environ, start_response)
        parent = propagate.extract(environ, getter=_GETTER)
        method = environ.get("REQUEST_METHOD", "")
        span = self._tracer.start_span(
            method if method in _METHODS else "HTTP",
            parent,
            SpanKind.SERVER,
            request_attributes(environ),
            record_exception=False,  # _Exchange.fail() records it
            set_status_on_exception=False,
        )
        environ[SPAN_KEY] = span
        exchange = _Exchange(span, trace.set_span_in_context(span, parent), environ, start_response)
        token = otel_context.attach(exchange.context)
        try:
            result = self.app(environ, exchange.start_response)
        except BaseException as exc:
            exchange.fail(exc)
            exchange.end()
            raise
        finally:
            otel_context.detach(token)
        if type(result) is list or type(result) is tuple:
            exchange.end()
            return result
        wrapper = environ.get("wsgi.file_wrapper")
        if isinstance(wrapper, type) and isinstance(result, wrapper):
            # NOTE: the server's own wrapper object goes back to it (sluice's
            # server sends its file with sendfile); only its close() changes.
            close = getattr(result, "close", None)
            try:
                result.close = lambda: exchange.close(close)  # type: ignore[attr-defined]
            except AttributeError:
                pass  # a wrapper class with __slots__: wrapped below, iterated instead
            else:
                return result
        return _TracedBody(result, exchange)


def request_attributes(environ: Environ) -> dict[str, AttributeValue]:
    """The server span's attributes known before the app runs (HTTP semantic conventions).

    Args:
        environ: the request's WSGI environ.
    """
    method = environ.get("REQUEST_METHOD", "")
    attributes: dict[str, AttributeValue] = {
        "http.request.method": method if method in _METHODS else "_OTHER",
        "url.scheme": environ.get("wsgi.url_scheme", "http"),
        "url.path": url_path(environ),
    }
    if method not in _METHODS:
        attributes["http.request.method_original"] = method
    query = environ.get("QUERY_STRING")
    if query:
        attributes["url.query"] = redact_query(query)
    host = environ.get("SERVER_NAME")
    if host:
        attributes["server.address"] = host
    port = environ.get("SERVER_PORT")
    if port and port.isdigit():
        attributes["server.port"] = int(port)
    client = environ.get("REMOTE_ADDR")
    if client:
        attributes["client.address"] = client
    protocol = environ.get("SERVER_PROTOCOL", "")
    if protocol.startswith("HTTP/"):
        attributes["network.protocol.version"] = protocol[5:]
    agent = environ.get("HTTP_USER_AGENT")
    if agent:
        attributes["user_agent.original"] = agent
    request_id = environ.get("sluice.request_id")
    if request_id:
        attributes["sluice.request_id"] = str(request_id)
    return attributes


def url_path(environ: Environ) -> str:
    """The request's path as the client sent it: the raw target's path, else ``SCRIPT_NAME`` + ``PATH_INFO`` encoded."""
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if isinstance(raw, str) and raw.startswith("/"):
        return raw.partition("?")[0]
    path: str = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
    # PEP 3333 paths are bytes decoded as latin-1.
    return quote(path.encode("latin-1", "replace"), safe=_PATH_SAFE) or "/"


def redact_query(query: str) -> str:
    """``query`` with the values of signature parameters (``sig``, ``Signature``…) replaced by ``REDACTED``."""
    if "=" not in query:
        return query
    parts = query.split("&")
    for i, part in enumerate(parts):
        name, sep, _ = part.partition("=")
        if sep and name in _SENSITIVE:
            parts[i] = f"{name}=REDACTED"
    return "&".join(parts)


def app_state(environ: Environ) -> tuple[str | None, BaseException | None]:
    """The route template and the unhandled exception of the request being handled in this context.

    A sluice App's matched rule and the exception it made a 500
    (``ctx.error``), or Flask's rule (``request.url_rule``); the template is
    prefixed with the mount point. Only when that request's environ is
    ``environ``; otherwise ``(None, None)``. A module that was never
    imported serves no request, so none is imported here.
    """
    ctx_module = sys.modules.get("sluice.ctx")
    if ctx_module is not None:
        ctx = ctx_module._cv_request.get(None)
        if ctx is not None and ctx.request.environ is environ:
            rule = ctx.url_rule
            return (None if rule is None else f"{ctx.request.script_root}{rule.rule}"), ctx.error
    flask = sys.modules.get("flask")
    if flask is not None and flask.has_request_context():
        request = flask.request
        rule = request.url_rule
        if rule is not None and request.environ is environ:
            return f"{request.script_root}{rule.rule}", None
    return None, None


class _Exchange:
    """One request's span and what the wrappers learn about it.

    Args:
        span: the server span.
        context: the context with ``span`` active (attached around app code).
        environ: the request's environ.
        start_response: the server's ``start_response``.
    """

    __slots__ = ("span", "context", "environ", "_start_response", "_code", "_failed", "_ended")

    def __init__(self, span: Span, context: Context, environ: Environ, start_response: StartResponse) -> None:
        self.span = span
        self.context = context
        self.environ = environ
        self._start_response = start_response
        self._code = 0
        self._failed = False
        self._ended = False

    def start_response(self, status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        """The app's ``start_response``: the server's, then the status code, route and handled error noted on the span."""
        write = self._start_response(status, headers, exc_info)
        code = status[:3]
        if code.isdigit():
            self._code = int(code)
            self.span.set_attribute("http.response.status_code", self._code)
        route, error = app_state(self.environ)
        if error is not None and not self._failed:
            self.fail(error)
        if route is not None:
            self.span.set_attribute("http.route", route)
            method = self.environ.get("REQUEST_METHOD", "")
            self.span.update_name(f"{method if method in _METHODS else 'HTTP'} {route}")
        return write

    def fail(self, exc: BaseException) -> None:
        """Record ``exc`` (from the app, its iterable or its close()) and mark the span as failed."""
        span = self.span
        span.record_exception(exc)
        span.set_status(Status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}"))
        cls = type(exc)
        name = cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"
        span.set_attribute("error.type", name)
        self._failed = True

    def close(self, close: Callable[[], Any] | None) -> None:
        """Call the body's ``close`` (if any) in the span's context, then end the span."""
        token = otel_context.attach(self.context)
        try:
            if close is not None:
                close()
        except BaseException as exc:
            self.fail(exc)
            raise
        finally:
            otel_context.detach(token)
            self.end()

    def end(self) -> None:
        """End the span once: ERROR for a 5xx response."""
        if self._ended:
            return
        self._ended = True
        if self._code >= 500 and not self._failed:
            self.span.set_status(Status(StatusCode.ERROR))
            self.span.set_attribute("error.type", str(self._code))
        self.span.end()


class _TracedBody:
    """The app's iterable, each ``next()`` and the ``close()`` run in the span's context; ``close()`` ends the span."""

    __slots__ = ("_body", "_iterator", "_exchange")

    def __init__(self, body: Iterable[bytes], exchange: _Exchange) -> None:
        self._body = body
        self._iterator: Iterator[bytes] | None = None
        self._exchange = exchange

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        token = otel_context.attach(self._exchange.context)
        try:
            iterator = self._iterator
            if iterator is None:
                iterator = self._iterator = iter(self._body)
            return next(iterator)
        except StopIteration:
            raise
        except BaseException as exc:
            self._exchange.fail(exc)
            raise
        finally:
            otel_context.detach(token)

    def close(self) -> None:
        """Close the app's iterable (PEP 3333) and end the span."""
        self._exchange.close(getattr(self._body, "close", None))
