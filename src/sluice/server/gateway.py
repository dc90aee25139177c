"""PEP 3333 gateway: a request event to ``environ``, the app's answer to bytes.

Design: :func:`handle_request` runs one WSGI call on a worker thread. It owns
the connection for the duration of the call: it reads the body on demand
through :class:`InputStream`, writes through the :class:`Transport` the
worker gives it, and decides the response framing when the first non-empty
body chunk is known (Content-Length from the app, computed for a buffered
body, chunked on HTTP/1.1, else close-delimited). The iterable's ``close()``
runs exactly once, whatever happened. The result says whether the
connection may carry another request.
"""

from __future__ import annotations

import logging
import os
import re
import stat
import sys
import time
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from types import TracebackType
from typing import IO
from typing import Any
from typing import Protocol
from urllib.parse import unquote

from sluice.errors import DeadlineExceeded
from sluice.errors import LocalProtocolError
from sluice.errors import RemoteProtocolError
from sluice.server.protocol import NEED_DATA
from sluice.server.protocol import Connection
from sluice.server.protocol import Data
from sluice.server.protocol import EndOfMessage
from sluice.server.protocol import Request
from sluice.server.protocol.writer import CONTINUE
from sluice.server.protocol.writer import LAST_CHUNK
from sluice.server.protocol.writer import format_chunk
from sluice.server.protocol.writer import format_error
from sluice.server.protocol.writer import format_head

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]
StartResponse = Callable[..., Callable[[bytes], None]]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

error_log = logging.getLogger("sluice.error")
access_log = logging.getLogger("sluice.access")

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
# Bodies up to this size sent as a list are joined and sent with the head.
_JOIN_LIMIT = 65536
# A body the app left unread is drained up to this size to keep the connection.
MAX_DRAIN = 1024 * 1024
_FILE_BLOCK = 65536


class Transport(Protocol):
    """What the gateway needs from the worker's connection."""

    def send(self, data: bytes, more: bool = False, hold: bool = False) -> None:
        """Send all of ``data`` (or queue what the socket does not take yet) or raise ``OSError``.

        ``more``: more bytes follow at once (the head before a ``sendfile``);
        a transport may use it to send both in one packet. ``hold``: the app
        holds ``data`` anyway (an item of a list body), so a transport that
        queues bytes for a slow client may keep it without a copy.
        """

    def sendfile(self, file: IO[bytes], offset: int, count: int) -> int:
        """Send ``count`` bytes of ``file`` from ``offset``; return bytes sent."""

    def recv(self) -> bytes:
        """Return received bytes (``b""`` on EOF) or raise ``OSError`` (timeout)."""

    #: The exchange being answered (set by :func:`handle_request`), so the
    #: worker can tell whether its head went out.
    exchange: Exchange | None


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
        }


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


class _Clock:
    """Caches the ``Date`` header value; it changes once a second."""

    __slots__ = ("_second", "_value", "_stamps")

    def __init__(self) -> None:
        self._second = -1
        self._value = ""
        self._stamps: dict[str, str] = {}

    def date(self) -> str:
        """Return the current ``Date`` value (RFC 9110 §5.6.7 IMF-fixdate)."""
        now = int(time.time())
        if now != self._second:
            self._value = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(now))
            self._second = now
            self._stamps.clear()
        return self._value

    def stamp(self, server: str) -> str:
        """Return the ``Date`` and ``Server`` header lines, ending in CRLF."""
        date = self.date()
        line = self._stamps.get(server)
        if line is None:
            line = f"Date: {date}\r\nServer: {server}\r\n" if server else f"Date: {date}\r\n"
            self._stamps[server] = line
        return line


clock = _Clock()


