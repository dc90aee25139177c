"""The WSGI contract (PEP 3333) as the server keeps it: environ, start_response's checks, file_wrapper.

Shared by the HTTP gateway (:mod:`sluice.server.gateway`) and the CGI runner
(:mod:`sluice.server.cgi`), so both hold an app to the same rules.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from types import TracebackType
from typing import IO
from typing import TYPE_CHECKING
from typing import Any
from urllib.parse import unquote

from sluice.errors import LocalProtocolError
from sluice.server.protocol import Request

if TYPE_CHECKING:
    from sluice.server.input import EmptyInput
    from sluice.server.input import InputStream
    from sluice.server.input import SpooledInput

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]
StartResponse = Callable[..., Callable[[bytes], None]]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

# PEP 3333: status and header values are latin-1 strings without CR, LF, NUL.
_STATUS = re.compile(r"[1-9][0-9]{2} [\t\x20-\x7e\x80-\xff]*")
_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_HEADER_VALUE = re.compile(r"[\t\x20-\x7e\x80-\xff]*")
# RFC 9110 §7.6.1: hop-by-hop fields belong to the server, not the app (PEP 3333).
_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
    }
)


class ServerInfo:
    """Per-server values copied into every ``environ``.

    Args:
        script_name: the ``SCRIPT_NAME`` prefix the app is mounted at.
        multiprocess: the value of ``wsgi.multiprocess``.
        server_header: the ``Server`` header value, or '' to send none.
        url_scheme: ``wsgi.url_scheme``.
        errors: the stream for ``wsgi.errors``.
    """

    __slots__ = ("script_name", "multiprocess", "server_header", "url_scheme", "errors", "environ_template")

    def __init__(
        self,
        script_name: str = "",
        multiprocess: bool = False,
        server_header: str = "sluice",
        url_scheme: str = "http",
        errors: IO[str] | None = None,
    ) -> None:
        self.script_name = script_name.rstrip("/")
        self.multiprocess = multiprocess
        self.server_header = server_header
        self.url_scheme = url_scheme
        self.errors = errors if errors is not None else sys.stderr
        #: The environ keys that are the same for every request.
        self.environ_template: dict[str, Any] = {
            "SCRIPT_NAME": self.script_name,
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": url_scheme,
            "wsgi.errors": self.errors,
            "wsgi.multithread": True,
            "wsgi.multiprocess": multiprocess,
            "wsgi.run_once": False,
            "wsgi.file_wrapper": FileWrapper,
            "wsgi.input_terminated": True,
            # The keys every request sets, so that a copy has their room.
            "REQUEST_METHOD": "",
            "PATH_INFO": "",
            "QUERY_STRING": "",
            "RAW_URI": "",
            "REQUEST_URI": "",
            "SERVER_PROTOCOL": "",
            "wsgi.input": None,
            "REMOTE_ADDR": "",
            "SERVER_NAME": "",
            "SERVER_PORT": "",
            "sluice.request_id": "",
        }
        # PERF: ``dict.copy()`` keeps the table size of a dict with few
        # deletions. Grown past 21 keys once, the template's copies hold a
        # request's header keys without growing (a resize, rehashing every
        # key, per request otherwise; benchmarks/RESULTS.md "Request ids").
        template = self.environ_template
        for pad in range(22 - len(template)):
            template[f"sluice.pad{pad}"] = None
        for key in [key for key in template if key.startswith("sluice.pad")]:
            del template[key]


class FileWrapper:
    """``wsgi.file_wrapper``: lets the server send a file with ``sendfile``.

    Args:
        filelike: an object with ``read``; ``close`` is called when done.
        block_size: the size of blocks when the file is iterated.
    """

    def __init__(self, filelike: IO[bytes], block_size: int = 8192) -> None:
        self.filelike = filelike
        self.block_size = block_size
        if hasattr(filelike, "close"):
            self.close = filelike.close

    def __iter__(self) -> Iterator[bytes]:
        read = self.filelike.read
        while True:
            data = read(self.block_size)
            if not data:
                return
            yield data

# Header name -> environ key; '' means "not passed to the app". Content-Length
# comes from the parsed request (PEP 3333 CONTENT_LENGTH), never from here.
_environ_keys: dict[str, str] = {"content-type": "CONTENT_TYPE", "content-length": ""}


def _environ_key(name: str) -> str:
    if "_" in name:
        # A header name with "_" would collide with one with "-"; it is
        # dropped rather than passed on (a known header-spoofing vector).
        key = ""
    else:
        key = "HTTP_" + name.upper().replace("-", "_")
    if len(_environ_keys) < 2048:
        _environ_keys[name] = key
    return key


def path_info(request: Request, script_name: str) -> str:
    """The request's ``PATH_INFO``: its path percent-decoded (as latin-1), without ``script_name``."""
    path = request.path
    if "%" in path:
        path = unquote(path, encoding="latin-1")
    if script_name and (path == script_name or path.startswith(script_name + "/")):
        path = path[len(script_name) :]
    return path


