"""The ``Response`` wrapper: status, headers and a body, and itself a WSGI application.

Design: a str or bytes body is stored encoded, as a one-item list, and
gets ``Content-Length``; any other iterable is kept as is and streamed
chunk by chunk (no length: the server picks chunked framing). Reading
``data`` buffers a streamed body once. Calling the response as a WSGI app
returns a :class:`ClosingIterator`, whose ``close()`` closes the body
iterable and then runs the ``call_on_close`` callbacks, exactly once; that
is where the app hangs teardown. HEAD, 1xx, 204 and 304 responses send no
body, but the body iterable is still closed.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Mapping
from collections.abc import Sequence
from datetime import datetime
from datetime import timedelta
from functools import lru_cache
from http import HTTPStatus
from typing import Any
from typing import Self
from typing import TypeVar
from wsgiref.types import StartResponse
from wsgiref.types import WSGIEnvironment

from sluice.wrappers.datastructures import Headers
from sluice.wrappers.datastructures import check_value
from sluice.wrappers.filebody import BLOCK_SIZE
from sluice.wrappers.filebody import FileBody
from sluice.wrappers.filebody import FileResult
from sluice.wrappers.http import dump_cookie
from sluice.wrappers.http import parse_options_header

_F = TypeVar("_F", bound=Callable[[], Any])
_I = TypeVar("_I", bound="ClosingIterator")

BodyType = str | bytes | bytearray | Iterable[bytes | str] | None

# Media types that take a charset parameter besides text/* (as Werkzeug does).
_CHARSET_TYPES = frozenset({"application/javascript", "application/ecmascript", "application/xml"})
_NO_BODY_STATUSES = frozenset({204, 304})


def _with_charset(mimetype: str) -> str:
    if mimetype.startswith("text/") or mimetype in _CHARSET_TYPES or mimetype.endswith("+xml"):
        return f"{mimetype}; charset=utf-8"
    return mimetype


# The reason phrase upper-cased, as Werkzeug (so Flask) writes it: a test of a
# Flask app that compares ``response.status`` ("404 NOT FOUND") passes here
# too. RFC 9110 §15 leaves the phrase to the server; clients ignore it.
_STATUS_LINES = {status.value: f"{status.value} {status.phrase.upper()}" for status in HTTPStatus}


def _status_line(code: int) -> str:
    return _STATUS_LINES.get(code) or f"{code} UNKNOWN"


@lru_cache(maxsize=64)
@lru_cache(maxsize=64)
def _content_type_for(mimetype: str) -> str:
    """``Content-Type`` for ``mimetype``, charset added, checked once per distinct value.

    PERF: cached as a whole, so a response pays one C call for it.
    """
    return _checked_content_type(_with_charset(mimetype))


@lru_cache(maxsize=64)
def _checked_content_type(content_type: str) -> str:
    """``content_type`` checked once per distinct value (a bad one raises each time)."""
    return check_value("Content-Type", content_type)


class ClosingIterator:
    """The WSGI iterable of a response: yields the body, and ``close()`` runs the callbacks once.

    Args:
        chunks: the body chunks (already empty for HEAD and bodiless statuses).
        body: the response's original body iterable, closed on ``close()``.
        callbacks: called in order on the first ``close()``.
    """

    __slots__ = ("_chunks", "_body", "_callbacks", "_closed")

    def __init__(self, chunks: Iterable[bytes], body: object, callbacks: Sequence[Callable[[], Any]]) -> None:
        self._chunks = chunks
        self._body = body
        self._callbacks = callbacks
        self._closed = False

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._chunks)

    @property
    def buffered(self) -> bool:
        """True when the chunks are already in memory (no app code runs while they are sent)."""
        return type(self._chunks) is list or type(self._chunks) is tuple

    def wsgi_result(self, environ: WSGIEnvironment) -> Iterable[bytes]:
        """Return what the server gets: this iterable, or for a file body the server's file wrapper.

        A :class:`~sluice.wrappers.filebody.FileBody` goes out through
        ``environ["wsgi.file_wrapper"]`` (PEP 3333), so sluice's server sends
        it with ``sendfile(2)``; the wrapped filelike's ``close()`` closes the
        file and this iterable, once.

        Args:
            environ: the request's environ.
        """
        chunks = self._chunks
        if type(chunks) is not FileBody:
            return self
        wrapper = environ.get("wsgi.file_wrapper")
        if wrapper is None:
            return self
        result: Iterable[bytes] = wrapper(FileResult(chunks, self.close), BLOCK_SIZE)
        return result

    def close(self) -> None:
        """Close the body iterable, then run each callback; later calls do nothing.

        Raises:
            Exception: the first error of a callback or of the body's
                ``close()``, after all the others ran.
        """
        if self._closed:
            return
        self._closed = True
        error: BaseException | None = None
        # PERF: a buffered body is a list, which has no close() to look for.
        close = getattr(self._body, "close", None) if type(self._body) is not list else None
        if close is not None:
            try:
                close()
            except Exception as exc:
                error = exc
        for callback in self._callbacks:
            try:
                callback()
            except Exception as exc:
                error = error or exc
        if error is not None:
            raise error


def _encode_chunks(body: Iterable[bytes | str]) -> Iterator[bytes]:
    for chunk in body:
        yield chunk.encode("utf-8") if isinstance(chunk, str) else chunk


class Response:
    """An HTTP response: a status, headers and a body.

    Args:
        body: str (sent as UTF-8), bytes, an iterable of bytes or str chunks
            (streamed; a generator is not consumed until sent), or None.
        status: an int (``404``) or a status line (``"404 Not Found"``).
        headers: initial headers (Headers, a mapping, or pairs).
        mimetype: the media type; ``charset=utf-8`` is added for text types.
        content_type: the full ``Content-Type``; wins over ``mimetype``.

    Raises:
        ValueError: a malformed status or header.
    """

    __slots__ = ("_status_code", "_status", "_headers", "_body", "_on_close")

    # A Headers, or the framework's own checked pairs before anyone asked for ``headers``.
    _headers: Headers | list[tuple[str, str]]

    default_mimetype = "text/html"

    def __init__(
        self,
        body: BodyType = None,
        status: int | str = 200,
        headers: Headers | Mapping[str, str | int | list[str]] | Iterable[tuple[str, str | int]] | None = None,
        mimetype: str | None = None,
        content_type: str | None = None,
    ) -> None:
        if type(status) is int and status in _STATUS_LINES:
            # PERF: a known code needs no checks; a call to the status setter
            # costs JSON and error responses 0.2-0.3 µs (benchmarks/framework.py).
            self._status_code = status
            self._status = _STATUS_LINES[status]
        else:
            self.status = status
        self._on_close: list[Callable[[], Any]] = []
        self._body: Iterable[bytes | str]
        if headers is None:
            # PERF: the common case builds its header list directly from values
            # known to be valid (benchmarks/framework.py).
            if content_type is None:
                content_type = _content_type_for(mimetype or self.default_mimetype)
            else:
                content_type = _checked_content_type(content_type)
            if body is None or isinstance(body, (str, bytes, bytearray)):
                data = body.encode("utf-8") if isinstance(body, str) else bytes(body or b"")
                self._body = [data]
                self._headers = [("Content-Type", content_type), ("Content-Length", str(len(data)))]
            else:
                self._body = body
                self._headers = [("Content-Type", content_type)]
            return
        self._headers = headers.copy() if isinstance(headers, Headers) else Headers(headers)
        if content_type is None and "Content-Type" not in self.headers:
            content_type = _content_type_for(mimetype or self.default_mimetype)
        if content_type is not None:
            self.headers.set("Content-Type", content_type)
        self._body = []
        if body is None or isinstance(body, (str, bytes, bytearray)):
            self.set_data(body or b"")
        else:
            self._body = body

    @classmethod
    def from_text(cls, text: str) -> Self:
        """Return a 200 response with ``text`` as its body, of the class's ``default_mimetype``.

        The same as ``cls(text)``, without the argument handling: the app
        uses it for views that return a str (PERF: 0.29 vs 0.51 µs,
        benchmarks/framework.py). A subclass whose ``__init__`` does more
        should be constructed normally; the app does so.
        """
        self = object.__new__(cls)
        data = text.encode("utf-8")
        self._status_code = 200
        self._status = "200 OK"
        self._on_close = []
        self._body = [data]
        self._headers = [("Content-Type", _content_type_for(cls.default_mimetype)), ("Content-Length", str(len(data)))]
        return self

    def __repr__(self) -> str:
        if isinstance(self._body, list):
            size = f"{sum(len(chunk) for chunk in self._body)} bytes"
        else:
            size = "streamed"
        return f"<{type(self).__name__} {size} [{self._status}]>"

    # -- headers ----------------------------------------------------------

    @property
    def headers(self) -> Headers:
        """The response headers (:class:`Headers`); assign a Headers or a mapping to replace them."""
        headers = self._headers
        if isinstance(headers, list):
            # PERF: the framework's own two headers stay a plain list until
            # someone looks at them (benchmarks/framework.py).
            headers = self._headers = Headers.from_checked(headers)
        return headers

    @headers.setter
    def headers(self, value: Headers | Mapping[str, str | int | list[str]] | Iterable[tuple[str, str | int]]) -> None:
        self._headers = value if isinstance(value, Headers) else Headers(value)

    # -- status -----------------------------------------------------------

    @property
    def status_code(self) -> int:
        """The status code, e.g. ``404``; setting it updates :attr:`status`."""
        return self._status_code

    @status_code.setter
    def status_code(self, code: int) -> None:
        if isinstance(code, bool) or not isinstance(code, int) or not 100 <= code <= 999:
            raise ValueError(f"status code must be an int from 100 to 999, not {code!r}")
        self._status_code = code
        self._status = _status_line(code)

    @property
    def status(self) -> str:
        """The status line value, e.g. ``"404 NOT FOUND"``; set it as a str or an int."""
        return self._status

    @status.setter
    def status(self, value: int | str) -> None:
        if isinstance(value, int):
            self.status_code = value
            return
        if not isinstance(value, str):
            raise TypeError(f"status must be an int or a str, not {type(value).__name__}")
        code_text, _, reason = value.strip().partition(" ")
        if not (len(code_text) == 3 and code_text.isdigit() and code_text[0] != "0"):
            raise ValueError(f"status {value!r} must start with a three-digit code, e.g. '404 Not Found'")
        if any(ord(char) < 0x20 and char != "\t" or ord(char) == 0x7F for char in reason):
            raise ValueError(f"status {value!r} contains a control character; remove it")
        self.status_code = int(code_text)
        if reason.strip():
            self._status = f"{code_text} {reason.strip()}"

    # -- body -------------------------------------------------------------

    def set_data(self, value: str | bytes | bytearray) -> None:
        """Replace the body and set ``Content-Length``.

        Args:
            value: the new body; a str is encoded as UTF-8.

        Raises:
            TypeError: ``value`` is not str or bytes.
        """
        if isinstance(value, str):
            data = value.encode("utf-8")
        elif isinstance(value, (bytes, bytearray)):
            data = bytes(value)
        else:
            raise TypeError(f"response data must be str or bytes, not {type(value).__name__}")
        self._body = [data]
        self.headers.set("Content-Length", str(len(data)))

    def get_data(self, as_text: bool = False) -> Any:
        """Return the whole body, buffering a streamed body first.

        Args:
            as_text: decode as UTF-8 and return str.

        Returns:
            The body as bytes, or str when ``as_text``.
        """
        body = self._body
        chunks = list(_encode_chunks(body))
        if type(body) is FileBody:
            body.close()  # read whole: the file is no longer needed
        self._body = chunks
        data = b"".join(chunks)
        return data.decode("utf-8") if as_text else data

    @property
    def data(self) -> bytes:
        """The whole body as bytes; setting it calls :meth:`set_data`."""
        data: bytes = self.get_data()
        return data

    @data.setter
    def data(self, value: str | bytes | bytearray) -> None:
        self.set_data(value)

    @property
    def is_streamed(self) -> bool:
        """True when the body is an iterable not yet buffered (no Content-Length is set for it)."""
        return not isinstance(self._body, list)

    # -- headers ----------------------------------------------------------

    @property
    def content_type(self) -> str | None:
        """The ``Content-Type`` header, or None."""
        return self.headers.get("Content-Type")

    @content_type.setter
    def content_type(self, value: str | None) -> None:
        self._set_or_remove("Content-Type", value)

    @property
    def mimetype(self) -> str | None:
        """The media type of ``Content-Type`` without parameters; setting adds the charset for text types."""
        value = self.content_type
        return parse_options_header(value)[0] if value else None

    @mimetype.setter
    def mimetype(self, value: str) -> None:
        self.headers.set("Content-Type", _with_charset(value))

    @property
    def content_length(self) -> int | None:
        """The ``Content-Length`` as an int, or None; set None to remove it."""
        return self.headers.get("Content-Length", None, int)

    @content_length.setter
    def content_length(self, value: int | None) -> None:
        self._set_or_remove("Content-Length", None if value is None else str(int(value)))

    @property
    def location(self) -> str | None:
        """The ``Location`` header, or None; set None to remove it."""
        return self.headers.get("Location")

    @location.setter
    def location(self, value: str | None) -> None:
        self._set_or_remove("Location", value)

    def _set_or_remove(self, name: str, value: str | None) -> None:
        if value is None:
            self.headers.remove(name)
        else:
            self.headers.set(name, value)

    def set_cookie(
        self,
        key: str,
        value: str = "",
        max_age: int | timedelta | None = None,
        expires: datetime | int | float | str | None = None,
        path: str | None = "/",
        domain: str | None = None,
        secure: bool = False,
        httponly: bool = False,
        samesite: str | None = None,
        partitioned: bool = False,
    ) -> None:
        """Add a ``Set-Cookie`` header.

        Args:
            key: the cookie name (an RFC 9110 token).
            value: the value; quoted per RFC 6265 when it holds other characters.
            max_age: lifetime in seconds or a timedelta (also sets ``Expires``).
            expires: a datetime (naive means UTC), a Unix timestamp, or a date string.
            path: the ``Path`` attribute, or None to omit it.
            domain: the ``Domain`` attribute.
            secure: send only over HTTPS.
            httponly: hide the cookie from JavaScript.
            samesite: ``"Strict"``, ``"Lax"`` or ``"None"``.
            partitioned: a partitioned (CHIPS) cookie; needs ``secure``.

        Raises:
            ValueError: a bad name, attribute or ``samesite``, or
                ``SameSite=None``/``partitioned`` without ``secure``.
        """
        self.headers.add(
            "Set-Cookie",
            dump_cookie(key, value, max_age, expires, path, domain, secure, httponly, samesite, partitioned),
        )

    def delete_cookie(
        self,
        key: str,
        path: str | None = "/",
        domain: str | None = None,
        secure: bool = False,
        httponly: bool = False,
        samesite: str | None = None,
        partitioned: bool = False,
    ) -> None:
        """Tell the client to drop a cookie: an empty value that expired in 1970.

        Args:
            key: the cookie name.
            path: must match the path the cookie was set with.
            domain: must match the domain the cookie was set with.
            secure: as when the cookie was set.
            httponly: as when the cookie was set.
            samesite: as when the cookie was set.
            partitioned: as when the cookie was set.

        Raises:
            ValueError: as :meth:`set_cookie`.
        """
        self.set_cookie(key, "", 0, 0, path, domain, secure, httponly, samesite, partitioned)

    def call_on_close(self, func: _F) -> _F:
        """Register ``func`` to run when the server closes the response iterable.

        Usable as a decorator. Callbacks run once, in registration order,
        after the last byte was sent or the client went away.

        Args:
            func: a callable without arguments.

        Returns:
            ``func`` unchanged.
        """
        self._on_close.append(func)
        return func

    # -- WSGI -------------------------------------------------------------

    def get_wsgi_headers(self, environ: WSGIEnvironment) -> list[tuple[str, str]]:
        """Return the header list to send for this request.

        Bodiless statuses (1xx, 204, 304) drop ``Content-Type`` and
        ``Content-Length`` (RFC 9110 §8.6 and §15.3.5).

        Args:
            environ: the request's environ.
        """
        fields = self._headers
        headers = list(fields) if isinstance(fields, list) else fields.to_wsgi_list()
        if self._status_code in _NO_BODY_STATUSES or self._status_code < 200:
            headers = [pair for pair in headers if pair[0].lower() not in ("content-type", "content-length")]
        return headers

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """Serve this response as a WSGI application.

        Args:
            environ: the request's environ.
            start_response: the server's callable.

        Returns:
            The body iterable; its ``close()`` runs the ``call_on_close`` callbacks.
        """
        return self.start(environ, start_response, ClosingIterator).wsgi_result(environ)

    def start(
        self, environ: WSGIEnvironment, start_response: StartResponse, iterable_class: type[_I]
    ) -> _I:
        """Call ``start_response`` and return the body as an ``iterable_class`` instance.

        The app uses it to get an iterable (a :class:`ClosingIterator`
        subclass) that also ends the request when closed.
        """
        start_response(self._status, self.get_wsgi_headers(environ))
        body = self._body
        code = self._status_code
        chunks: Iterable[bytes]
        if code < 200 or code in _NO_BODY_STATUSES or environ.get("REQUEST_METHOD") == "HEAD":
            chunks = ()
        elif type(body) is list:
            chunks = body
            for chunk in body:
                if not isinstance(chunk, bytes):
                    chunks = _encode_chunks(body)
                    break
        elif type(body) is FileBody:
            chunks = body  # yields bytes; wsgi_result() hands it to the file wrapper
        else:
            chunks = _encode_chunks(body)
        return iterable_class(chunks, body, self._on_close)


def call_wsgi_app(app: Callable[..., Iterable[bytes]], environ: WSGIEnvironment) -> tuple[str, list[tuple[str, str]], bytes]:
    """Call a WSGI app as a buffering server would and return what it answered.

    The iterable is consumed and its ``close()`` called; ``write()`` works;
    since nothing was sent yet, a ``start_response`` call with ``exc_info``
    replaces the status and headers (PEP 3333).

    Returns:
        The status line value, the headers and the whole body.

    Raises:
        RuntimeError: the app returned without calling ``start_response``.
    """
    captured: list[Any] = []
    chunks: list[bytes] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
        captured[:] = [status, list(headers)]
        return chunks.append

    result = app(environ, start_response)
    try:
        chunks.extend(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    if not captured:
        raise RuntimeError("the WSGI app returned without calling start_response()")
    return captured[0], captured[1], b"".join(chunks)

