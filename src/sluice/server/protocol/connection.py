"""Server side of one HTTP/1.1 connection: received bytes to request events.

Design: the head (request line and header section) is found with one
``find(b"\r\n\r\n")`` over the bytes not yet scanned, decoded once as
latin-1 and checked with anchored regular expressions (one for the whole
header section; line by line only to explain a failure); bodies are framed
here by Content-Length or by the chunked coding. Every pattern is a run of
character classes without nested repetition, so no input makes the regex
engine backtrack, and every scan is linear in the bytes received.

``httptools`` (llhttp) was measured for this job and not used: fed a corpus
of 144 requests it accepted 21 that RFC 9112 and smuggling safety require
refusing (Host rules, HTTP/0.9 and 2.0 request lines, codings before
``chunked``, Transfer-Encoding on HTTP/1.0, no size limits) and refused 5
valid ones (``5 ;ext`` chunk extensions, OWS around a Transfer-Encoding
value, lower-case or unknown method tokens, HTTP/1.2, a Content-Length
trailer field); its callbacks cannot stop at the end of one pipelined
message, so a wrapper could not check each request line; and its URL parser
refuses ``_`` in host names, which RFC 3986 allows. Parsing a 9-line head
here costs about 5 µs (``benchmarks/bench_hotpath.py``).

Every rejection raises :class:`RemoteProtocolError` with the status to answer;
after one the connection must be closed (:attr:`Connection.is_broken`).
"""

from __future__ import annotations

import re

from sluice.errors import RemoteProtocolError
from sluice.server.protocol.events import NEED_DATA
from sluice.server.protocol.events import PAUSED
from sluice.server.protocol.events import ConnectionClosed
from sluice.server.protocol.events import Data
from sluice.server.protocol.events import EndOfMessage
from sluice.server.protocol.events import Request
from sluice.server.protocol.events import Sentinel

# RFC 9110 §5.6.2: token = 1*tchar.
_TCHAR = r"!#$%&'*+\-.^_`|~0-9A-Za-z"
# RFC 9112 §3: request-line = method SP request-target SP HTTP-version.
# The target may hold any visible ASCII; its form is checked afterwards.
_REQUEST_LINE = re.compile(rf"([{_TCHAR}]+) ([\x21-\x7e]+) HTTP/([0-9])\.([0-9])")
_REQUEST_LINE_NO_VERSION = re.compile(rf"([{_TCHAR}]+) ([\x21-\x7e]+)")
_REQUEST_LINE_ODD_VERSION = re.compile(rf"[{_TCHAR}]+ [\x21-\x7e]+ HTTP/[0-9]+\.[0-9]+")
# RFC 9112 §5: field-line = field-name ":" OWS field-value OWS; the value is
# VCHAR / obs-text with inner SP / HTAB. CR, LF, NUL and other controls fail.
_FIELD_LINE = re.compile(rf"[{_TCHAR}]+:[\t\x20-\x7e\x80-\xff]*")
_FIELD_SECTION = re.compile(
    rf"[{_TCHAR}]+:[\t\x20-\x7e\x80-\xff]*(?:\r\n[{_TCHAR}]+:[\t\x20-\x7e\x80-\xff]*)*"
)
# PERF: a server sees few distinct Host values; each is checked once
# (bounded, so random values cannot grow it). Module-level and shared by
# threads: adding to a set is atomic in CPython.
_valid_hosts: set[str] = set()
# The fields that decide framing, keep-alive and expectations.
# The fields the parser reads itself: framing, and two the access log shows.
_NOTED_FIELDS = frozenset(
    {"host", "user-agent", "referer", "content-length", "transfer-encoding", "connection", "expect"}
)
_BARE_LF = re.compile(rb"(?<!\r)\n")
#: Empty lines allowed before a request line (RFC 9112 §2.2 asks that at
#: least one be ignored: the CRLF some clients send after a POST body).
MAX_EMPTY_LINES = 4
# Absolute-form (RFC 9112 §3.2.2): scheme "://" authority path-abempty ["?" query].
_ABSOLUTE_FORM = re.compile(r"([A-Za-z][A-Za-z0-9+\-.]*)://([^/?#@]+)(/[^?#]*)?(?:\?([^#]*))?")
# Authority-form (RFC 9112 §3.2.3), CONNECT only: uri-host ":" port.
_AUTHORITY_FORM = re.compile(r"(?:\[[0-9A-Fa-f:.]+\]|[\w\-.~!$&'()*+,;=%]+):[0-9]+", re.ASCII)
# RFC 3986 §3.2.2 host: IP-literal / IPv4address / reg-name, then ":" port.
_HOST = re.compile(
    r"(?:\[[0-9A-Fa-f:.]+\]|\[v[0-9A-Fa-f]+\.[\w\-.~!$&'()*+,;=:]+\]"
    r"|(?:[\w\-.~!$&'()*+,;=]|%[0-9A-Fa-f]{2})*)(?::[0-9]*)?",
    re.ASCII,
)
# RFC 9112 §7.1: chunk-size [chunk-ext] CRLF with
# chunk-ext = *( BWS ";" BWS ext-name [ BWS "=" BWS ext-val ] ).
_QUOTED = r'"(?:[\t \x21\x23-\x5b\x5d-\x7e\x80-\xff]|\\[\t \x21-\x7e\x80-\xff])*"'
_CHUNK_LINE = re.compile(
    rf"([0-9A-Fa-f]+)((?:[ \t]*;[ \t]*[{_TCHAR}]+(?:[ \t]*=[ \t]*(?:[{_TCHAR}]+|{_QUOTED}))?)*)"
)
_DIGITS = re.compile(r"[0-9]+")