class InputStream:
    """``wsgi.input``: the request body, de-chunked, never read past its end.

    Reading pulls body bytes from the protocol connection, asking the
    transport for more when needed. ``Expect: 100-continue`` is answered on
    the first read, so a client is never asked for a body the app ignores.

    Args:
        conn: the protocol connection the request came from.
        transport: where to receive more bytes and send ``100 Continue``.
        expect_continue: send ``100 Continue`` before the first read.
        done: the whole body was already received.
        initial: body bytes received before the app was called.
    """

    __slots__ = ("_conn", "_transport", "_buf", "_done", "_expect", "bytes_read")

    def __init__(
        self,
        conn: Connection,
        transport: Transport,
        expect_continue: bool,
        done: bool,
        initial: bytes = b"",
    ) -> None:
        self._conn = conn
        self._transport = transport
        self._buf = bytearray(initial)
        self._done = done
        self._expect = expect_continue
        #: Body bytes handed to the app so far.
        self.bytes_read = 0

    @property
    def is_complete(self) -> bool:
        """The whole body was received from the client."""
        return self._done

    @property
    def continue_pending(self) -> bool:
        """The client waits for ``100 Continue`` that was never sent."""
        return self._expect

    def _fill(self) -> bool:
        """Receive the next piece of body; return False at the end."""
        if self._done:
            return False
        if self._expect:
            self._expect = False
            self._transport.send(CONTINUE)
        conn = self._conn
        while True:
            event = conn.next_event()
            if type(event) is Data:
                self._buf += event.data
                return True
            if type(event) is EndOfMessage:
                self._done = True
                return False
            if event is NEED_DATA:
                conn.receive_data(self._transport.recv())
                continue
            raise RemoteProtocolError(f"unexpected event while reading a body: {event!r}")

    def read(self, size: int | None = -1) -> bytes:
        """Read up to ``size`` bytes, or all of the rest when ``size`` is -1 or None."""
        buf = self._buf
        if size is None or size < 0:
            while self._fill():
                pass
            data = bytes(buf)
            buf.clear()
        else:
            while len(buf) < size and self._fill():
                pass
            data = bytes(buf[:size])
            del buf[:size]
        self.bytes_read += len(data)
        return data

    def readline(self, size: int | None = -1) -> bytes:
        """Read one line (up to and including ``\\n``), at most ``size`` bytes."""
        buf = self._buf
        limit = -1 if size is None else size
        while True:
            end = buf.find(b"\n")
            if end >= 0:
                n = end + 1
                break
            if 0 <= limit <= len(buf) or not self._fill():
                n = len(buf)
                break
        if 0 <= limit < n:
            n = limit
        data = bytes(buf[:n])
        del buf[:n]
        self.bytes_read += len(data)
        return data

    def readlines(self, hint: int = -1) -> list[bytes]:
        """Read lines until the end, or until about ``hint`` bytes were read."""
        lines: list[bytes] = []
        total = 0
        while True:
            line = self.readline()
            if not line:
                return lines
            lines.append(line)
            total += len(line)
            if 0 < hint <= total:
                return lines

    def __iter__(self) -> Iterator[bytes]:
        while True:
            line = self.readline()
            if not line:
                return
            yield line

    def drain(self, limit: int) -> bool:
        """Discard the unread body up to ``limit`` bytes; True if it ended."""
        self._buf.clear()
        seen = 0
        while seen <= limit:
            if not self._fill():
                return True
            seen += len(self._buf)
            self._buf.clear()
        return False


class SpooledInput:
    """``wsgi.input`` for a body the loop received whole into a temporary file.

    Args:
        file: the file, positioned anywhere; it is read from its start.
    """

    __slots__ = ("_file", "bytes_read")
    is_complete = True
    continue_pending = False

    def __init__(self, file: IO[bytes]) -> None:
        file.seek(0)
        self._file = file
        #: Body bytes handed to the app so far.
        self.bytes_read = 0

    def read(self, size: int | None = -1) -> bytes:
        """Read up to ``size`` bytes, or all of the rest when ``size`` is -1 or None."""
        data = self._file.read(-1 if size is None else size)
        self.bytes_read += len(data)
        return data

    def readline(self, size: int | None = -1) -> bytes:
        """Read one line (up to and including ``\\n``), at most ``size`` bytes."""
        data = self._file.readline(-1 if size is None else size)
        self.bytes_read += len(data)
        return data

    def readlines(self, hint: int = -1) -> list[bytes]:
        """Read lines until the end, or until about ``hint`` bytes were read."""
        lines = self._file.readlines(hint)
        self.bytes_read += sum(len(line) for line in lines)
        return lines

    def __iter__(self) -> Iterator[bytes]:
        while True:
            line = self.readline()
            if not line:
                return
            yield line

    def drain(self, limit: int) -> bool:
        """The body is complete: nothing to drain."""
        return True


