"""The response writer: one exchange's ``start_response``, ``write``, framing and sends.

:class:`Exchange` decides the framing when the first body bytes are known
(the app's Content-Length, a computed length for a list body, chunked on
HTTP/1.1, else close-delimited) and sends through the worker's
:class:`Transport`, files with ``sendfile``.
"""

from __future__ import annotations

import logging
import os
import stat
import time
from collections.abc import Callable
from typing import IO
from typing import Protocol

from sluice.errors import LocalProtocolError
from sluice.server.input import EmptyInput
from sluice.server.input import InputStream
from sluice.server.input import SpooledInput
from sluice.server.protocol import Request
from sluice.server.protocol.writer import LAST_CHUNK
from sluice.server.protocol.writer import format_chunk
from sluice.server.protocol.writer import format_head
from sluice.server.wsgi import HAS_DATE
from sluice.server.wsgi import HAS_REQUEST_ID
from sluice.server.wsgi import HAS_SERVER
from sluice.server.wsgi import ExcInfo
from sluice.server.wsgi import FileWrapper
from sluice.server.wsgi import ServerInfo
from sluice.server.wsgi import check_response_head
from sluice.server.wsgi import check_start_response_call

error_log = logging.getLogger("sluice.error")

# Bodies up to this size sent as a list are joined and sent with the head.
JOIN_LIMIT = 65536


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
        # PERF: the second's check inline, not through date(): one call less per response.
        if int(time.time()) != self._second:
            self.date()
        line = self._stamps.get(server)
        if line is None:
            date = self._value
            line = f"Date: {date}\r\nServer: {server}\r\n" if server else f"Date: {date}\r\n"
            self._stamps[server] = line
        return line


clock = _Clock()


def total_length(items: list[bytes] | tuple[bytes, ...]) -> int:
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
        request_id: sent as ``X-Request-ID`` unless the app sets that
            header ('' for none).
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
        "request_id",
    )

    def __init__(
        self,
        request: Request,
        transport: Transport,
        info: ServerInfo,
        keep_alive: bool,
        body: InputStream | SpooledInput | EmptyInput | None = None,
        request_id: str = "",
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
        self.request_id = request_id

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
        if exc_info is not None or self.status is not None:
            # PERF: the rules only matter for a second call or exc_info.
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
        request_id = self.request_id
        if not flags:
            if request_id:
                # PERF: one string with the Date and Server lines (benchmarks/RESULTS.md "Request ids").
                lines.append(f"{clock.stamp(self.info.server_header)}X-Request-ID: {request_id}\r\n")
            else:
                lines.append(clock.stamp(self.info.server_header))
        else:
            if not flags & HAS_DATE:
                lines.append(f"Date: {clock.date()}\r\n")
            if not flags & HAS_SERVER and self.info.server_header:
                lines.append(f"Server: {self.info.server_header}\r\n")
            if not flags & HAS_REQUEST_ID and request_id:
                lines.append(f"X-Request-ID: {request_id}\r\n")
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
        if size > JOIN_LIMIT or (self._app_length is not None and self._app_length != size):
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
            if len(framed) > JOIN_LIMIT:
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