# Receive states of the client's side.
_IDLE = 0  # waiting for a request head
_BODY_LENGTH = 1  # reading a Content-Length body
_BODY_CHUNKED = 2  # reading a chunked body
_DONE = 3  # request complete; waiting for start_next_cycle()
_CLOSED = 4  # the client closed its side
_BROKEN = 5  # a protocol error was raised; nothing more is parsed

# Chunked sub-states.
_CHUNK_SIZE = 0
_CHUNK_DATA = 1
_CHUNK_DATA_END = 2
_CHUNK_TRAILER = 3

# RFC 9112 §2.2: a server SHOULD ignore at least one empty line before a request.
_MAX_LEADING_EMPTY_LINES = 8


class Limits:
    """Size limits a connection enforces while parsing.

    Args:
        max_request_line: longest request line in bytes (longer: 414).
        max_header_bytes: largest header section in bytes (larger: 431).
        max_header_fields: most header fields (more: 431).
        max_body_size: largest request body in bytes (larger: 413); ``None``
            for no limit.
        max_chunk_line: longest chunk-size line with its extensions (400).
    """

    __slots__ = (
        "max_request_line",
        "max_header_bytes",
        "max_header_fields",
        "max_body_size",
        "max_chunk_line",
    )

    def __init__(
        self,
        max_request_line: int = 8192,
        max_header_bytes: int = 65536,
        max_header_fields: int = 100,
        max_body_size: int | None = 100 * 1024 * 1024,
        max_chunk_line: int = 4096,
    ) -> None:
        self.max_request_line = max_request_line
        self.max_header_bytes = max_header_bytes
        self.max_header_fields = max_header_fields
        self.max_body_size = max_body_size
        self.max_chunk_line = max_chunk_line


DEFAULT_LIMITS = Limits()