def make_environ(
    request: Request,
    stream: InputStream | SpooledInput | EmptyInput,
    info: ServerInfo,
    server_addr: tuple[str, int] | None,
    client_addr: tuple[str, int] | None,
) -> dict[str, Any]:
    """Build the PEP 3333 ``environ`` for a request.

    Args:
        request: the parsed request head.
        stream: the body stream for ``wsgi.input``.
        info: per-server values.
        server_addr: the local ``(host, port)``, ``None`` for a unix socket.
        client_addr: the peer ``(host, port)``, ``None`` for a unix socket.

    Returns:
        The environ dict.
    """
    path = request.path
    if "%" in path or info.script_name:
        path = path_info(request, info.script_name)
    # PERF: the per-server keys are copied from a template in one step.
    environ = info.environ_template.copy()
    environ["REQUEST_METHOD"] = request.method
    environ["PATH_INFO"] = path
    environ["QUERY_STRING"] = request.query
    environ["RAW_URI"] = environ["REQUEST_URI"] = request.target
    environ["SERVER_PROTOCOL"] = "HTTP/1.1" if request.http_version == "1.1" else "HTTP/1.0"
    environ["wsgi.input"] = stream
    if client_addr is not None:
        environ["REMOTE_ADDR"] = client_addr[0]
        environ["REMOTE_PORT"] = str(client_addr[1])
    else:
        environ["REMOTE_ADDR"] = ""
    keys = _environ_keys
    for name, value in request.headers:
        key = keys.get(name)
        if key is None:
            key = _environ_key(name)
        if not key:
            continue
        if key in environ:
            sep = "; " if name == "cookie" else ", "
            environ[key] = environ[key] + sep + value
        else:
            environ[key] = value
    if request.content_length is not None:
        environ["CONTENT_LENGTH"] = str(request.content_length)
    host = request.host
    if host:
        environ["HTTP_HOST"] = host
        if host[0] == "[":
            name, _, port = host[1:].partition("]")
            port = port[1:]
        else:
            name, _, port = host.partition(":")
        environ["SERVER_NAME"] = name
        environ["SERVER_PORT"] = port or ("443" if info.url_scheme == "https" else "80")
    elif server_addr is not None:
        environ["SERVER_NAME"] = server_addr[0]
        environ["SERVER_PORT"] = str(server_addr[1])
    else:
        environ["SERVER_NAME"] = "localhost"
        environ["SERVER_PORT"] = ""
    return environ


# PERF: apps send the same few header items on every response; a validated
# item is remembered (bounded, so unique values like cookies cannot grow it)
# and costs one dict lookup next time (benchmarks/bench_hotpath.py).
_checked_items: dict[tuple[str, str], str] = {}
_checked_statuses: set[str] = set()
_CACHE_LIMIT = 4096
HAS_DATE = 1
HAS_SERVER = 2
HAS_REQUEST_ID = 4


def check_start_response_call(headers_sent: bool, called_before: bool, exc_info: ExcInfo | None) -> None:
    """Apply PEP 3333's rules for a ``start_response`` call before its arguments are checked.

    Args:
        headers_sent: the response head already went out.
        called_before: ``start_response`` was called before for this response.
        exc_info: the call's ``exc_info`` argument.

    Raises:
        BaseException: ``exc_info``'s exception, re-raised when the head was
            already sent (nothing can replace it then).
        LocalProtocolError: a second call without ``exc_info``.
    """
    if exc_info is not None:
        try:
            if headers_sent:
                raise exc_info[1].with_traceback(exc_info[2])
        finally:
            exc_info = None
    elif called_before:
        raise LocalProtocolError("start_response() called a second time without exc_info")


def check_response_head(status: str, headers: list[tuple[str, str]]) -> tuple[int | None, int]:
    """Check an app's status and headers as PEP 3333 and RFC 9110 require.

    Args:
        status: e.g. ``"200 OK"``: three digits, a space, a reason phrase.
        headers: a list of ``(name, value)`` tuples of latin-1 strings.

    Returns:
        The app's ``Content-Length`` as an int (``None`` if it set none) and
        flags: :data:`HAS_DATE`, :data:`HAS_SERVER` and :data:`HAS_REQUEST_ID`
        if those were set.

    Raises:
        LocalProtocolError: a malformed status, header name or value (CR, LF,
            NUL, characters beyond latin-1), a hop-by-hop header, or a
            malformed ``Content-Length``.
    """
    if status not in _checked_statuses:
        if type(status) is not str or _STATUS.fullmatch(status) is None:
            raise LocalProtocolError(f"invalid status {status!r}; expected e.g. '200 OK'")
        if len(_checked_statuses) < _CACHE_LIMIT:
            _checked_statuses.add(status)
    if type(headers) is not list:
        raise LocalProtocolError(f"response headers must be a list, not {type(headers).__name__}")
    length = None
    flags = 0
    checked = _checked_items
    for item in headers:
        try:
            lower = checked.get(item) if type(item) is tuple else None
        except TypeError:  # an unhashable value; _check_header says what is wrong
            lower = None
        if lower is None:
            lower = _check_header(item)
            if len(checked) < _CACHE_LIMIT:
                checked[item] = lower
        if lower == "content-length":
            length = int(item[1])
        elif lower == "date":
            flags |= HAS_DATE
        elif lower == "server":
            flags |= HAS_SERVER
        elif lower == "x-request-id":
            flags |= HAS_REQUEST_ID
    return length, flags


def _check_header(item: object) -> str:
    """Check one response header item; return its lower-cased name."""
    if type(item) is not tuple or len(item) != 2:
        raise LocalProtocolError(f"response header {item!r} is not a (name, value) tuple")
    name, value = item
    if type(name) is not str or _HEADER_NAME.fullmatch(name) is None:
        raise LocalProtocolError(f"invalid response header name {name!r}")
    if type(value) is not str or _HEADER_VALUE.fullmatch(value) is None:
        raise LocalProtocolError(
            f"invalid value for response header {name!r}: {value!r} "
            "(latin-1 text without control characters; encode other text, e.g. per RFC 8187)"
        )
    lower = name.lower()
    if lower in _HOP_BY_HOP:
        raise LocalProtocolError(f"hop-by-hop header {name!r} is set by the server, not the app")
    if lower == "content-length" and not (value.isascii() and value.isdigit()):
        raise LocalProtocolError(f"invalid Content-Length {value!r}")
    return lower
