"""The ``Request`` wrapper: a lazy, read-only view of one WSGI environ.

Design: constructing a ``Request`` stores the environ and nothing else.
Every property is a :class:`lazy_property`: the first read parses and
stores the result in the instance ``__dict__``, later reads are plain
attribute lookups (faster than a slot plus an "is it parsed yet" check,
which is why this class, unlike the containers, has no ``__slots__``). The
body is read at most once: ``form``/``files`` consume the stream for form
content types, ``get_data`` buffers it for the rest. Decoding follows PEP
3333: environ strings are latin-1 stand-ins for bytes, re-encoded and then
decoded as UTF-8, and anything that does not decode is a 400, never a 500.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import IO
from typing import TYPE_CHECKING
from typing import Any
from typing import Generic
from typing import Self
from typing import TypeVar
from typing import overload
from urllib.parse import quote
from wsgiref.types import WSGIEnvironment

from sluice import requestid
from sluice.errors import BadRequest
from sluice.errors import ContentTooLarge
from sluice.errors import HTTP_ERRORS
from sluice.errors import HTTPError
from sluice.errors import RemoteProtocolError
from sluice.errors import RequestTimeout
from sluice.errors import UnsupportedMediaType
from sluice.wrappers.datastructures import FileStorage
from sluice.wrappers.datastructures import Headers
from sluice.wrappers.datastructures import ImmutableList
from sluice.wrappers.datastructures import ImmutableHeaders
from sluice.wrappers.datastructures import MultiDict
from sluice.wrappers.formparser import FILE_MEMORY_SIZE
from sluice.wrappers.formparser import MultipartParser
from sluice.wrappers.formparser import parse_urlencoded
from sluice.wrappers.http import Accept
from sluice.wrappers.http import LanguageAccept
from sluice.wrappers.http import MIMEAccept
from sluice.wrappers.http import parse_cookie
from sluice.wrappers.http import parse_date
from sluice.wrappers.http import parse_options_header
from sluice.wrappers.request_headers import Authorization
from sluice.wrappers.request_headers import ETags
from sluice.wrappers.request_headers import Range
from sluice.wrappers.request_headers import RequestCacheControl
from sluice.wrappers.request_headers import UserAgent
from sluice.wrappers.request_headers import parse_authorization
from sluice.wrappers.request_headers import parse_cache_control
from sluice.wrappers.request_headers import parse_etags
from sluice.wrappers.request_headers import parse_range

if TYPE_CHECKING:
    from sluice.routing.rules import Rule

_READ_SIZE = 64 * 1024
_MISSING: Any = object()
_T = TypeVar("_T")


class lazy_property(Generic[_T]):  # noqa: N801 - named like the builtin decorators
    """A property computed on first read and then stored in the instance ``__dict__``.

    ``functools.cached_property`` does the same, but on Python 3.11 it takes
    a lock on every first read. PERF: half its cost (0.30 vs 0.59 µs for
    construct-and-read, ``benchmarks/framework.py``); a request reads several
    properties once each. Assigning the attribute overrides the value, as
    with ``cached_property``.
    """

    def __init__(self, func: Callable[[Any], _T]) -> None:
        self.func = func
        self.name = func.__name__
        self.__doc__ = func.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, obj: None, owner: type | None = None) -> Self: ...
    @overload
    def __get__(self, obj: object, owner: type | None = None) -> _T: ...
    def __get__(self, obj: object, owner: type | None = None) -> Any:
        if obj is None:
            return self
        # PERF: setattr, not obj.__dict__[...]: reading __dict__ makes CPython
        # 3.11 build the dict of an instance that kept its values inline.
        value = self.func(obj)
        setattr(obj, self.name, value)
        return value


def _input_error(exc: OSError | RemoteProtocolError) -> HTTPError:
    """The HTTP error for a failed read of ``wsgi.input`` (a stalled, vanished or broken client).

    A server raises ``OSError`` from ``wsgi.input`` when its body timeout
    runs out (sluice's raises ``TimeoutError``) or the connection breaks,
    and sluice's raises ``RemoteProtocolError`` for a body that breaks HTTP
    framing or its ``--max-body-size`` (with the status to answer). All are
    the client's failure, so they become a 408, 400 or 413, not a 500
    (Werkzeug answers 400 for a failed read).
    """
    if isinstance(exc, RemoteProtocolError):
        error_class = HTTP_ERRORS.get(exc.status_hint, BadRequest)
        return error_class(f"The request body is malformed: {exc}.")
    if isinstance(exc, TimeoutError):
        return RequestTimeout(f"The client sent no more body bytes in time ({exc}); send the body without pauses.")
    return BadRequest(f"The connection failed while the request body was read ({exc}).")


class LimitedStream:
    """A file-like reader that returns at most ``limit`` bytes of a WSGI input.

    PEP 3333 forbids reading ``wsgi.input`` past ``CONTENT_LENGTH``; this
    makes reading to the end safe. A stream that ends before ``limit`` means
    the client went away or lied about the length. A body of unknown length
    (chunked, ``wsgi.input_terminated``) is read until the server reports its
    end, and at most ``max_length`` bytes of it: one byte more is a 413, so
    reading stops at the limit.

    Args:
        stream: the ``wsgi.input`` file.
        limit: how many bytes the body has, or None when the server marks
            the input as terminated (``wsgi.input_terminated``).
        max_length: with ``limit`` None, the most bytes accepted (None: no
            limit).
    """

    __slots__ = ("_stream", "_remaining", "_max_length", "_seen")

    def __init__(self, stream: IO[bytes], limit: int | None, max_length: int | None = None) -> None:
        self._stream = stream
        self._remaining = limit
        self._max_length = max_length
        self._seen = 0

    def _read_unknown_length(self, size: int) -> bytes:
        max_length = self._max_length
        if max_length is None:
            return self._stream.read(size) if size >= 0 else self._stream.read()
        # Never ask for more than one byte past the limit, so a huge body
        # is refused after reading at most max_length + 1 bytes of it.
        allowed = max_length + 1 - self._seen
        if size < 0:
            pieces = []
            while allowed > 0:
                piece = self._stream.read(min(allowed, _READ_SIZE))
                if not piece:
                    break
                pieces.append(piece)
                allowed -= len(piece)
                self._seen += len(piece)
            data = b"".join(pieces)
        else:
            data = self._stream.read(min(size, allowed))
            self._seen += len(data)
        if self._seen > max_length:
            raise ContentTooLarge(
                f"The request body is larger than {max_length} bytes (MAX_CONTENT_LENGTH); send a smaller one."
            )
        return data

    def read(self, size: int = -1) -> bytes:
        """Read up to ``size`` bytes, or all that is left when ``size`` is negative.

        Raises:
            BadRequest: the input ended before ``Content-Length`` bytes, or
                the connection failed or the body broke HTTP framing.
            RequestTimeout: the server gave up waiting for body bytes.
            ContentTooLarge: a body of unknown length exceeds ``max_length``
                (or the server's own limit).
        """
        try:
            return self._read(size)
        except (OSError, RemoteProtocolError) as exc:
            raise _input_error(exc) from None

    def _read(self, size: int) -> bytes:
        if self._remaining is None:
            return self._read_unknown_length(size)
        if self._remaining <= 0:
            return b""
        if size < 0 or size > self._remaining:
            size = self._remaining
        data = self._stream.read(size)
        # A socket-backed input may return short reads; keep reading, and
        # treat an empty read before the limit as a client that went away.
        while len(data) < size:
            more = self._stream.read(size - len(data))
            if not more:
                self._remaining = 0
                raise BadRequest("The client sent fewer body bytes than its Content-Length announced.")
            data += more
        self._remaining -= len(data)
        return data

    def readline(self, size: int = -1) -> bytes:
        """Read one line, at most ``size`` bytes, never past the limit.

        Raises:
            BadRequest: the connection failed while reading.
            RequestTimeout: the server gave up waiting for body bytes.
            ContentTooLarge: a body of unknown length exceeds ``max_length``.
        """
        try:
            return self._readline(size)
        except (OSError, RemoteProtocolError) as exc:
            raise _input_error(exc) from None

    def _readline(self, size: int) -> bytes:
        if self._remaining is None:
            if self._max_length is None:
                return self._stream.readline(size) if size >= 0 else self._stream.readline()
            allowed = self._max_length + 1 - self._seen
            line = self._stream.readline(allowed if size < 0 else min(size, allowed))
            self._seen += len(line)
            if self._seen > self._max_length:
                raise ContentTooLarge(
                    f"The request body is larger than {self._max_length} bytes (MAX_CONTENT_LENGTH); send a smaller one."
                )
            return line
        if self._remaining <= 0:
            return b""
        if size < 0 or size > self._remaining:
            size = self._remaining
        line = self._stream.readline(size)
        self._remaining -= len(line)
        return line

    def readable(self) -> bool:
        """Return True: the stream can be read."""
        return True

    def __iter__(self) -> LimitedStream:
        return self

    def __next__(self) -> bytes:
        line = self.readline()
        if not line:
            raise StopIteration
        return line


def _decode_path(value: str, what: str) -> str:
    try:
        return value.encode("latin-1").decode("utf-8")
    except UnicodeEncodeError:
        # The server already gave text that is not a latin-1 byte string.
        return value
    except UnicodeDecodeError:
        raise BadRequest(f"The {what} is not valid UTF-8; percent-encode it as UTF-8 bytes.") from None


class Request:
    """One HTTP request, parsed lazily from its WSGI environ.

    Args:
        environ: the PEP 3333 environ of the request.

    Attributes:
        view_args: URL arguments, set by the router (None before routing).
        endpoint: the matched endpoint name, set by the router.
        blueprint: the matched blueprint name, set by the router.
        max_content_length: bodies larger than this are a 413 (None: no limit).
        max_form_memory_size: the most bytes of form fields (not files) read
            into memory; more is a 413.
        max_form_parts: the most multipart parts or urlencoded fields; more is a 413.
        max_file_memory_size: an uploaded file larger than this many bytes
            moves from memory to a temporary file (0: always a temporary
            file; None: always memory).
    """

    max_content_length: int | None = None
    max_form_memory_size: int | None = 500_000
    max_form_parts: int | None = 1000
    max_file_memory_size: int | None = FILE_MEMORY_SIZE
    view_args: dict[str, Any] | None = None
    endpoint: str | None = None
    blueprint: str | None = None
    #: ``fn(request, response)`` callables, run once the response exists.
    response_callbacks: tuple[Callable[[Request, Any], Any], ...] = ()
    #: ``fn(request)`` callables, run at the very end of the request.
    finished_callbacks: tuple[Callable[[Request], Any], ...] = ()
    # Set on first use.
    _cached_data: bytes | None = None
    _form_data: tuple[MultiDict[str], MultiDict[FileStorage]] | None
    _cached_json: Any = _MISSING

    def __init__(self, environ: WSGIEnvironment) -> None:
        self.environ = environ
        # PERF: set here, not read from class defaults (see RequestContext.__init__).
        self.response_callbacks = ()
        self.finished_callbacks = ()
        self._form_data = None
        #: The request method, uppercased (``"GET"``).
        method: str = environ.get("REQUEST_METHOD", "GET")
        # PERF: an uppercase method is kept as it is, not copied.
        self.method: str = method if method.isupper() else method.upper()
        raw_path: str = environ.get("PATH_INFO", "")
        # A PATH_INFO that is not valid UTF-8 gives a path with U+FFFD in place
        # of the bad bytes (as Werkzeug's), and this error, which the app
        # answers (400) instead of routing the request.
        self._path_error: BadRequest | None = None
        if not raw_path.isascii():  # PERF: an ASCII path needs no decoding
            raw_path = self._decode_path_info(raw_path)
        #: The decoded path below the application root, always starting with
        #: ``/``. PERF: a plain attribute, not a lazy property: CPython 3.11
        #: specialises neither the store nor the loads of an attribute whose
        #: name the class holds as a descriptor.
        self.path: str = "/" + raw_path.lstrip("/")

    def _decode_path_info(self, raw: str) -> str:
        try:
            return _decode_path(raw, "request path")
        except BadRequest as exc:
            self._path_error = exc
            return raw.encode("latin-1").decode("utf-8", "replace")

    def add_response_callback(self, callback: Callable[[Request, Any], Any]) -> None:
        """Call ``callback(request, response)`` once the response exists (Pyramid style).

        Callbacks run in the order added, after the after_request hooks and
        outside the middleware chain; one may change the response in place.
        """
        self.response_callbacks += (callback,)

    def add_finished_callback(self, callback: Callable[[Request], Any]) -> None:
        """Call ``callback(request)`` at the very end of the request, after the body was sent."""
        self.finished_callbacks += (callback,)

    def __repr__(self) -> str:
        try:
            url = self.url
        except BadRequest:
            url = "(undecodable URL)"
        return f"<Request {url!r} [{self.method}]>"

    # -- URL --------------------------------------------------------------

    @lazy_property
    def script_root(self) -> str:
        """The decoded mount point of the application, without a trailing ``/``.

        Raises:
            BadRequest: ``SCRIPT_NAME`` is not valid UTF-8.
        """
        return _decode_path(self.environ.get("SCRIPT_NAME", ""), "script name").rstrip("/")

    @lazy_property
    def query_string(self) -> bytes:
        """The raw query string bytes, without the ``?``."""
        return str(self.environ.get("QUERY_STRING", "")).encode("latin-1", "replace")

    @lazy_property
    def full_path(self) -> str:
        """The path and query string, e.g. ``/search?q=x`` (the ``?`` is always there, as in Werkzeug)."""
        return f"{self.path}?{self.query_string.decode('utf-8', 'replace')}"

    @lazy_property
    def scheme(self) -> str:
        """The URL scheme, ``"http"`` or ``"https"`` (``wsgi.url_scheme``)."""
        return str(self.environ.get("wsgi.url_scheme", "http"))

    @lazy_property
    def is_secure(self) -> bool:
        """True when the request came over TLS."""
        return self.scheme in ("https", "wss")

    @lazy_property
    def host(self) -> str:
        """The host and, when not the scheme's default, the port.

        ``Host`` wins; without it ``SERVER_NAME`` and ``SERVER_PORT`` are used.
        """
        host = self.environ.get("HTTP_HOST")
        if host:
            return str(host)
        name = str(self.environ.get("SERVER_NAME", ""))
        port = str(self.environ.get("SERVER_PORT", ""))
        if port and (self.scheme, port) not in (("http", "80"), ("https", "443")):
            if ":" in name:
                name = f"[{name}]"
            return f"{name}:{port}"
        return name

    @lazy_property
    def root_url(self) -> str:
        """Scheme, host and the quoted script root, with a trailing ``/``."""
        return f"{self.scheme}://{self.host}{quote(self.script_root)}/"

    @property
    def url_root(self) -> str:
        """Alias of :attr:`root_url` (the Flask name)."""
        return self.root_url

    @property
    def root_path(self) -> str:
        """Alias of :attr:`script_root` (the Werkzeug name): the decoded mount point, no trailing ``/``."""
        return self.script_root

    @lazy_property
    def host_url(self) -> str:
        """Scheme and host with a trailing ``/``, without the script root (``http://localhost/``)."""
        return f"{self.scheme}://{self.host}/"

    @lazy_property
    def base_url(self) -> str:
        """The URL without the query string, path percent-encoded."""
        return f"{self.scheme}://{self.host}{quote(self.script_root + self.path)}"

    @lazy_property
    def url(self) -> str:
        """The full URL, path percent-encoded, query string as received."""
        query = self.query_string
        if not query:
            return self.base_url
        return f"{self.base_url}?{quote(query, safe='/:?=&%+;,@!$*()~[]')}"

    @lazy_property
    def id(self) -> str:
        """The request's id, as in the access log and the ``X-Request-ID`` response header.

        sluice's server sets it (``environ["sluice.request_id"]``; see
        docs/server.md, Request ids). Under another server a new one is
        made on first read and stored in the environ, so every reader of
        this request sees the same id.
        """
        value = self.environ.get("sluice.request_id")
        if not value:
            value = self.environ["sluice.request_id"] = requestid.new_id()
        return str(value)

    @lazy_property
    def remote_addr(self) -> str | None:
        """The client address the server saw (``REMOTE_ADDR``), or None."""
        value = self.environ.get("REMOTE_ADDR")
        return str(value) if value is not None else None

    @lazy_property
    def access_route(self) -> ImmutableList[str]:
        """The client and proxy addresses: ``X-Forwarded-For``'s list when sent, else ``[remote_addr]``.

        NOTE: any client can send ``X-Forwarded-For``; trust its entries only
        as far as the proxies in front of the app set them.
        """
        forwarded = self.environ.get("HTTP_X_FORWARDED_FOR")
        if forwarded:
            return ImmutableList(address.strip() for address in str(forwarded).split(",") if address.strip())
        remote = self.remote_addr
        return ImmutableList([remote] if remote else [])

    @lazy_property
    def args(self) -> MultiDict[str]:
        """The query string fields.

        Raises:
            BadRequest: bad percent-encoding or bytes that are not UTF-8.
        """
        return parse_urlencoded(self.query_string, "query string")

    # -- routing ----------------------------------------------------------

    @property
    def url_rule(self) -> Rule | None:
        """The URL rule that matched this request, or None (before routing, or when nothing matched).

        Read from the active request context (where the app keeps it) when
        that context is this request's, so it costs nothing until read.
        """
        # NOTE: imported here: the wrappers do not depend on the contexts
        # module, and a request built outside an app has no context.
        from sluice.ctx import _cv_request

        ctx = _cv_request.get(None)
        if ctx is None or ctx.request is not self:
            return None
        rule: Rule | None = ctx.url_rule
        return rule

    @property
    def blueprints(self) -> list[str]:
        """The matched blueprint and its parents, innermost first: ``"a.b"`` gives ``["a.b", "a"]``."""
        name = self.blueprint
        if not name:
            return []
        parts = name.split(".")
        return [".".join(parts[:end]) for end in range(len(parts), 0, -1)]

    # -- headers ----------------------------------------------------------

    @lazy_property
    def headers(self) -> Headers:
        """The request headers, read-only (``headers.copy()`` gives a mutable one)."""
        return ImmutableHeaders.from_environ(self.environ)

    @lazy_property
    def content_type(self) -> str | None:
        """The raw ``Content-Type`` header, or None."""
        return self.environ.get("CONTENT_TYPE") or None

    @lazy_property
    def _parsed_content_type(self) -> tuple[str, dict[str, str]]:
        return parse_options_header(self.content_type)

    @property
    def mimetype(self) -> str:
        """The lowercased media type of ``Content-Type`` without parameters (``""`` if none)."""
        return self._parsed_content_type[0]

    @property
    def mimetype_params(self) -> dict[str, str]:
        """The parameters of ``Content-Type``, e.g. ``{"charset": "utf-8"}``."""
        return dict(self._parsed_content_type[1])

    @lazy_property
    def content_length(self) -> int | None:
        """The ``Content-Length`` as an int, or None when absent or malformed."""
        value = self.environ.get("CONTENT_LENGTH")
        if value and str(value).isdigit():
            return int(value)
        return None

    @lazy_property
    def cookies(self) -> MultiDict[str]:
        """The cookies sent in ``Cookie``, parsed tolerantly (RFC 6265 §5.4)."""
        return MultiDict(parse_cookie(self.environ.get("HTTP_COOKIE")))

    @lazy_property
    def accept_mimetypes(self) -> MIMEAccept:
        """The ``Accept`` header, ordered by quality; see :class:`MIMEAccept`."""
        return MIMEAccept(self.environ.get("HTTP_ACCEPT"))

    @lazy_property
    def accept_languages(self) -> LanguageAccept:
        """The ``Accept-Language`` header, ordered by quality; see :class:`LanguageAccept`."""
        return LanguageAccept(self.environ.get("HTTP_ACCEPT_LANGUAGE"))

    @lazy_property
    def accept_charsets(self) -> Accept:
        """The ``Accept-Charset`` header, ordered by quality (names compare case-insensitively)."""
        return Accept(self.environ.get("HTTP_ACCEPT_CHARSET"))

    @lazy_property
    def accept_encodings(self) -> Accept:
        """The ``Accept-Encoding`` header, ordered by quality (``gzip``, ``br``...)."""
        return Accept(self.environ.get("HTTP_ACCEPT_ENCODING"))

    @lazy_property
    def referrer(self) -> str | None:
        """The ``Referer`` header (the page that linked here), or None."""
        return self.environ.get("HTTP_REFERER") or None

    @lazy_property
    def origin(self) -> str | None:
        """The ``Origin`` header (the site that sent a CORS or form request), or None."""
        return self.environ.get("HTTP_ORIGIN") or None

    @lazy_property
    def user_agent(self) -> UserAgent:
        """The ``User-Agent`` header as a :class:`UserAgent` (``.string`` is ``""`` when absent)."""
        return UserAgent(str(self.environ.get("HTTP_USER_AGENT", "")))

    @lazy_property
    def authorization(self) -> Authorization | None:
        """The ``Authorization`` credentials (Basic, Bearer, other schemes), or None when absent or malformed."""
        return parse_authorization(self.environ.get("HTTP_AUTHORIZATION"))

    @lazy_property
    def if_none_match(self) -> ETags:
        """The ``If-None-Match`` entity-tags (an empty :class:`ETags` when absent or malformed)."""
        return parse_etags(self.environ.get("HTTP_IF_NONE_MATCH"))

    @lazy_property
    def if_modified_since(self) -> datetime | None:
        """The ``If-Modified-Since`` date, aware, or None when absent or not an HTTP-date."""
        return parse_date(self.environ.get("HTTP_IF_MODIFIED_SINCE"))

    @lazy_property
    def range(self) -> Range | None:
        """The ``Range`` header as a :class:`Range`, or None when absent or malformed."""
        return parse_range(self.environ.get("HTTP_RANGE"))

    @lazy_property
    def cache_control(self) -> RequestCacheControl:
        """The request's ``Cache-Control`` directives (an empty :class:`RequestCacheControl` when absent)."""
        return parse_cache_control(self.environ.get("HTTP_CACHE_CONTROL"))

    @property
    def prefers_json(self) -> bool:
        """True when the client rates JSON above HTML (``*/*`` alone prefers HTML)."""
        accept = self.environ.get("HTTP_ACCEPT")
        if not accept or accept == "*/*":
            return False
        return self.accept_mimetypes.best_match(["text/html", "application/json"]) == "application/json"

    @property
    def is_json(self) -> bool:
        """True when the body is JSON: ``application/json`` or ``application/*+json``."""
        mimetype = self.mimetype
        return mimetype == "application/json" or (mimetype.startswith("application/") and mimetype.endswith("+json"))

    # -- body -------------------------------------------------------------

    @lazy_property
    def stream(self) -> LimitedStream:
        """The body as a file-like object that stops at ``Content-Length``.

        Without a length, the body is read until the server reports its end
        when it sets ``wsgi.input_terminated`` (sluice's server does, for
        chunked bodies), else it is empty, as PEP 3333 requires. A body of
        unknown length is cut off at ``max_content_length`` + 1 bytes with a
        413.

        The length is checked before ``wsgi.input`` is touched: on sluice's
        server, a client that sent ``Expect: 100-continue`` gets the 413
        without a ``100 Continue`` and never sends the body.

        Raises:
            ContentTooLarge: the length exceeds ``max_content_length``.
        """
        length = self.content_length
        limit = self.max_content_length
        if limit is not None and length is not None and length > limit:
            raise ContentTooLarge(
                f"The request body is {length} bytes; the limit is {limit} (MAX_CONTENT_LENGTH). Send a smaller body."
            )
        stream = self.environ["wsgi.input"]
        if length is None and self.environ.get("wsgi.input_terminated"):
            return LimitedStream(stream, None, limit)
        return LimitedStream(stream, length or 0)

    def _read_capped(self, limit: int | None, what: str) -> bytes:
        """Read the whole body, or raise 413 having read at most ``limit + 1`` bytes of it."""
        if limit is None:
            return self.stream.read()
        length = self.content_length
        if length is not None and length > limit:
            # Known too large: refused before reading (no 100 Continue).
            raise ContentTooLarge(f"The {what} is {length} bytes; the limit is {limit}.")
        data = self.stream.read(limit + 1)
        if len(data) > limit:
            raise ContentTooLarge(f"The {what} exceeds {limit} bytes.")
        return data

    def get_data(self, cache: bool = True, as_text: bool = False) -> Any:
        """Read the body.

        After ``form`` parsed a form body, the body is gone and this returns
        an empty value.

        Args:
            cache: keep the bytes so later calls (and ``json``) see them.
            as_text: decode as UTF-8 (with replacement) and return str.

        Returns:
            The body as bytes, or str when ``as_text``.

        Raises:
            ContentTooLarge: the body exceeds ``max_content_length``.
        """
        data: bytes | None = self._cached_data
        if data is None:
            data = self._read_capped(self.max_content_length, "request body (MAX_CONTENT_LENGTH)")
            if cache:
                self._cached_data = data
        if as_text:
            return data.decode("utf-8", "replace")
        return data

    @property
    def data(self) -> bytes:
        """The body bytes, read and cached on first use."""
        data: bytes = self.get_data()
        return data

    def _load_form_data(self) -> tuple[MultiDict[str], MultiDict[FileStorage]]:
        loaded: tuple[MultiDict[str], MultiDict[FileStorage]] | None = self._form_data
        if loaded is not None:
            return loaded
        mimetype = self.mimetype
        if mimetype == "application/x-www-form-urlencoded":
            body = self._cached_data
            if body is None:
                body = self._read_capped(self.max_form_memory_size, "form body (MAX_FORM_MEMORY_SIZE)")
            loaded = (parse_urlencoded(body, "form body", self.max_form_parts), MultiDict())
        elif mimetype == "multipart/form-data":
            parser = MultipartParser(
                self._parsed_content_type[1].get("boundary", ""),
                self.max_form_memory_size,
                self.max_form_parts,
                self.max_file_memory_size,
            )
            loaded = parser.parse(self.stream.read)
        else:
            loaded = (MultiDict(), MultiDict())
        self._form_data = loaded
        return loaded

    @property
    def form(self) -> MultiDict[str]:
        """The fields of a urlencoded or multipart body (empty for other bodies).

        Raises:
            BadRequest: the body is malformed.
            ContentTooLarge: a form limit was exceeded.
        """
        return self._load_form_data()[0]

    @property
    def files(self) -> MultiDict[FileStorage]:
        """The uploaded files of a multipart body, by field name.

        Raises:
            BadRequest: the body is malformed.
            ContentTooLarge: a form limit was exceeded.
        """
        return self._load_form_data()[1]

    @lazy_property
    def values(self) -> MultiDict[str]:
        """The query string fields followed by the form fields.

        Raises:
            BadRequest: the query string or the body is malformed.
        """
        combined = self.args.copy()
        for key, value in self.form.items(multi=True):
            combined.add(key, value)
        return combined

    def get_json(self, force: bool = False, silent: bool = False) -> Any:
        """Parse the body as JSON.

        Args:
            force: parse whatever the ``Content-Type`` says.
            silent: return None instead of raising.

        Returns:
            The decoded JSON value, or None (``silent`` and a failure).

        Raises:
            UnsupportedMediaType: the body is not declared as JSON (415).
            BadRequest: the body is not valid JSON.
        """
        cached = self._cached_json
        if cached is not _MISSING:
            return cached
        if not (force or self.is_json):
            if silent:
                return None
            raise UnsupportedMediaType(
                f"Expected a JSON body ('Content-Type: application/json'), got {self.mimetype or 'no content type'!r}."
            )
        try:
            value = json.loads(self.get_data())
        except ValueError as exc:
            if silent:
                return None
            raise BadRequest(f"Failed to decode JSON object: {exc}") from None
        self._cached_json = value
        return value

    @property
    def json(self) -> Any:
        """The body parsed as JSON; see :meth:`get_json` for the errors."""
        return self.get_json()

    def close(self) -> None:
        """Close the streams of uploaded files (their temporary files are deleted)."""
        loaded: tuple[MultiDict[str], MultiDict[FileStorage]] | None = self._form_data
        if loaded is not None:
            for _, upload in loaded[1].items(multi=True):
                upload.close()