class Connection:
    """Parse the requests a client sends on one connection, one at a time.

    Feed bytes with :meth:`receive_data` and pull events with
    :meth:`next_event`. After a request's :class:`EndOfMessage` the
    connection pauses until :meth:`start_next_cycle` is called (once the
    response was sent), so pipelined requests come out strictly in order.

    Args:
        limits: the size limits to enforce.
    """

    __slots__ = (
        "limits",
        "_buf",
        "_state",
        "_eof",
        "_remaining",
        "_chunk_state",
        "_body_seen",
        "_trailer_bytes",
        "request",
        "client_closed",
        "_scanned",
        "_line_end",
        "_empty_lines",
    )

    def __init__(self, limits: Limits = DEFAULT_LIMITS) -> None:
        self.limits = limits
        self._buf = bytearray()
        self._state = _IDLE
        self._eof = False
        self._remaining = 0
        self._chunk_state = _CHUNK_SIZE
        self._body_seen = 0
        self._trailer_bytes = 0
        self._scanned = 0
        self._line_end = -1
        self._empty_lines = 0  # before the next request line
        #: The request being received or answered, ``None`` between requests.
        self.request: Request | None = None
        #: The client closed its sending side (EOF was received).
        self.client_closed = False

    # -- input ---------------------------------------------------------------

    def receive_data(self, data: bytes) -> None:
        """Add received bytes; ``b""`` means the client closed its side.

        Args:
            data: bytes as read from the socket.
        """
        if data:
            self._buf += data
        else:
            self._eof = True
            self.client_closed = True

    @property
    def trailing_data(self) -> bytes:
        """Bytes received but not yet parsed (the start of a pipelined request)."""
        return bytes(self._buf)

    @property
    def has_buffered_data(self) -> bool:
        """Bytes were received that no event has consumed yet."""
        return bool(self._buf)

    @property
    def is_broken(self) -> bool:
        """A protocol error was raised; the connection must be closed."""
        return self._state == _BROKEN

    @property
    def is_idle(self) -> bool:
        """No request is in progress and no byte of the next one was received (empty lines count)."""
        return self._state == _IDLE and not self._buf and not self._empty_lines

    @property
    def is_receiving_head(self) -> bool:
        """Bytes of a request head (or empty lines before it) were received, but not the whole head."""
        return self._state == _IDLE and bool(self._buf or self._empty_lines)

    def next_event(self) -> Request | Data | EndOfMessage | ConnectionClosed | Sentinel:
        """Parse what was received and return the next event.

        Returns:
            A :class:`Request` when a whole head arrived; :class:`Data` with
            body bytes; :class:`EndOfMessage` when the body is complete;
            :class:`ConnectionClosed` when the client closed between requests;
            ``NEED_DATA`` when more bytes are needed; ``PAUSED`` after
            ``EndOfMessage`` until :meth:`start_next_cycle`.

        Raises:
            RemoteProtocolError: the bytes break HTTP/1.1 or a limit; its
                ``status_hint`` is the status to answer before closing.
        """
        state = self._state
        try:
            if state == _IDLE:
                return self._next_head()
            if state == _BODY_LENGTH:
                return self._next_length_body()
            if state == _BODY_CHUNKED:
                return self._next_chunked_body()
        except RemoteProtocolError:
            self._state = _BROKEN
            raise
        if state == _DONE:
            return PAUSED
        if state == _CLOSED:
            return ConnectionClosed()
        raise RemoteProtocolError("the connection is broken after an earlier error")

    def start_next_cycle(self) -> None:
        """Allow the next request after the current one was answered.

        Raises:
            RuntimeError: the current request's body was not fully received
                (drain it first, or close the connection).
        """
        if self._state != _DONE:
            raise RuntimeError("start_next_cycle() called before the request was complete")
        self._state = _IDLE
        self.request = None

    # -- heads ---------------------------------------------------------------

    def _next_head(self) -> Request | ConnectionClosed | Sentinel:
        buf = self._buf
        if not buf:
            # PERF: the usual state between keep-alive requests.
            if self._eof:
                self._state = _CLOSED
                return ConnectionClosed()
            return NEED_DATA
        if buf.startswith(b"\r\n"):
            # RFC 9112 §2.2: ignore empty lines before the request line (a
            # request line never starts with CRLF).
            skip = 2
            while buf.startswith(b"\r\n", skip):
                skip += 2
            del buf[:skip]
            # They are bytes of the next request like any other (its header
            # deadline runs from the first one), and only a few are allowed:
            # a client dripping CRLFs must not hold the connection forever.
            self._empty_lines += skip // 2
            if self._empty_lines > MAX_EMPTY_LINES:
                raise RemoteProtocolError(
                    f"more than {MAX_EMPTY_LINES} empty lines before the request line"
                )
            self._scanned = 0
            self._line_end = -1
        # PERF/safety: only bytes not scanned before are searched, so a head
        # arriving in tiny pieces costs linear, not quadratic, time.
        end = buf.find(b"\r\n\r\n", max(self._scanned - 3, 0))
        if end < 0:
            return self._head_incomplete()
        head = buf[:end].decode("latin-1")
        del buf[: end + 4]
        self._scanned = 0
        self._line_end = -1
        request = self._parse_head(head)
        self._empty_lines = 0
        self.request = request
        if request.chunked:
            self._state = _BODY_CHUNKED
            self._chunk_state = _CHUNK_SIZE
            self._body_seen = 0
            self._trailer_bytes = 0
        elif request.content_length:
            self._state = _BODY_LENGTH
            self._remaining = request.content_length
        else:
            self._state = _DONE
        return request

    def _head_incomplete(self) -> ConnectionClosed | Sentinel:
        buf = self._buf
        limits = self.limits
        if self._eof:
            if not buf.strip(b"\r\n"):
                self._state = _CLOSED
                return ConnectionClosed()
            raise RemoteProtocolError("the connection was closed in the middle of a request head")
        scanned = self._scanned
        self._scanned = len(buf)
        if _BARE_LF.search(buf, max(scanned - 1, 0)):
            raise RemoteProtocolError("line ending without CR: lines must end with CRLF")
        line_end = self._line_end
        if line_end < 0:
            line_end = self._line_end = buf.find(b"\r\n", max(scanned - 1, 0))
        if line_end < 0:
            # A CR at the end may be the start of the line's CRLF.
            if len(buf) - buf.endswith(b"\r") > limits.max_request_line:
                raise RemoteProtocolError(
                    f"request line longer than {limits.max_request_line} bytes", 414
                )
        elif line_end > limits.max_request_line:
            raise RemoteProtocolError(
                f"request line longer than {limits.max_request_line} bytes", 414
            )
        elif len(buf) - line_end - 2 - 3 > limits.max_header_bytes:
            # Up to 3 bytes at the end may belong to the final CRLFCRLF.
            raise RemoteProtocolError(
                f"header section larger than {limits.max_header_bytes} bytes", 431
            )
        return NEED_DATA

    def _parse_head(self, head: str) -> Request:
        limits = self.limits
        line_end = head.find("\r\n")
        if line_end < 0:
            line, fields = head, ""
        else:
            line, fields = head[:line_end], head[line_end + 2 :]
        if len(line) > limits.max_request_line:
            raise RemoteProtocolError(f"request line longer than {limits.max_request_line} bytes", 414)
        if len(fields) > limits.max_header_bytes:
            raise RemoteProtocolError(f"header section larger than {limits.max_header_bytes} bytes", 431)
        match = _REQUEST_LINE.fullmatch(line)
        if match is None:
            raise self._request_line_error(line)
        method, target, major, minor = match.groups()
        if major != "1":
            raise RemoteProtocolError(
                f"HTTP/{major}.{minor} is not supported; send HTTP/1.1", 505
            )
        version = "1.0" if minor == "0" else "1.1"

        headers: list[tuple[str, str]] = []
        host: str | None = None
        host_count = 0
        lengths: list[str] = []
        codings: list[str] = []
        connection = ""
        expect = user_agent = referer = None
        if fields:
            lines = fields.split("\r\n")
            if len(lines) > limits.max_header_fields:
                raise RemoteProtocolError(
                    f"more than {limits.max_header_fields} header fields", 431
                )
            # PERF: one regex checks the whole section (bench_hotpath.py: a
            # 9-line head went from 11.4 to about 5 µs); a failing section
            # is then checked line by line to say what is wrong.
            if _FIELD_SECTION.fullmatch(fields) is None:
                raise self._field_error(next((raw for raw in lines if _FIELD_LINE.fullmatch(raw) is None), ""))
            for raw in lines:
                name, _, value = raw.partition(":")
                name = name.lower()
                value = value.strip(" \t")
                headers.append((name, value))
                if name in _NOTED_FIELDS:
                    if name == "host":
                        host = value
                        host_count += 1
                    elif name == "user-agent":
                        user_agent = value
                    elif name == "referer":
                        referer = value
                    elif name == "content-length":
                        lengths.append(value)
                    elif name == "transfer-encoding":
                        codings.append(value)
                    elif name == "connection":
                        connection = f"{connection},{value}" if connection else value
                    else:
                        expect = value

        # RFC 9112 §3.2: exactly one valid Host in HTTP/1.1; never several.
        if host_count > 1:
            raise RemoteProtocolError("several Host header fields; send exactly one")
        if host is None:
            if version == "1.1":
                raise RemoteProtocolError("HTTP/1.1 request without a Host header field")
        elif host not in _valid_hosts:
            if _HOST.fullmatch(host) is None:
                raise RemoteProtocolError(f"invalid Host header value {host[:80]!r}")
            if len(_valid_hosts) < 1024:
                _valid_hosts.add(host)

        if target[0] == "/" and "#" not in target:
            # PERF: origin-form, the usual case, without a call.
            path, _, query = target.partition("?")
        else:
            path, query, host = self._split_target(method, target, host)

        content_length: int | None = None
        chunked = False
        if codings:
            chunked = self._check_codings(codings, version)
            if lengths:
                # RFC 9112 §6.3: both present is a smuggling vector; refuse.
                raise RemoteProtocolError(
                    "both Transfer-Encoding and Content-Length; send only one"
                )
        elif lengths:
            content_length = self._check_lengths(lengths)

        keep_alive = version == "1.1"
        if connection:
            tokens = {t.strip().lower() for t in connection.split(",")}
            if "close" in tokens:
                keep_alive = False
            elif "keep-alive" in tokens:
                keep_alive = True

        expect_continue = False
        if expect is not None:
            if expect.lower() != "100-continue":
                raise RemoteProtocolError(f"unsupported expectation {expect!r}", 417)
            # RFC 9110 §10.1.1: ignore 100-continue from HTTP/1.0 clients.
            expect_continue = version == "1.1"

        return Request(
            method,
            target,
            path,
            query,
            version,
            headers,
            host,
            content_length,
            chunked,
            keep_alive,
            expect_continue,
            line,
            user_agent,
            referer,
        )

    def _request_line_error(self, line: str) -> RemoteProtocolError:
        if _REQUEST_LINE_ODD_VERSION.fullmatch(line):
            version = line.rsplit(" ", 1)[1]
            return RemoteProtocolError(f"{version} is not supported; send HTTP/1.1", 505)
        if _REQUEST_LINE_NO_VERSION.fullmatch(line):
            return RemoteProtocolError(
                "request line without an HTTP version (HTTP/0.9 is not supported)"
            )
        if any(ord(c) > 0x7E or ord(c) < 0x21 for c in line.replace(" ", "")):
            return RemoteProtocolError(
                "invalid character in the request line; percent-encode the target"
            )
        return RemoteProtocolError(
            "malformed request line; expected 'METHOD TARGET HTTP/1.1'"
        )

    @staticmethod
    def _field_error(raw: str) -> RemoteProtocolError:
        if raw[:1] in (" ", "\t"):
            return RemoteProtocolError("obsolete line folding in the header section (RFC 9112 §5.2)")
        name, colon, _ = raw.partition(":")
        if not colon:
            return RemoteProtocolError(f"header line without a colon: {raw[:40]!r}")
        if name.rstrip(" \t") != name:
            return RemoteProtocolError(
                f"whitespace between header name and colon: {name!r} (RFC 9112 §5.1)"
            )
        if not name or re.fullmatch(f"[{_TCHAR}]+", name) is None:
            return RemoteProtocolError(f"invalid header name {name[:40]!r}")
        return RemoteProtocolError(f"invalid character in the value of header {name!r}")

    def _split_target(self, method: str, target: str, host: str | None) -> tuple[str, str, str | None]:
        """Return ``(path, query, host)`` for the four target forms (RFC 9112 §3.2)."""
        if target[0] == "/":
            # Origin-form without '#' never reaches here (see _parse_head).
            raise RemoteProtocolError("fragment ('#') in the request target")
        if target == "*":
            if method != "OPTIONS":
                raise RemoteProtocolError("'*' target is only allowed with OPTIONS")
            return "", "", host
        if "://" in target:
            m = _ABSOLUTE_FORM.fullmatch(target)
            if m is None or _HOST.fullmatch(m.group(2)) is None:
                raise RemoteProtocolError(f"invalid absolute-form target {target[:80]!r}")
            # RFC 9112 §3.2.2: the target's authority replaces the Host field.
            return m.group(3) or "/", m.group(4) or "", m.group(2)
        if method == "CONNECT" and _AUTHORITY_FORM.fullmatch(target):
            return "", "", target
        raise RemoteProtocolError(f"invalid request target {target[:80]!r}")

    @staticmethod
    def _check_codings(codings: list[str], version: str) -> bool:
        if version == "1.0":
            # RFC 9112 §6.1: Transfer-Encoding in HTTP/1.0 is faulty framing.
            raise RemoteProtocolError("Transfer-Encoding in an HTTP/1.0 request")
        # RFC 9110 §5.6.1.2: empty list elements are ignored.
        items = [c for c in (c.strip(" \t").lower() for c in ",".join(codings).split(",")) if c]
        if not items:
            raise RemoteProtocolError("empty Transfer-Encoding; it must end with 'chunked'")
        if items[-1] != "chunked":
            raise RemoteProtocolError(
                "Transfer-Encoding must end with 'chunked' in a request (RFC 9112 §6.3)"
            )
        if len(items) > 1:
            if "chunked" in items[:-1]:
                raise RemoteProtocolError("'chunked' applied more than once")
            raise RemoteProtocolError(
                f"unsupported transfer coding {items[0]!r}; only 'chunked' is accepted", 501
            )
        return True

    def _check_lengths(self, lengths: list[str]) -> int:
        values = {v.strip(" \t") for field in lengths for v in field.split(",")}
        if len(values) != 1:
            raise RemoteProtocolError("differing Content-Length values")
        value = values.pop()
        if _DIGITS.fullmatch(value) is None:
            raise RemoteProtocolError(f"invalid Content-Length {value[:40]!r}")
        limit = self.limits.max_body_size
        if limit is not None and (len(value.lstrip("0")) > 19 or int(value) > limit):
            raise RemoteProtocolError(f"request body larger than {limit} bytes", 413)
        return int(value)

    # -- bodies --------------------------------------------------------------

    def _next_length_body(self) -> Data | EndOfMessage | Sentinel:
        remaining = self._remaining
        if remaining == 0:
            self._state = _DONE
            return EndOfMessage()
        buf = self._buf
        if not buf:
            if self._eof:
                raise RemoteProtocolError(
                    f"the connection was closed with {remaining} body bytes missing"
                )
            return NEED_DATA
        if len(buf) <= remaining:
            data = bytes(buf)
            buf.clear()
        else:
            data = bytes(buf[:remaining])
            del buf[:remaining]
        self._remaining = remaining - len(data)
        return Data(data)

    def _next_chunked_body(self) -> Data | EndOfMessage | Sentinel:
        buf = self._buf
        while True:
            cstate = self._chunk_state
            if cstate == _CHUNK_DATA:
                if not buf:
                    return self._need_body_data()
                n = min(self._remaining, len(buf))
                data = bytes(buf[:n])
                del buf[:n]
                self._remaining -= n
                if self._remaining == 0:
                    self._chunk_state = _CHUNK_DATA_END
                return Data(data)
            if cstate == _CHUNK_DATA_END:
                if len(buf) < 2:
                    if buf and buf[0] != 13:
                        raise RemoteProtocolError("chunk data not followed by CRLF")
                    return self._need_body_data()
                if buf[0] != 13 or buf[1] != 10:
                    raise RemoteProtocolError("chunk data not followed by CRLF")
                del buf[:2]
                self._chunk_state = _CHUNK_SIZE
                continue
            # Only the bytes not scanned before are searched (linear time).
            scanned = self._scanned
            end = buf.find(b"\r\n", max(scanned - 1, 0))
            if end < 0:
                self._scanned = len(buf)
                if cstate == _CHUNK_SIZE and len(buf) > self.limits.max_chunk_line:
                    raise RemoteProtocolError("chunk size line too long")
                if cstate == _CHUNK_TRAILER and self._trailer_bytes + len(buf) > self.limits.max_header_bytes:
                    raise RemoteProtocolError(
                        f"trailer section larger than {self.limits.max_header_bytes} bytes", 431
                    )
                if buf.find(b"\n", max(scanned - 1, 0)) >= 0:
                    raise RemoteProtocolError("line ending without CR in a chunked body")
                return self._need_body_data()
            self._scanned = 0
            line = buf[:end].decode("latin-1")
            del buf[: end + 2]
            if cstate == _CHUNK_SIZE:
                if end > self.limits.max_chunk_line:
                    raise RemoteProtocolError("chunk size line too long")
                m = _CHUNK_LINE.fullmatch(line)
                if m is None:
                    raise RemoteProtocolError(f"invalid chunk size line {line[:40]!r}")
                digits = m.group(1).lstrip("0")
                size = int(digits, 16) if digits else 0
                limit = self.limits.max_body_size
                if len(digits) > 16 or (limit is not None and self._body_seen + size > limit):
                    raise RemoteProtocolError(f"request body larger than {limit} bytes", 413)
                self._body_seen += size
                if size == 0:
                    self._chunk_state = _CHUNK_TRAILER
                else:
                    self._remaining = size
                    self._chunk_state = _CHUNK_DATA
                continue
            # Trailer section: field lines until an empty line; discarded.
            if not line:
                self._state = _DONE
                return EndOfMessage()
            self._trailer_bytes += end + 2
            if self._trailer_bytes > self.limits.max_header_bytes:
                raise RemoteProtocolError(
                    f"trailer section larger than {self.limits.max_header_bytes} bytes", 431
                )
            if _FIELD_LINE.fullmatch(line) is None:
                raise self._field_error(line)

    def _need_body_data(self) -> Sentinel:
        if self._eof:
            raise RemoteProtocolError("the connection was closed in the middle of a chunked body")
        return NEED_DATA
