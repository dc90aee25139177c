"""CGI gateway: run a WSGI app once for the request a web server started us for.

Design: :func:`run` is PEP 3333's "Serving Apps via CGI" example made strict.
The request is the process environment (RFC 3875 §4.1 meta-variables) plus
exactly ``CONTENT_LENGTH`` bytes of stdin; the response is a CGI document on
stdout (RFC 3875 §6): a ``Status`` line, the app's headers, a blank line and
the body. The web server does the HTTP framing, so nothing is added to the
app's headers (no ``Content-Length``, ``Date`` or ``Server``). The head goes out with the first non-empty
body chunk, so an error before then still becomes a clean ``500``; after it,
the traceback goes to stderr (the web server's error log) and the exit status
says the response is broken. The iterable's ``close()`` runs exactly once.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable
from collections.abc import Mapping
from typing import IO
from typing import Any
from typing import TextIO

from sluice.errors import LocalProtocolError
from sluice.server.input import LineReader
from sluice.server.wsgi import ExcInfo
from sluice.server.wsgi import FileWrapper
from sluice.server.wsgi import WSGIApp
from sluice.server.wsgi import check_response_head
from sluice.server.wsgi import check_start_response_call

__all__ = ["run"]

# Meta-variables that carry request bytes (RFC 3875 §4.1). The others name
# server-side things (DOCUMENT_ROOT, SCRIPT_FILENAME…) and stay native
# strings, usable with the os module as they are [wsgiref `_needs_transcode`].
_REQUEST_VARIABLES = frozenset(
    {
        "AUTH_TYPE",
        "CONTENT_LENGTH",
        "CONTENT_TYPE",
        "HTTPS",
        "PATH_INFO",
        "QUERY_STRING",
        "REMOTE_IDENT",
        "REMOTE_USER",
        "REQUEST_METHOD",
        "REQUEST_URI",
        "SCRIPT_NAME",
    }
)
# PEP 3333 requires these; RFC 3875 §4.1 has the web server set them.
_REQUIRED_VARIABLES = ("REQUEST_METHOD", "SERVER_NAME", "SERVER_PORT", "SERVER_PROTOCOL")
_INTERNAL_ERROR = (
    b"Status: 500 Internal Server Error\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"Content-Length: 22\r\n"
    b"\r\n"
    b"Internal Server Error\n"
)


def run(
    app: WSGIApp,
    environ: Mapping[str, str] | None = None,
    stdin: IO[bytes] | None = None,
    stdout: IO[bytes] | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Run ``app`` for the one request of a CGI invocation and write its response.

    Use it as the whole body of a CGI script::

        sys.exit(run(app))

    Args:
        app: the WSGI application.
        environ: the CGI meta-variables, decoded as :data:`os.environ` decodes
            them (the file system encoding with ``surrogateescape``);
            defaults to :data:`os.environ`.
        stdin: where the request body is read from; defaults to
            ``sys.stdin.buffer``. At most ``CONTENT_LENGTH`` bytes are read,
            so the rest is left for whoever reads next.
        stdout: where the CGI response is written; defaults to
            ``sys.stdout.buffer``.
        stderr: ``wsgi.errors`` and the error log; defaults to ``sys.stderr``.

    Returns:
        The exit status: 0 if the response was sent whole, 1 if the app
        failed or broke the WSGI contract (the reason is on ``stderr``).

    Raises:
        BaseException: what the app raised that is not an ``Exception``
            (``KeyboardInterrupt``, ``SystemExit``), after the iterable's
            ``close()`` ran.
    """
    cgi_environ = os.environ if environ is None else environ
    body_in = sys.stdin.buffer if stdin is None else stdin
    out = sys.stdout.buffer if stdout is None else stdout
    errors = sys.stderr if stderr is None else stderr
    response = _Response(out, cgi_environ.get("REQUEST_METHOD", ""))
    try:
        wsgi_environ = _make_environ(cgi_environ, body_in, errors)
        result = app(wsgi_environ, response.start_response)
        try:
            for chunk in result:
                response.send_body(chunk)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        response.finish()
    except Exception as exc:
        _log_error(errors, cgi_environ, exc, response.headers_sent)
        if not response.headers_sent:
            try:
                out.write(_INTERNAL_ERROR)
                out.flush()
            except OSError:
                pass
        return 1
    return 0


def _to_wsgi_str(value: str, encoding: str) -> str:
    """Undo the environment's decoding: the original bytes as latin-1 text (PEP 3333)."""
    return value.encode(encoding, "surrogateescape").decode("latin-1")


