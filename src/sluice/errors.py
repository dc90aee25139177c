"""The exception tree of sluice: one root, then config, protocol and server errors.

Every error sluice raises on purpose derives from :class:`SluiceError`, so an
application can catch them as one family. ``HaltServer`` is a
``BaseException`` so that application code (``except Exception``) cannot
swallow a request to stop the server.
"""

from __future__ import annotations

import json
from functools import lru_cache
from html import escape
from http import HTTPStatus
from typing import Any
from typing import NoReturn


class SluiceError(Exception):
    """Root of every error raised by sluice."""


class ConfigError(SluiceError):
    """A setting is unknown, malformed or contradicts another one."""


class AppImportError(SluiceError):
    """The application named on the command line could not be loaded."""


class ProtocolError(SluiceError):
    """An HTTP/1.1 framing or syntax rule was broken.

    Args:
        message: what was wrong, said so that the peer can fix it.
        status_hint: the HTTP status a server should answer with.
    """

    def __init__(self, message: str, status_hint: int = 400) -> None:
        super().__init__(message)
        self.status_hint = status_hint


class RemoteProtocolError(ProtocolError):
    """The peer sent bytes that break HTTP/1.1; answer ``status_hint`` and close."""


class LocalProtocolError(ProtocolError):
    """This side (the application or the server) tried to send something invalid."""


class HaltServer(BaseException):
    """Stop the server with an exit code; not catchable by ``except Exception``.

    Args:
        reason: why the server stops, for the log.
        exit_code: the process exit status.
    """

    def __init__(self, reason: str, exit_code: int = 1) -> None:
        super().__init__(reason)
        self.reason = reason
        self.exit_code = exit_code


class DeadlineExceeded(BaseException):
    """Raised in a request's thread when it runs past the server's ``--timeout``.

    sluice's server raises it asynchronously: Python code stops at its next
    bytecode, ``finally`` blocks and teardown functions run, and the
    thread is freed. Code blocked in C (a ``time.sleep``, a socket read)
    sees it only when the call returns. By then the client was answered
    with a 504 (or its connection closed, if the response had begun), and
    whatever the thread still sends is discarded. It derives from
    ``BaseException`` so that ``except Exception`` in an app does not
    swallow it.
    """


class RoutingError(SluiceError):
    """A URL rule is malformed or conflicts with another."""


class BuildError(RoutingError, LookupError):
    """``url_for`` could not build a URL for an endpoint and its values."""


_PHRASES = {status.value: status.phrase for status in HTTPStatus}


@lru_cache(maxsize=256)
def _render(code: int, name: str, description: str, as_json: bool) -> tuple[bytes, str]:
    # PERF: cached; a 404 page is the same bytes each time (benchmarks/framework.py).
    if as_json:
        body = json.dumps({"code": code, "error": name, "description": description})
        return body.encode(), "application/json"
    page = (
        "<!doctype html>\n<html lang=en>\n"
        f"<title>{code} {escape(name)}</title>\n"
        f"<h1>{escape(name)}</h1>\n<p>{escape(description)}</p>\n"
    )
    return page.encode(), "text/html; charset=utf-8"