class EmptyInput:
    """``wsgi.input`` for a request without a body; stateless, so shared."""

    __slots__ = ()
    is_complete = True
    continue_pending = False

    def read(self, size: int | None = -1) -> bytes:
        """Return ``b""``."""
        return b""

    def readline(self, size: int | None = -1) -> bytes:
        """Return ``b""``."""
        return b""

    def readlines(self, hint: int = -1) -> list[bytes]:
        """Return ``[]``."""
        return []

    def __iter__(self) -> Iterator[bytes]:
        return iter(())

    def drain(self, limit: int) -> bool:
        """Nothing to drain: return True."""
        return True


EMPTY_INPUT = EmptyInput()

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
        flags: :data:`HAS_DATE` and :data:`HAS_SERVER` if those were set.

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


def _total_length(items: list[bytes] | tuple[bytes, ...]) -> int:
    """The body length of a list of byte strings.

    Raises:
        LocalProtocolError: an item is not bytes (before anything is sent,
            so the client gets a 500, not a cut response).
    """
    total = 0
    for item in items:
        if type(item) is not bytes:
            if isinstance(item, (bytearray, memoryview)):
                total += len(memoryview(item).cast("B"))
                continue
            raise LocalProtocolError(f"the app gave {type(item).__name__}, not bytes, as body")
        total += len(item)
    return total


class ResponseError(Exception):
    """The app broke its response contract after the head was sent."""