def _carries_request_bytes(name: str) -> bool:
    if name.startswith("REDIRECT_"):
        # Apache renames the variables of the original request on an
        # internal redirect (ErrorDocument, mod_rewrite).
        name = name[9:]
    return name in _REQUEST_VARIABLES or name.startswith(("HTTP_", "SSL_"))


def _make_environ(cgi_environ: Mapping[str, str], stdin: IO[bytes], stderr: TextIO) -> dict[str, Any]:
    """Build the PEP 3333 ``environ`` from the CGI meta-variables.

    Raises:
        LocalProtocolError: a meta-variable PEP 3333 requires is missing.
    """
    # NOTE: os.environ decodes with the file system encoding; on POSIX that
    # and surrogateescape give back the exact bytes the web server set. On
    # Windows the environment is Unicode already and this encodes it as UTF-8,
    # which is what IIS decoded it from.
    encoding = sys.getfilesystemencoding()
    environ: dict[str, Any] = {}
    for name, value in cgi_environ.items():
        environ[name] = _to_wsgi_str(value, encoding) if _carries_request_bytes(name) else value
    missing = [name for name in _REQUIRED_VARIABLES if name not in environ]
    if missing:
        raise LocalProtocolError(
            f"CGI meta-variables {', '.join(missing)} are not set; "
            "run() must be called from a CGI script that a web server started"
        )
    # RFC 3875 §4.1.18 lets a server also pass these headers as HTTP_*;
    # PEP 3333 forbids them, and CONTENT_LENGTH is the one that frames the body.
    environ.pop("HTTP_CONTENT_LENGTH", None)
    environ.pop("HTTP_CONTENT_TYPE", None)
    raw_length = environ.get("CONTENT_LENGTH", "")
    if raw_length.isascii() and raw_length.isdigit():
        length = int(raw_length)
        environ["CONTENT_LENGTH"] = str(length)
    else:
        # RFC 3875 §4.1.2: no (valid) CONTENT_LENGTH means no body.
        length = 0
        environ.pop("CONTENT_LENGTH", None)
    environ.setdefault("SCRIPT_NAME", "")
    environ.setdefault("PATH_INFO", "")
    environ.setdefault("QUERY_STRING", "")
    https = environ.get("HTTPS", "").lower() in ("on", "1", "yes")
    environ.update(
        {
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "https" if https else "http",
            "wsgi.input": _LimitedInput(stdin, length),
            "wsgi.errors": stderr,
            "wsgi.multithread": False,
            "wsgi.multiprocess": True,
            "wsgi.run_once": True,
            "wsgi.file_wrapper": FileWrapper,
            "wsgi.input_terminated": True,
        }
    )
    return environ


class _LimitedInput(LineReader):
    """``wsgi.input``: the first ``length`` bytes of ``stream``, never more.

    Args:
        stream: the binary stream the body comes from.
        length: the body size (``CONTENT_LENGTH``).
    """

    __slots__ = ("_stream", "_remaining")

    def __init__(self, stream: IO[bytes], length: int) -> None:
        self._stream = stream
        self._remaining = length

    def _took(self, data: bytes, asked: int) -> bytes:
        if data:
            self._remaining -= len(data)
        elif asked:
            # The web server closed stdin early: the body is cut short.
            self._remaining = 0
        return data

    def read(self, size: int | None = -1) -> bytes:
        """Read up to ``size`` bytes, or all of the rest when ``size`` is -1 or None."""
        if size is not None and 0 <= size < self._remaining:
            return self._took(self._stream.read(size), size)
        chunks = []
        while self._remaining:
            # A raw stream may return less than asked without being at its end.
            data = self._took(self._stream.read(self._remaining), self._remaining)
            if not data:
                break
            chunks.append(data)
        return b"".join(chunks)

    def readline(self, size: int | None = -1) -> bytes:
        """Read one line (up to and including ``\\n``), at most ``size`` bytes."""
        limit = self._remaining
        if size is not None and 0 <= size < limit:
            limit = size
        if limit == 0:
            return b""
        return self._took(self._stream.readline(limit), limit)



def _format_head(status: str, headers: list[tuple[str, str]]) -> tuple[bytes, int | None]:
    """Check the app's status and headers and render the CGI response head.

    Returns:
        The head bytes and the app's ``Content-Length`` (``None`` if unset).

    Raises:
        LocalProtocolError: the status or a header is invalid, or a header is
            one the app may not set.
    """
    length, _ = check_response_head(status, headers)
    lines = [f"Status: {status}\r\n"]
    for name, value in headers:
        if name.lower() == "status":
            # RFC 3875 §6.3.3: the web server takes a Status header as the status.
            raise LocalProtocolError("a 'Status' header is not allowed; pass the status to start_response()")
        lines.append(f"{name}: {value}\r\n")
    lines.append("\r\n")
    # check_response_head() allowed latin-1 characters only.
    return "".join(lines).encode("latin-1"), length


