"""Serialize responses: the status line and header section, chunks, errors."""

from __future__ import annotations

from http import HTTPStatus

#: The terminating chunk with an empty trailer section (RFC 9112 §7.1).
LAST_CHUNK = b"0\r\n\r\n"
#: The interim response sent before reading a body the client holds back.
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"


def format_head(status: str, headers: list[tuple[str, str]], extra: str = "") -> bytes:
    """Return the status line and header section of a response.

    Args:
        status: the status code and reason, e.g. ``"200 OK"``.
        headers: ``(name, value)`` pairs, already validated.
        extra: pre-formatted header lines (each ending in CRLF) appended last.

    Returns:
        The head as bytes, ending with the empty line. Header values are
        encoded as latin-1, as PEP 3333 requires of ``start_response``.
    """
    lines = "".join([f"{name}: {value}\r\n" for name, value in headers])
    return f"HTTP/1.1 {status}\r\n{lines}{extra}\r\n".encode("latin-1")


def format_chunk(data: bytes) -> bytes:
    """Frame ``data`` (not empty) as one chunk of a chunked body."""
    return b"%x\r\n%b\r\n" % (len(data), data)


def reason_phrase(code: int) -> str:
    """Return the standard reason phrase for ``code``, or ``"Unknown"``."""
    try:
        return HTTPStatus(code).phrase
    except ValueError:
        return "Unknown"


def format_error(code: int, message: str, date: str, server: str = "sluice", request_id: str = "") -> bytes:
    """Return a complete plain-text error response that closes the connection.

    Args:
        code: the status code (4xx or 5xx).
        message: one line that tells the client what was wrong; empty for
            none (a 500 says nothing about its cause), then the body is the
            reason phrase alone.
        date: the value of the ``Date`` header.
        server: the value of the ``Server`` header.
        request_id: the value of the ``X-Request-ID`` header (visible
            ASCII), or '' for none.
    """
    text = f"{code} {reason_phrase(code)}: {message}\n" if message else f"{reason_phrase(code)}\n"
    body = text.encode("utf-8")
    id_line = f"X-Request-ID: {request_id}\r\n" if request_id else ""
    head = (
        f"HTTP/1.1 {code} {reason_phrase(code)}\r\n"
        f"Content-Type: text/plain; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\n"
        f"Connection: close\r\n"
        f"Date: {date}\r\n"
        f"Server: {server}\r\n{id_line}\r\n"
    )
    return head.encode("latin-1") + body