class Exchange:
    """One request/response exchange: ``start_response``, ``write`` and framing.

    Args:
        request: the request being answered.
        transport: where bytes go.
        info: per-server values.
        keep_alive: the connection may stay open if the response allows it.
        body: the request's ``wsgi.input``; a response that goes out while
            its ``100 Continue`` is still pending closes the connection.
    """

    __slots__ = (
        "request",
        "transport",
        "info",
        "keep_alive",
        "body",
        "status",
        "headers",
        "headers_sent",
        "chunked",
        "content_length",
        "bytes_sent",
        "no_body",
        "_app_length",
        "_flags",
        "code",
        "known_length",
        "hold",
    )

    def __init__(
        self,
        request: Request,
        transport: Transport,
        info: ServerInfo,
        keep_alive: bool,
        body: InputStream | SpooledInput | EmptyInput | None = None,
    ) -> None:
        self.request = request
        self.transport = transport
        self.info = info
        self.keep_alive = keep_alive
        self.body = body
        self.status: str | None = None
        #: The status code of ``status`` (0 until start_response is called).
        self.code = 0
        self.headers: list[tuple[str, str]] = []
        self.headers_sent = False
        self.chunked = False
        self.content_length: int | None = None
        self.bytes_sent = 0
        self.no_body = False
        self._app_length: int | None = None
        self._flags = 0
        #: The whole body's length when the server knows it before sending
        #: (a list of byte strings): it frames the body instead of chunking.
        self.known_length: int | None = None
        #: The body's chunks are the app's own list items (see Transport.send).
        self.hold = False

    def start_response(
        self,
        status: str,
        headers: list[tuple[str, str]],
        exc_info: ExcInfo | None = None,
    ) -> Callable[[bytes], None]:
        """PEP 3333 ``start_response``: check and store the status and headers.

        Raises:
            LocalProtocolError: the status or a header is invalid, a header is
                hop-by-hop, or it was called twice without ``exc_info``.
        """
        check_start_response_call(self.headers_sent, self.status is not None, exc_info)
        exc_info = None  # PEP 3333: drop the traceback to avoid a reference cycle.
        length, flags = check_response_head(status, headers)
        self.status = status
        self.code = int(status[:3])
        self.headers = headers
        self._app_length = length
        self._flags = flags
        return self.write

    def write(self, data: bytes) -> None:
        """PEP 3333 ``write()``: send body bytes before the iterable's."""
        if self.status is None:
            raise LocalProtocolError("write() called before start_response()")
        self.send_body(data)

    def _head(self, body_length: int | None) -> bytes:
        """Decide the framing and return the response head.

        Args:
            body_length: the whole body's length when it is known, else None.
        """
        status = self.status
        assert status is not None
        request = self.request
        version = request.http_version
        lines: list[str] = []  # the server's header lines, after the app's
        if status[0] == "1" or status[:3] in ("204", "304") or request.method == "HEAD":
            # RFC 9110 §6.4.1: no content; any body bytes are dropped.
            self.no_body = True
            if request.method == "HEAD" and self._app_length is None and body_length:
                # RFC 9110 §9.3.2: HEAD may announce the length GET would send.
                lines.append(f"Content-Length: {body_length}\r\n")
        elif self._app_length is not None:
            self.content_length = self._app_length
        elif body_length is not None:
            self.content_length = body_length
            lines.append(f"Content-Length: {body_length}\r\n")
        elif version == "1.1":
            self.chunked = True
            lines.append("Transfer-Encoding: chunked\r\n")
        else:
            self.keep_alive = False
        if request.expect_continue and self.body is not None and self.body.continue_pending:
            # The client still holds its body back and may send it anyway:
            # handle_request closes the connection, and RFC 9110 §10.1.1
            # asks a final answer sent before the body to say so.
            self.keep_alive = False
        flags = self._flags
        if not flags:
            lines.append(clock.stamp(self.info.server_header))
        else:
            if not flags & HAS_DATE:
                lines.append(f"Date: {clock.date()}\r\n")
            if not flags & HAS_SERVER and self.info.server_header:
                lines.append(f"Server: {self.info.server_header}\r\n")
        if not self.keep_alive:
            lines.append("Connection: close\r\n")
        elif version == "1.0":
            lines.append("Connection: keep-alive\r\n")
        self.headers_sent = True
        return format_head(status, self.headers, "".join(lines))

    def send_whole(self, body: bytes) -> bool:
        """Send the head and a body known to be complete in one write.

        Returns:
            False, having sent nothing, if the general path must be taken
            (a large body, or one whose length contradicts the app's
            Content-Length, which the general path reports).
        """
        size = len(body)
        if size > _JOIN_LIMIT or (self._app_length is not None and self._app_length != size):
            return False
        head = self._head(size)
        if self.no_body:
            self.transport.send(head)
            return True
        self.bytes_sent = size
        self.transport.send(head + body)
        return True

    def send_body(self, data: bytes) -> None:
        """Send a body chunk, with the head first if it was not sent yet.

        Args:
            data: body bytes; an empty chunk sends nothing (PEP 3333: the
                head waits for the first non-empty chunk).
        """
        if type(data) is not bytes:
            if isinstance(data, (bytearray, memoryview)):
                data = bytes(data)
            else:
                raise LocalProtocolError(f"the app gave {type(data).__name__}, not bytes, as body")
        if not data:
            return
        if not self.headers_sent:
            head = self._head(self.known_length)
            framed = self._frame(data)
            if len(framed) > _JOIN_LIMIT:
                # Memory: a large first chunk is not copied to join its head.
                self.transport.send(head, more=True)
                self.transport.send(framed, hold=self.hold)
            else:
                self.transport.send(head + framed)
            return
        self.transport.send(self._frame(data), hold=self.hold)

    def _frame(self, data: bytes) -> bytes:
        if self.no_body:
            return b""
        if self.content_length is not None:
            room = self.content_length - self.bytes_sent
            if len(data) > room:
                self.keep_alive = False
                self.bytes_sent += len(data)
                if room < 0:
                    return b""  # reported at the first chunk past the length
                error_log.error(
                    "%s %s: the app sent more body bytes than its Content-Length %d; "
                    "the extra bytes were dropped and the connection closed",
                    self.request.method,
                    self.request.target,
                    self.content_length,
                )
                return data[:room] if room > 0 else b""
            self.bytes_sent += len(data)
            return data
        self.bytes_sent += len(data)
        if self.chunked:
            return format_chunk(data)
        return data

    def finish(self) -> None:
        """End the response: head if unsent, last chunk, length check."""
        if not self.headers_sent:
            self.transport.send(self._head(0))
        if self.chunked:
            self.transport.send(LAST_CHUNK)
        elif (
            self.content_length is not None
            and not self.no_body
            and self.bytes_sent < self.content_length
        ):
            self.keep_alive = False
            error_log.error(
                "%s %s: the app sent %d body bytes but its Content-Length is %d; "
                "the connection was closed",
                self.request.method,
                self.request.target,
                self.bytes_sent,
                self.content_length,
            )
            raise ResponseError("response shorter than its Content-Length")

    def send_file(self, wrapper: FileWrapper) -> bool:
        """Send a ``wsgi.file_wrapper`` body with ``sendfile`` if possible.

        Returns:
            True if sent zero-copy; False if the caller must iterate instead.
        """
        file = wrapper.filelike
        parts_of = getattr(file, "sendfile_parts", None)
        if parts_of is not None:
            offered = parts_of()
            return offered is not None and self._send_parts(*offered)
        try:
            fd = file.fileno()
            offset = file.tell()
            st = os.fstat(fd)
        except (AttributeError, OSError, ValueError):
            return False
        if not stat.S_ISREG(st.st_mode):
            return False
        size = st.st_size
        remaining = max(size - offset, 0)
        if self._app_length is not None:
            count = min(self._app_length, remaining)
        else:
            count = remaining
        head = self._head(count)  # decides no_body (HEAD, 304...)
        if self.no_body or count == 0:
            self.transport.send(head)
            return True
        self.transport.send(head, more=True)
        sent = self.transport.sendfile(file, offset, count)
        self.bytes_sent += sent
        file.seek(offset + sent)
        return True

    def _send_parts(self, file: IO[bytes], parts: list[bytes | tuple[int, int]]) -> bool:
        """Send a body of byte strings and ``(offset, count)`` ranges of ``file``, ranges with ``sendfile``.

        A filelike offers this with ``sendfile_parts()``, which returns
        ``(file, parts)`` for a regular file and None otherwise (sluice's file
        responses: one range, or ``multipart/byteranges``).

        Returns:
            True if sent; False (nothing sent) if the caller must iterate:
            a length other than the app's.
        """
        total = sum(len(part) if isinstance(part, bytes) else part[1] for part in parts)
        if self._app_length is not None and self._app_length != total:
            return False
        head = self._head(total)  # decides no_body (HEAD, 304...)
        if self.no_body:
            self.transport.send(head)
            return True
        self.transport.send(head, more=True)
        for part in parts:
            if isinstance(part, bytes):
                self.transport.send(part)
                self.bytes_sent += len(part)
                continue
            sent = self.transport.sendfile(file, part[0], part[1])
            self.bytes_sent += sent
            if sent < part[1]:
                break  # the file shrank; finish() reports the short body
        return True