class _Response:
    """``start_response``, ``write()`` and the body of one CGI response.

    Args:
        stdout: the binary stream the web server reads the response from.
        method: the request method, to know whether a body is expected.
    """

    __slots__ = ("_stdout", "_method", "status", "_head", "_length", "headers_sent", "bytes_sent")

    def __init__(self, stdout: IO[bytes], method: str) -> None:
        self._stdout = stdout
        self._method = method
        self.status: str | None = None
        self._head = b""
        self._length: int | None = None
        self.headers_sent = False
        self.bytes_sent = 0

    def start_response(
        self,
        status: str,
        headers: list[tuple[str, str]],
        exc_info: ExcInfo | None = None,
    ) -> Callable[[bytes], None]:
        """PEP 3333 ``start_response``: check and store the status and headers.

        Returns:
            The ``write()`` callable (:meth:`send_body`).

        Raises:
            LocalProtocolError: the status or a header is invalid, or it was
                called a second time without ``exc_info``.
            BaseException: ``exc_info``'s exception, re-raised when the head
                was already sent.
        """
        check_start_response_call(self.headers_sent, self.status is not None, exc_info)
        exc_info = None  # PEP 3333: drop the traceback to avoid a reference cycle.
        self._head, length = _format_head(status, headers)
        code = int(status[:3])
        if self._method == "HEAD" or code < 200 or code in (204, 304):
            # RFC 9110 §8.6: here Content-Length describes a body not sent.
            length = None
        self._length = length
        self.status = status
        return self.send_body

    def send_body(self, data: bytes) -> None:
        """Send a body chunk, with the head first if it was not sent yet; also ``write()``.

        Raises:
            LocalProtocolError: no status yet, ``data`` is not bytes, or it
                goes past the app's ``Content-Length`` (the bytes that fit
                are sent first, if the head is out already).
            OSError: stdout is closed (the web server gave up on us).
        """
        if self.status is None:
            raise LocalProtocolError("the app yielded body bytes before calling start_response()")
        if type(data) is not bytes:
            if not isinstance(data, (bytearray, memoryview)):
                raise LocalProtocolError(f"the app gave {type(data).__name__}, not bytes, as body")
            data = bytes(data)
        if not data:
            return
        if self._length is not None and self.bytes_sent + len(data) > self._length:
            if self.headers_sent:
                self._emit(data[: self._length - self.bytes_sent])
            raise LocalProtocolError(
                f"the app sent more body bytes than its Content-Length {self._length}; "
                "the extra bytes were dropped"
            )
        self._emit(data)

    def _emit(self, body: bytes) -> None:
        self.bytes_sent += len(body)
        if not self.headers_sent:
            # Set first: if stdout is broken, a 500 must not follow.
            self.headers_sent = True
            data = self._head + body
        elif body:
            data = body
        else:
            return
        self._stdout.write(data)
        # PEP 3333: a block must reach the client before the next is asked for.
        self._stdout.flush()

    def finish(self) -> None:
        """End the response: send the head if no body was sent.

        Raises:
            LocalProtocolError: the app never called ``start_response()``, or
                sent less than its ``Content-Length``.
            OSError: stdout is closed.
        """
        if self.status is None:
            raise LocalProtocolError("the app returned without calling start_response()")
        if self._length is not None and self.bytes_sent < self._length:
            raise LocalProtocolError(
                f"the app sent {self.bytes_sent} body bytes but its Content-Length is {self._length}"
            )
        if not self.headers_sent:
            self._emit(b"")


def _log_error(stderr: TextIO, cgi_environ: Mapping[str, str], exc: Exception, headers_sent: bool) -> None:
    """Write the app's failure to the web server's error log."""
    method = cgi_environ.get("REQUEST_METHOD", "-")
    path = cgi_environ.get("SCRIPT_NAME", "") + cgi_environ.get("PATH_INFO", "")
    outcome = "the response is cut short" if headers_sent else "answering 500 Internal Server Error"
    message = f"sluice.cgi: error while handling {method} {path or '/'} ({outcome}):\n"
    try:
        stderr.write(message + "".join(traceback.format_exception(exc)))
        stderr.flush()
    except (OSError, ValueError):
        pass