class HTTPError(SluiceError):
    """An error that is answered with an HTTP status; it renders itself.

    Subclasses set ``code`` and a default ``description``; raise them (or
    call :func:`sluice.abort`) anywhere in a view or hook.

    Args:
        description: a sentence for the client that replaces the default.
        headers: extra response headers, e.g. ``[("Retry-After", "30")]``.
    """

    code = 500
    description = "The server could not complete the request."
    #: A response to send as it is instead of the error page (``abort(response)``).
    response: Any = None

    def __init__(
        self,
        description: str | None = None,
        headers: list[tuple[str, str]] | None = None,
        response: Any = None,
    ) -> None:
        if description is not None:
            self.description = description
        self.headers = list(headers or [])
        if response is not None:
            self.response = response
            code = getattr(response, "status_code", None)
            if isinstance(code, int):
                self.code = code
        super().__init__(f"{self.code} {self.name}: {self.description}")

    @property
    def name(self) -> str:
        """The reason phrase of ``code``, e.g. ``"Not Found"``."""
        return _PHRASES.get(self.code, "Unknown Error")

    @property
    def status(self) -> str:
        """The status line value, e.g. ``"404 Not Found"``."""
        return f"{self.code} {self.name}"

    def get_headers(self) -> list[tuple[str, str]]:
        """Return the headers the error response carries (without Content-Type)."""
        return list(self.headers)

    def get_response(self, environ: dict[str, Any] | None = None) -> Any:
        """The response this error is answered with: ``response`` if given, else its page.

        Args:
            environ: the request's environ (its ``Accept`` decides HTML or
                JSON); default the current request's, if any.

        Returns:
            A :class:`sluice.Response`.
        """
        if self.response is not None:
            return self.response
        from sluice.wrappers.request import Request
        from sluice.wrappers.response import Response

        if environ is None:
            from sluice.ctx import _cv_request

            ctx = _cv_request.get(None)
            environ = ctx.request.environ if ctx is not None else None
        prefers_json = Request(environ).prefers_json if environ is not None else False
        return self.build_response(prefers_json, Response)

    def build_response(self, prefers_json: bool, response_class: type) -> Any:
        """The error page as a ``response_class`` instance: its body (HTML or JSON), status and headers."""
        body, content_type = self.get_body(prefers_json=prefers_json)
        response = response_class(body, status=self.code, content_type=content_type)
        for name, value in self.get_headers():
            response.headers.add(name, value)
        return response

    def get_body(self, prefers_json: bool = False) -> tuple[bytes, str]:
        """Return the body bytes and their content type.

        Args:
            prefers_json: render ``{"error": ..., "code": ..., "description": ...}``
                instead of a small HTML page.
        """
        return _render(self.code, self.name, self.description, prefers_json)


class BadRequest(HTTPError):
    """400: the request is malformed."""

    code = 400
    description = "The request could not be understood by the server."


class Unauthorized(HTTPError):
    """401: authentication is required."""

    code = 401
    description = "Authentication is required to access this resource."


class Forbidden(HTTPError):
    """403: the client may not access this resource."""

    code = 403
    description = "You don't have permission to access this resource."


class NotFound(HTTPError):
    """404: no resource at this URL."""

    code = 404
    description = "The requested URL was not found on the server."


class MethodNotAllowed(HTTPError):
    """405: the URL exists but not for this method; carries ``Allow``.

    Args:
        valid_methods: the methods the URL accepts (sent in ``Allow``).
        description: replaces the default sentence.
    """

    code = 405
    description = "The method is not allowed for the requested URL."

    def __init__(self, valid_methods: list[str] | None = None, description: str | None = None) -> None:
        super().__init__(description)
        self.valid_methods = sorted(valid_methods or [])

    def get_headers(self) -> list[tuple[str, str]]:
        """Return ``Allow`` with the valid methods, plus any extra headers."""
        headers = list(self.headers)
        if self.valid_methods:
            headers.append(("Allow", ", ".join(self.valid_methods)))
        return headers


class NotAcceptable(HTTPError):
    """406: no representation matches the Accept headers."""

    code = 406
    description = "The resource cannot produce a response the client accepts."


class RequestTimeout(HTTPError):
    """408: the client took too long to send the request."""

    code = 408
    description = "The server closed the connection waiting for the request."


class Conflict(HTTPError):
    """409: the request conflicts with the current state of the resource."""

    code = 409
    description = "The request conflicts with the current state of the resource."


class Gone(HTTPError):
    """410: the resource is gone for good."""

    code = 410
    description = "The requested URL is no longer available."


class LengthRequired(HTTPError):
    """411: a Content-Length is required."""

    code = 411
    description = "A request with this method requires a Content-Length header."


class PreconditionFailed(HTTPError):
    """412: a precondition header did not hold."""

    code = 412
    description = "A precondition in the request headers did not hold."


class ContentTooLarge(HTTPError):
    """413: the request body is larger than allowed."""

    code = 413
    description = "The request body is larger than the server allows."