class Outcome:
    """What happened to one exchange, for the worker and the access log.

    Attributes:
        keep_alive: the connection may carry another request.
        status: the status code sent (0 if none was sent).
        bytes_sent: body bytes sent.
        body_complete: the whole request body was received.
    """

    __slots__ = ("keep_alive", "status", "bytes_sent", "body_complete")

    def __init__(self, keep_alive: bool, status: int, bytes_sent: int, body_complete: bool = True) -> None:
        self.keep_alive = keep_alive
        self.status = status
        self.bytes_sent = bytes_sent
        self.body_complete = body_complete


def handle_request(
    app: WSGIApp,
    conn: Connection,
    request: Request,
    transport: Transport,
    info: ServerInfo,
    server_addr: tuple[str, int] | None,
    client_addr: tuple[str, int] | None,
    keep_alive: bool,
    body_done: bool,
    initial_body: bytes = b"",
    body_file: IO[bytes] | None = None,
) -> Outcome:
    """Run the WSGI app for ``request`` and send its response.

    Args:
        app: the WSGI application.
        conn: the protocol connection (for the body).
        request: the request head.
        transport: the socket side.
        info: per-server values.
        server_addr: local address, ``None`` for unix sockets.
        client_addr: peer address, ``None`` for unix sockets.
        keep_alive: the server allows the connection to persist.
        body_done: the whole body was already received.
        initial_body: body bytes the loop received before the call.
        body_file: the whole body, received by the loop into a temporary
            file (then ``body_done`` is true and ``initial_body`` empty).

    Returns:
        The :class:`Outcome`.

    Raises:
        OSError: the client went away or a send timed out (the connection
            must be closed; ``close()`` of the iterable was already called).
        DeadlineExceeded: the worker gave up on the request (likewise).
    """
    stream: InputStream | SpooledInput | EmptyInput
    if body_file is not None:
        stream = SpooledInput(body_file)
    elif request.chunked or request.content_length:
        stream = InputStream(conn, transport, request.expect_continue, body_done, initial_body)
    else:
        stream = EMPTY_INPUT
    environ = make_environ(request, stream, info, server_addr, client_addr)
    exchange = Exchange(request, transport, info, keep_alive and request.keep_alive, stream)
    transport.exchange = exchange
    result: Iterable[bytes] | None = None
    try:
        result = app(environ, exchange.start_response)
        if exchange.status is None and type(result) in (list, tuple):
            raise LocalProtocolError("the app returned without calling start_response()")
        result_iter: Iterable[bytes] = result
        if (
            (type(result) is list or type(result) is tuple)
            and exchange.status is not None
            and not exchange.headers_sent
        ):
            # PERF: a buffered body goes out with its head in one write, its
            # length known (benchmarks/bench_hotpath.py). A large one is
            # never joined (copied) to its head: its known length frames it
            # and each item is sent as it is.
            total = None
            if len(result) == 1:
                body = result[0]
            else:
                total = _total_length(result)  # raises for an item that is not bytes
                body = b"".join(result) if len(result) <= 16 and total <= _JOIN_LIMIT else None
            if type(body) is not bytes or not exchange.send_whole(body):
                exchange.known_length = total if total is not None else _total_length(result)
                exchange.hold = True
            else:
                if stream.is_complete:
                    return Outcome(exchange.keep_alive, exchange.code, exchange.bytes_sent, True)
                result_iter = ()  # sent; the body left unread is dealt with below
        elif isinstance(result, FileWrapper) and exchange.status is not None:
            if exchange.send_file(result):
                result_iter = ()
        for chunk in result_iter:
            if exchange.status is None:
                raise LocalProtocolError("the app yielded body bytes before calling start_response()")
            exchange.send_body(chunk)
        if exchange.status is None:
            raise LocalProtocolError("the app returned without calling start_response()")
        exchange.finish()
    except (OSError, DeadlineExceeded):
        _close(result, request)
        raise
    except ResponseError:
        _close(result, request)
        return Outcome(False, _code(exchange), exchange.bytes_sent, stream.is_complete)
    except RemoteProtocolError as exc:
        # The body the app was reading was malformed: answer if we still can.
        _close(result, request)
        error_log.info("%s %s: bad request body: %s", request.method, request.target, exc)
        if not exchange.headers_sent:
            _send_error(transport, exc.status_hint, str(exc))
            return Outcome(False, exc.status_hint, 0, False)
        return Outcome(False, _code(exchange), exchange.bytes_sent, stream.is_complete)
    except Exception:
        _close(result, request)
        error_log.exception("error while handling %s %s", request.method, request.target)
        if not exchange.headers_sent:
            _send_error(transport, 500, "")
            return Outcome(False, 500, 0, stream.is_complete)
        return Outcome(False, _code(exchange), exchange.bytes_sent, stream.is_complete)
    _close(result, request)
    keep = exchange.keep_alive
    if keep and not stream.is_complete:
        if stream.continue_pending:
            # The client still holds the body back; it may send it later.
            keep = False
        else:
            try:
                keep = stream.drain(MAX_DRAIN)
            except RemoteProtocolError:
                keep = False
    return Outcome(keep, _code(exchange), exchange.bytes_sent, stream.is_complete)


def _code(exchange: Exchange) -> int:
    """The status code that went out, 0 if no head was sent."""
    return exchange.code if exchange.headers_sent else 0


def _send_error(transport: Transport, code: int, message: str) -> None:
    try:
        transport.send(format_error(code, message, clock.date()))
    except OSError:
        pass


def _close(result: object, request: Request) -> None:
    if type(result) is list:
        return
    close = getattr(result, "close", None)
    if close is None:
        return
    try:
        close()
    except Exception:
        error_log.exception("error in close() of the response to %s %s", request.method, request.target)
