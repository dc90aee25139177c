"""The events a server-side HTTP/1.1 connection produces from received bytes."""

from __future__ import annotations

import enum


class Sentinel(enum.Enum):
    """Markers returned by :meth:`Connection.next_event` instead of an event."""

    NEED_DATA = "NEED_DATA"
    PAUSED = "PAUSED"


#: More bytes must be received before another event can be produced.
NEED_DATA = Sentinel.NEED_DATA
#: The current request is complete; the next one waits for ``start_next_cycle()``.
PAUSED = Sentinel.PAUSED


class Request:
    """A request head that passed every framing and syntax check.

    Attributes:
        method: the method token, case preserved (RFC 9110 §9.1).
        target: the request-target exactly as sent.
        path: the target's path part, still percent-encoded ('' for ``*`` and
            authority-form).
        query: the part after the first ``?`` without the ``?``.
        http_version: ``"1.0"`` or ``"1.1"`` (HTTP/1.2 and later 1.x are served
            as 1.1, RFC 9110 §6.2).
        headers: ``(name, value)`` pairs in arrival order, names lower-cased,
            values without surrounding whitespace, both latin-1 strings.
        host: the authority to use for the request: the absolute-form target's
            authority, else the ``Host`` field, else ``None``.
        content_length: the declared body length, ``None`` if chunked or none.
        chunked: the body uses the chunked transfer coding.
        keep_alive: the client allows the connection to stay open afterwards.
        expect_continue: the client sent ``Expect: 100-continue``.
        line: the request line exactly as sent, without its CRLF (its
            version may be a later HTTP/1.x than ``http_version``); made
            from the other fields when not given.
        user_agent: the ``User-Agent`` field's value (the last one sent),
            ``None`` without one; the parser fills it for the access log.
        referer: the same for ``Referer``.
    """

    __slots__ = (
        "method",
        "target",
        "path",
        "query",
        "http_version",
        "headers",
        "host",
        "content_length",
        "chunked",
        "keep_alive",
        "expect_continue",
        "has_body",
        "line",
        "user_agent",
        "referer",
    )

    def __init__(
        self,
        method: str,
        target: str,
        path: str,
        query: str,
        http_version: str,
        headers: list[tuple[str, str]],
        host: str | None,
        content_length: int | None,
        chunked: bool,
        keep_alive: bool,
        expect_continue: bool,
        line: str = "",
        user_agent: str | None = None,
        referer: str | None = None,
    ) -> None:
        self.method = method
        self.target = target
        self.path = path
        self.query = query
        self.http_version = http_version
        self.headers = headers
        self.host = host
        self.content_length = content_length
        self.chunked = chunked
        self.keep_alive = keep_alive
        self.expect_continue = expect_continue
        #: Whether body bytes follow the head (chunked or a non-zero length).
        #: PERF: an attribute, not a property: read once or twice per request.
        self.has_body = chunked or bool(content_length)
        #: The request line as sent (what a combined access log shows).
        self.line = line or f"{method} {target} HTTP/{http_version}"
        self.user_agent = user_agent
        self.referer = referer

    def __repr__(self) -> str:
        return f"<Request {self.method} {self.target} HTTP/{self.http_version}>"


class Data:
    """A piece of the request body, already de-chunked.

    Attributes:
        data: the body bytes (never empty).
    """

    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        self.data = data

    def __repr__(self) -> str:
        return f"<Data {len(self.data)} bytes>"


class EndOfMessage:
    """The request body is complete (trailer fields, if any, were discarded)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<EndOfMessage>"


class ConnectionClosed:
    """The client closed its side between requests."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<ConnectionClosed>"


Event = Request | Data | EndOfMessage | ConnectionClosed
