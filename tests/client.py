"""A raw-socket HTTP/1.1 client for live tests: exact bytes out, parsed responses in.

Design: tests need to send malformed or pipelined bytes and to see the
connection state afterwards, which ``http.client`` hides. This reader parses
responses from a socket by Content-Length, chunked coding or connection close,
and keeps unread bytes for the next response. Every read has a timeout.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from dataclasses import field


@dataclass
class RawResponse:
    """A response as received: status line parts, headers, body bytes."""

    version: str
    status: int
    reason: str
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    raw_head: bytes = b""
    chunked: bool = False

    def header(self, name: str) -> str | None:
        """Return the first value of header ``name`` (case-insensitive)."""
        lower = name.lower()
        for key, value in self.headers:
            if key.lower() == lower:
                return value
        return None

    def header_names(self) -> list[str]:
        """Return the lower-cased header names in order."""
        return [k.lower() for k, _ in self.headers]


class RawClient:
    """One TCP connection that sends raw bytes and reads responses.

    Args:
        host: the server host.
        port: the server port.
        timeout: seconds for every socket operation.
    """

    def __init__(self, host: str, port: int, timeout: float = 5.0) -> None:
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buf = b""

    def __enter__(self) -> RawClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the socket."""
        self.sock.close()

    def send(self, data: bytes) -> None:
        """Send all of ``data``."""
        self.sock.sendall(data)

    def _fill(self) -> bool:
        data = self.sock.recv(65536)
        if not data:
            return False
        self.buf += data
        return True

    def _read_until(self, marker: bytes) -> bytes:
        while marker not in self.buf:
            if not self._fill():
                raise ConnectionError(f"closed before {marker!r}; got {self.buf[:200]!r}")
        head, _, self.buf = self.buf.partition(marker)
        return head

    def _read_exact(self, n: int) -> bytes:
        while len(self.buf) < n:
            if not self._fill():
                raise ConnectionError(f"closed with {n - len(self.buf)} body bytes missing")
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def read_response(self, head_request: bool = False) -> RawResponse:
        """Read one response (interim 1xx responses are returned too)."""
        head = self._read_until(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        version, status, reason = (lines[0].split(" ", 2) + [""])[:3]
        headers = []
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers.append((name, value.strip()))
        resp = RawResponse(version, int(status), reason, headers, raw_head=head)
        code = resp.status
        if head_request or code < 200 or code in (204, 304):
            return resp
        te = resp.header("transfer-encoding")
        length = resp.header("content-length")
        if te is not None and te.lower() == "chunked":
            resp.chunked = True
            body = b""
            while True:
                size_line = self._read_until(b"\r\n")
                size = int(size_line.split(b";")[0], 16)
                if size == 0:
                    self._read_until(b"\r\n")
                    break
                body += self._read_exact(size)
                if self._read_exact(2) != b"\r\n":
                    raise ConnectionError("chunk not followed by CRLF")
            resp.body = body
        elif length is not None:
            resp.body = self._read_exact(int(length))
        else:
            while self._fill():
                pass
            resp.body, self.buf = self.buf, b""
        return resp

    def request(self, data: bytes, head_request: bool = False) -> RawResponse:
        """Send ``data`` and read one final response."""
        self.send(data)
        resp = self.read_response(head_request)
        while resp.status < 200:
            resp = self.read_response(head_request)
        return resp

    def is_closed(self, timeout: float = 2.0) -> bool:
        """Return True if the server closed the connection (EOF or reset) in ``timeout``."""
        if self.buf:
            return False
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(1)
        except TimeoutError:
            return False
        except ConnectionResetError:
            return True
        if data:
            self.buf += data
            return False
        return True


def get(path: str = "/", host: str = "localhost", extra: str = "") -> bytes:
    """Return the bytes of a simple GET request."""
    return f"GET {path} HTTP/1.1\r\nHost: {host}\r\n{extra}\r\n".encode("latin-1")