class URITooLong(HTTPError):
    """414: the URL is too long."""

    code = 414
    description = "The request URL is too long."


class UnsupportedMediaType(HTTPError):
    """415: the body's media type is not supported."""

    code = 415
    description = "The server does not support the media type of the request body."


class RangeNotSatisfiable(HTTPError):
    """416: the requested range cannot be served."""

    code = 416
    description = "The requested range cannot be served."


class ExpectationFailed(HTTPError):
    """417: the Expect header cannot be met."""

    code = 417
    description = "The server cannot meet the requirements of the Expect header."


class ImATeapot(HTTPError):
    """418: the server refuses to brew coffee (RFC 2324)."""

    code = 418
    description = "The server refuses to brew coffee because it is a teapot."


class UnprocessableContent(HTTPError):
    """422: the body is well-formed but its content is invalid."""

    code = 422
    description = "The request was well-formed but its content could not be processed."


class Locked(HTTPError):
    """423: the resource is locked."""

    code = 423
    description = "The resource is locked."


class FailedDependency(HTTPError):
    """424: an earlier request this one depends on failed."""

    code = 424
    description = "The request failed because an earlier request failed."


class PreconditionRequired(HTTPError):
    """428: the request must be conditional."""

    code = 428
    description = "This request is required to be conditional."


class TooManyRequests(HTTPError):
    """429: the client sent too many requests."""

    code = 429
    description = "Too many requests; slow down and try again later."


class RequestHeaderFieldsTooLarge(HTTPError):
    """431: the request headers are too large."""

    code = 431
    description = "The request header fields are too large."


class UnavailableForLegalReasons(HTTPError):
    """451: unavailable for legal reasons."""

    code = 451
    description = "The resource is unavailable for legal reasons."


class InternalServerError(HTTPError):
    """500: the server failed; the details are in the server log."""

    code = 500
    description = "The server encountered an internal error and could not complete the request."
    #: The unhandled exception this 500 answers (set by the app for its
    #: ``errorhandler(500)``), or None for a 500 raised as such.
    original_exception: BaseException | None = None


class NotImplementedHTTP(HTTPError):
    """501: the server does not support the requested functionality."""

    code = 501
    description = "The server does not support the action requested by the browser."


class BadGateway(HTTPError):
    """502: an upstream server sent an invalid response."""

    code = 502
    description = "The proxy server received an invalid response from an upstream server."


class ServiceUnavailable(HTTPError):
    """503: the service is down for now."""

    code = 503
    description = "The server is temporarily unable to service the request."


class GatewayTimeout(HTTPError):
    """504: an upstream server did not answer in time."""

    code = 504
    description = "The upstream server did not answer in time."


class HTTPVersionNotSupported(HTTPError):
    """505: the HTTP version is not supported."""

    code = 505
    description = "The server does not support the HTTP version of the request."


#: Status code to HTTPError class, for ``abort(code)``: every class above.
HTTP_ERRORS: dict[int, type[HTTPError]] = {
    cls.code: cls for cls in HTTPError.__subclasses__() if cls.__module__ == __name__
}


def abort(code: int | Any, description: str | None = None, **kwargs: Any) -> NoReturn:
    """Raise the :class:`HTTPError` for ``code``, or one that sends a given response.

    Args:
        code: an error status, or a response (``abort(make_response(...))``)
            to send as it is.
        description: replaces the error's default sentence.
        **kwargs: passed to the error class, e.g. ``valid_methods=["GET"]``
            for 405 or ``headers=[...]``.

    Raises:
        HTTPError: always; the subclass for ``code``.
        LookupError: ``code`` is not an error status sluice knows (use a
            subclass of HTTPError for others).
    """
    if not isinstance(code, int):
        raise HTTPError(description=description, response=code)
    try:
        cls = HTTP_ERRORS[code]
    except KeyError:
        raise LookupError(f"no HTTPError for status {code}; subclass HTTPError with code = {code}") from None
    raise cls(description=description, **kwargs)
