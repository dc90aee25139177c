"""The sans-IO request parser, replayed over a corpus of raw requests.

Every case in ``requests/valid`` and ``requests/invalid`` is a pair: ``NNN.http``
holds the exact bytes a client sends, ``NNN.py`` the expectation as plain
Python literals (read with :func:`ast.literal_eval`, never imported):

* valid: ``requests`` (a list of dicts, one per pipelined request, with the
  :class:`Request` attributes to check plus ``body``), optional ``limits``
  (keyword arguments of :class:`Limits`) and ``eof`` (the client closes after
  the bytes: a ``ConnectionClosed`` must follow the last request);
* invalid: ``status`` (the ``status_hint``), ``message`` (a regex searched in
  the error message), optional ``limits`` and ``eof``.

Each case is fed whole, byte by byte and in random splits (fixed seed), since
the result must not depend on how TCP cut the stream. Valid cases are also
fed with the start of a pipelined request appended, which must stay unparsed.
"""

from __future__ import annotations

import ast
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from sluice.errors import RemoteProtocolError
from sluice.server.protocol import NEED_DATA
from sluice.server.protocol import PAUSED
from sluice.server.protocol import Connection
from sluice.server.protocol import ConnectionClosed
from sluice.server.protocol import Data
from sluice.server.protocol import EndOfMessage
from sluice.server.protocol import Limits
from sluice.server.protocol import Request
from sluice.server.protocol.connection import MAX_EMPTY_LINES

CORPUS = Path(__file__).parent / "requests"
SEED = 1234
RANDOM_SPLITS = 4
TRAILING = b"GET /next HTTP/1.1\r\n"
REQUEST_FIELDS = (
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
)

# Parser bugs found by the corpus: (test, case, chunking) -> reason; those
# tests run as strict xfails, so a fix fails them until the entry is removed.
# Found and fixed in 4b2a61d: valid-054/055 (limits off by the CR or the
# final CRLFCRLF when cut), valid-060 (empty Transfer-Encoding elements),
# valid-063 ('_' in an absolute-form host), invalid-059 (CONNECT without port).
KNOWN_BUGS: dict[tuple[str, str, str], str] = {}


@dataclass(frozen=True)
class Case:
    """One corpus entry: the raw bytes and the literals of its ``.py`` file."""

    name: str
    raw: bytes
    doc: str
    spec: dict[str, Any]

    @property
    def limits(self) -> Limits:
        return Limits(**self.spec.get("limits", {}))

    @property
    def eof(self) -> bool:
        return bool(self.spec.get("eof", False))


def _load(kind: str) -> list[Case]:
    cases = []
    for http in sorted((CORPUS / kind).glob("*.http")):
        source = http.with_suffix(".py").read_text(encoding="utf-8")
        module = ast.parse(source)
        spec: dict[str, Any] = {}
        for node in module.body[1:]:
            assert isinstance(node, ast.Assign) and len(node.targets) == 1, http
            target = node.targets[0]
            assert isinstance(target, ast.Name), http
            spec[target.id] = ast.literal_eval(node.value)
        doc = ast.get_docstring(module)
        assert doc, f"{http.with_suffix('.py')} has no docstring"
        cases.append(Case(f"{kind}-{http.stem}", http.read_bytes(), doc, spec))
    return cases


VALID = _load("valid")
INVALID = _load("invalid")
CHUNKINGS = ("whole", "bytes", "random")


def _params(test: str, cases: list[Case]) -> list[Any]:
    params = []
    for case in cases:
        for chunking in CHUNKINGS:
            reason = KNOWN_BUGS.get((test, case.name, chunking))
            marks = [pytest.mark.xfail(reason=reason, strict=True)] if reason else []
            params.append(pytest.param(case, chunking, id=f"{case.name}-{chunking}", marks=marks))
    return params


def _splits(data: bytes, chunking: str) -> Iterator[list[bytes]]:
    """Yield the ways to cut ``data`` into received pieces for ``chunking``."""
    if chunking == "whole":
        yield [data]
    elif chunking == "bytes":
        yield [data[i : i + 1] for i in range(len(data))]
    else:
        rng = random.Random(SEED)
        for _ in range(RANDOM_SPLITS):
            pieces, pos = [], 0
            while pos < len(data):
                size = rng.randint(1, rng.choice((3, 16, 200)))
                pieces.append(data[pos : pos + size])
                pos += size
            yield pieces


@dataclass
class Received:
    """What a client's bytes produced: each request with its body, and the end."""

    requests: list[tuple[Request, bytes]]
    closed: bool = False


class Driver:
    """Feed pieces to a connection and pull events, as a server loop would.

    Args:
        conn: the connection under test.
        stop_after: pause for good after this many complete requests (the
            rest stays in ``trailing_data``); ``None`` to go on forever.
    """

    def __init__(self, conn: Connection, stop_after: int | None = None) -> None:
        self.conn = conn
        self.stop_after = stop_after
        self.received = Received([])
        self._request: Request | None = None
        self._body: list[bytes] = []

    def feed(self, pieces: list[bytes], eof: bool = False) -> Received:
        for piece in pieces:
            self.conn.receive_data(piece)
            self.pump()
        if eof:
            self.conn.receive_data(b"")
            self.pump()
        return self.received

    def _complete(self) -> None:
        assert self._request is not None
        self.received.requests.append((self._request, b"".join(self._body)))
        self._request = None
        self._body = []

    def pump(self) -> None:
        conn = self.conn
        # Every event consumes bytes or changes state; a bound catches loops.
        for _ in range(len(conn.trailing_data) + 16):
            event = conn.next_event()
            if event is NEED_DATA:
                return
            if event is PAUSED:
                assert self._request is None, "PAUSED before the request was complete"
                if self.stop_after is not None and len(self.received.requests) >= self.stop_after:
                    return
                conn.start_next_cycle()
                assert conn.request is None
            elif isinstance(event, Request):
                assert self._request is None, "a Request while another one is open"
                assert conn.request is event
                self._request = event
                if not event.has_body:
                    self._complete()
            elif isinstance(event, Data):
                assert self._request is not None and event.data
                self._body.append(event.data)
            elif isinstance(event, EndOfMessage):
                assert self._request is not None and self._request.has_body
                self._complete()
            elif isinstance(event, ConnectionClosed):
                assert self._request is None
                self.received.closed = True
                return
            else:  # pragma: no cover - a new event type
                raise AssertionError(f"unexpected event {event!r}")
        raise AssertionError("next_event() did not settle: the parser loops")


def _as_dict(request: Request, body: bytes) -> dict[str, Any]:
    result = {name: getattr(request, name) for name in REQUEST_FIELDS}
    result["body"] = body
    return result


# -- the corpus ---------------------------------------------------------------


def test_corpus_files_paired_and_documented() -> None:
    assert len(VALID) >= 40
    assert len(INVALID) >= 40
    for kind in ("valid", "invalid"):
        folder = CORPUS / kind
        assert {p.stem for p in folder.glob("*.http")} == {p.stem for p in folder.glob("*.py")}
    for case in VALID + INVALID:
        assert "RFC" in case.doc and "\n" not in case.doc, case.name
        assert set(case.limits.__slots__) >= set(case.spec.get("limits", {})), case.name
    for case in VALID:
        assert set(case.spec) <= {"requests", "limits", "eof"}, case.name
        assert case.spec["requests"], case.name
        for expected in case.spec["requests"]:
            assert set(expected) == {*REQUEST_FIELDS, "body"}, case.name
    for case in INVALID:
        assert set(case.spec) <= {"status", "message", "limits", "eof"}, case.name
        assert {"status", "message"} <= set(case.spec), case.name


@pytest.mark.parametrize(("case", "chunking"), _params("valid", VALID))
def test_connection_valid_request_parsed(case: Case, chunking: str) -> None:
    expected = case.spec["requests"]
    for pieces in _splits(case.raw, chunking):
        conn = Connection(limits=case.limits)
        received = Driver(conn).feed(pieces, eof=case.eof)
        assert [_as_dict(r, body) for r, body in received.requests] == expected
        assert received.closed is case.eof
        assert not conn.is_broken
        # After EOF only ignorable empty lines may stay unparsed.
        assert conn.trailing_data.strip(b"\r\n") == b""
        if not case.eof:
            assert conn.trailing_data == b""
            assert conn.next_event() is NEED_DATA
            assert conn.is_idle


@pytest.mark.parametrize(("case", "chunking"), _params("trailing", [c for c in VALID if not c.eof]))
def test_connection_valid_request_with_trailing_bytes_leaves_them(case: Case, chunking: str) -> None:
    expected = case.spec["requests"]
    for pieces in _splits(case.raw + TRAILING, chunking):
        conn = Connection(limits=case.limits)
        received = Driver(conn, stop_after=len(expected)).feed(pieces)
        assert [_as_dict(r, body) for r, body in received.requests] == expected
        assert conn.trailing_data == TRAILING
        assert conn.next_event() is PAUSED
        assert conn.trailing_data == TRAILING
        conn.start_next_cycle()
        assert conn.next_event() is NEED_DATA
        assert conn.is_receiving_head


@pytest.mark.parametrize(("case", "chunking"), _params("invalid", INVALID))
def test_connection_invalid_request_raises(case: Case, chunking: str) -> None:
    for pieces in _splits(case.raw, chunking):
        conn = Connection(limits=case.limits)
        with pytest.raises(RemoteProtocolError, match=case.spec["message"]) as info:
            Driver(conn).feed(pieces, eof=case.eof)
        assert info.value.status_hint == case.spec["status"]
        assert conn.is_broken
        with pytest.raises(RemoteProtocolError, match="broken"):
            conn.next_event()


# -- focused unit tests -------------------------------------------------------

GET = b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"
POST = b"POST / HTTP/1.1\r\nHost: example.com\r\nContent-Length: 5\r\n\r\n"


def test_start_next_cycle_before_request_raises_runtime_error() -> None:
    conn = Connection()
    with pytest.raises(RuntimeError, match="before the request was complete"):
        conn.start_next_cycle()


def test_start_next_cycle_during_body_raises_runtime_error() -> None:
    conn = Connection()
    conn.receive_data(POST + b"he")
    assert isinstance(conn.next_event(), Request)
    assert isinstance(conn.next_event(), Data)
    with pytest.raises(RuntimeError, match="before the request was complete"):
        conn.start_next_cycle()
    conn.receive_data(b"llo")
    assert isinstance(conn.next_event(), Data)
    assert isinstance(conn.next_event(), EndOfMessage)
    conn.start_next_cycle()


def test_start_next_cycle_after_request_without_body_allowed() -> None:
    conn = Connection()
    conn.receive_data(GET)
    assert isinstance(conn.next_event(), Request)
    assert conn.next_event() is PAUSED
    conn.start_next_cycle()
    assert conn.request is None
    assert conn.is_idle


def test_next_event_eof_between_requests_connection_closed() -> None:
    conn = Connection()
    conn.receive_data(GET)
    assert isinstance(conn.next_event(), Request)
    conn.receive_data(b"")
    assert conn.client_closed
    assert conn.next_event() is PAUSED
    conn.start_next_cycle()
    assert isinstance(conn.next_event(), ConnectionClosed)
    assert isinstance(conn.next_event(), ConnectionClosed)
    assert not conn.is_broken


def test_next_event_eof_before_any_byte_connection_closed() -> None:
    conn = Connection()
    conn.receive_data(b"")
    assert isinstance(conn.next_event(), ConnectionClosed)


def test_next_event_eof_after_empty_lines_connection_closed() -> None:
    conn = Connection()
    conn.receive_data(b"\r\n\r\n\r\n")
    conn.receive_data(b"")
    assert isinstance(conn.next_event(), ConnectionClosed)


def test_next_event_eof_while_paused_stays_paused() -> None:
    conn = Connection()
    conn.receive_data(GET + b"GET /partial")
    conn.receive_data(b"")
    assert isinstance(conn.next_event(), Request)
    assert conn.next_event() is PAUSED
    conn.start_next_cycle()
    with pytest.raises(RemoteProtocolError, match="middle of a request head"):
        conn.next_event()


def test_is_idle_and_is_receiving_head_follow_the_request() -> None:
    conn = Connection()
    assert conn.is_idle and not conn.is_receiving_head
    conn.receive_data(b"GET / HT")
    assert not conn.is_idle and conn.is_receiving_head
    assert conn.next_event() is NEED_DATA
    assert conn.is_receiving_head
    conn.receive_data(b"TP/1.1\r\nHost: example.com\r\nContent-Length: 2\r\n\r\n")
    assert isinstance(conn.next_event(), Request)
    assert not conn.is_idle and not conn.is_receiving_head
    conn.receive_data(b"ok")
    assert isinstance(conn.next_event(), Data)
    assert isinstance(conn.next_event(), EndOfMessage)
    assert not conn.is_idle and not conn.is_receiving_head
    conn.start_next_cycle()
    assert conn.is_idle and not conn.is_receiving_head


def test_is_idle_with_pipelined_bytes_false() -> None:
    conn = Connection()
    conn.receive_data(GET + b"G")
    assert isinstance(conn.next_event(), Request)
    conn.start_next_cycle()
    assert not conn.is_idle
    assert conn.is_receiving_head
    assert conn.has_buffered_data


def test_trailing_data_after_body_holds_next_request() -> None:
    conn = Connection()
    conn.receive_data(POST + b"hello" + GET)
    request = conn.next_event()
    assert isinstance(request, Request) and request.content_length == 5
    data = conn.next_event()
    assert isinstance(data, Data) and data.data == b"hello"
    assert conn.trailing_data == GET
    assert isinstance(conn.next_event(), EndOfMessage)
    assert conn.next_event() is PAUSED
    assert conn.next_event() is PAUSED
    assert conn.trailing_data == GET
    conn.start_next_cycle()
    second = conn.next_event()
    assert isinstance(second, Request) and second.method == "GET"
    assert conn.trailing_data == b""
    assert not conn.has_buffered_data


def test_trailing_data_while_paused_keeps_growing() -> None:
    conn = Connection()
    conn.receive_data(GET)
    assert isinstance(conn.next_event(), Request)
    conn.receive_data(b"GET /a")
    conn.receive_data(b" HTTP/1.1\r\n")
    assert conn.next_event() is PAUSED
    assert conn.trailing_data == b"GET /a HTTP/1.1\r\n"


def test_next_event_chunked_body_data_never_empty() -> None:
    conn = Connection()
    conn.receive_data(b"POST / HTTP/1.1\r\nHost: example.com\r\nTransfer-Encoding: chunked\r\n\r\n")
    assert isinstance(conn.next_event(), Request)
    assert conn.next_event() is NEED_DATA
    conn.receive_data(b"5\r\n")
    assert conn.next_event() is NEED_DATA
    conn.receive_data(b"he")
    data = conn.next_event()
    assert isinstance(data, Data) and data.data == b"he"
    assert conn.next_event() is NEED_DATA
    conn.receive_data(b"llo\r\n0\r\n\r\n")
    data = conn.next_event()
    assert isinstance(data, Data) and data.data == b"llo"
    assert isinstance(conn.next_event(), EndOfMessage)


def test_request_has_body_false_for_zero_length() -> None:
    conn = Connection()
    conn.receive_data(b"POST / HTTP/1.1\r\nHost: example.com\r\nContent-Length: 0\r\n\r\n")
    request = conn.next_event()
    assert isinstance(request, Request) and not request.has_body
    assert conn.next_event() is PAUSED


def test_next_event_after_error_stays_broken() -> None:
    conn = Connection()
    conn.receive_data(b"GET / HTTP/1.1\r\n\r\n")
    with pytest.raises(RemoteProtocolError):
        conn.next_event()
    conn.receive_data(GET)
    with pytest.raises(RemoteProtocolError, match="broken"):
        conn.next_event()
    assert conn.is_broken


def test_next_event_request_line_limit_checked_before_crlf_414() -> None:
    conn = Connection(limits=Limits(max_request_line=32))
    conn.receive_data(b"GET /" + b"a" * 40)
    with pytest.raises(RemoteProtocolError) as info:
        conn.next_event()
    assert info.value.status_hint == 414


def test_next_event_header_limit_checked_before_end_of_head_431() -> None:
    conn = Connection(limits=Limits(max_header_bytes=32))
    conn.receive_data(b"GET / HTTP/1.1\r\nX-Long: " + b"a" * 40)
    with pytest.raises(RemoteProtocolError) as info:
        conn.next_event()
    assert info.value.status_hint == 431


def test_next_event_no_body_size_limit_accepts_large_length() -> None:
    conn = Connection(limits=Limits(max_body_size=None))
    conn.receive_data(b"PUT / HTTP/1.1\r\nHost: example.com\r\nContent-Length: 99999999999\r\n\r\n")
    request = conn.next_event()
    assert isinstance(request, Request) and request.content_length == 99999999999


def test_next_event_many_leading_empty_lines_no_recursion_error() -> None:
    # Before 4b2a61d, _next_head recursed once per 8 empty lines: RecursionError.
    conn = Connection()
    conn.receive_data(b"\r\n" * 20000 + GET)
    try:
        event = conn.next_event()
    except RemoteProtocolError as exc:
        assert exc.status_hint == 400
    else:
        assert isinstance(event, Request)


def test_next_event_head_in_small_pieces_linear_time() -> None:
    # Before 4b2a61d, every call rescanned the whole buffer for bare LFs:
    # 64 KiB in 8-byte pieces took ~2.5 s of CPU, in 1-byte pieces ~25 s.
    head = b"GET / HTTP/1.1\r\nHost: example.com\r\n" + b"X-Pad: " + b"p" * 60000 + b"\r\n\r\n"
    conn = Connection()
    started = time.process_time()
    for i in range(0, len(head), 8):
        conn.receive_data(head[i : i + 8])
        event = conn.next_event()
    assert isinstance(event, Request)
    assert time.process_time() - started < 0.5


def test_next_event_field_value_of_spaces_then_nul_linear_time() -> None:
    # Before 4b2a61d, the field regex backtracked quadratically here: 32000
    # spaces took ~3.5 s, a 64 KiB field ~12 s of CPU for one request.
    conn = Connection()
    conn.receive_data(b"GET / HTTP/1.1\r\nHost: example.com\r\nX:" + b" " * 32000 + b"\x00\r\n\r\n")
    started = time.process_time()
    with pytest.raises(RemoteProtocolError, match="invalid character"):
        conn.next_event()
    assert time.process_time() - started < 0.5


def test_next_event_trailer_in_small_pieces_linear_time() -> None:
    # 32,500 calls: about 0.1 s of CPU, 0.25 s under CI's coverage tracing on
    # a slow VM. A per-call copy or Python-level rescan of the trailer buffer
    # (what the head had before 4b2a61d) costs seconds, so the bound is 1 s.
    data = b"0\r\nX-Trailer: " + b"v" * 65000 + b"\r\n\r\n"
    conn = Connection()
    conn.receive_data(b"POST / HTTP/1.1\r\nHost: example.com\r\nTransfer-Encoding: chunked\r\n\r\n")
    assert isinstance(conn.next_event(), Request)
    started = time.process_time()
    for i in range(0, len(data), 2):
        conn.receive_data(data[i : i + 2])
        event = conn.next_event()
    assert isinstance(event, EndOfMessage)
    assert time.process_time() - started < 1.0


def test_next_event_invalid_host_message_quotes_at_most_80_characters() -> None:
    conn = Connection()
    conn.receive_data(b"GET / HTTP/1.1\r\nHost: a b" + b"x" * 5000 + b"\r\n\r\n")
    with pytest.raises(RemoteProtocolError, match="invalid Host header value") as info:
        conn.next_event()
    assert len(str(info.value)) < 120


def _feed(data: bytes, limits: Limits | None = None) -> Connection:
    conn = Connection(limits) if limits else Connection()
    conn.receive_data(data)
    return conn


def test_next_event_connection_token_other_than_close_keeps_default() -> None:
    request = _feed(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade, foo\r\n\r\n").next_event()
    assert isinstance(request, Request) and request.keep_alive is True


def test_next_event_multi_digit_version_rejected_505() -> None:
    with pytest.raises(RemoteProtocolError, match="HTTP/10.0 is not supported") as info:
        _feed(b"GET / HTTP/10.0\r\nHost: a\r\n\r\n").next_event()
    assert info.value.status_hint == 505


def test_next_event_keeps_the_request_line_user_agent_and_referer_as_sent() -> None:
    request = _feed(
        b"GET /a?b HTTP/1.4\r\nHost: a\r\nuser-AGENT:  ua/1 \t\r\nReferer: http://r/\r\n"
        b"User-Agent: ua/2\r\n\r\n"
    ).next_event()
    assert isinstance(request, Request)
    assert request.line == "GET /a?b HTTP/1.4" and request.http_version == "1.1"
    assert request.user_agent == "ua/2"  # the last one, as the headers list ends
    assert request.referer == "http://r/"
    bare = _feed(b"GET / HTTP/1.0\r\n\r\n").next_event()
    assert isinstance(bare, Request)
    assert (bare.line, bare.user_agent, bare.referer) == ("GET / HTTP/1.0", None, None)
    # Built without a line (not by the parser): made from the fields.
    made = Request("PUT", "/x", "/x", "", "1.0", [], None, None, False, False, False)
    assert (made.line, made.user_agent, made.referer) == ("PUT /x HTTP/1.0", None, None)


def test_next_event_many_distinct_hosts_all_checked() -> None:
    for i in range(1100):
        request = _feed(b"GET / HTTP/1.1\r\nHost: h%d.example\r\n\r\n" % i).next_event()
        assert isinstance(request, Request) and request.host == f"h{i}.example"
    with pytest.raises(RemoteProtocolError, match="invalid Host"):
        _feed(b"GET / HTTP/1.1\r\nHost: h 1\r\n\r\n").next_event()


def test_next_event_chunk_size_line_too_long_whole() -> None:
    conn = _feed(b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" + b"5;" + b"x" * 5000 + b"\r\n")
    assert isinstance(conn.next_event(), Request)
    with pytest.raises(RemoteProtocolError, match="chunk size line too long"):
        conn.next_event()


def test_next_event_trailer_line_over_limit_without_crlf() -> None:
    conn = _feed(
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-T: " + b"v" * 200,
        Limits(max_header_bytes=100),
    )
    assert isinstance(conn.next_event(), Request)
    with pytest.raises(RemoteProtocolError, match="trailer section larger than 100 bytes") as info:
        conn.next_event()
    assert info.value.status_hint == 431


def test_next_event_trailer_lines_over_limit() -> None:
    trailers = b"".join(b"X-%d: v\r\n" % i for i in range(30))
    conn = _feed(
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n" + trailers + b"\r\n",
        Limits(max_header_bytes=100),
    )
    assert isinstance(conn.next_event(), Request)
    with pytest.raises(RemoteProtocolError, match="trailer section larger than 100 bytes"):
        conn.next_event()


def test_events_repr_names_the_event() -> None:
    request = _feed(b"GET /x HTTP/1.1\r\nHost: a\r\n\r\n").next_event()
    assert repr(request) == "<Request GET /x HTTP/1.1>"
    assert repr(Data(b"abc")) == "<Data 3 bytes>"
    assert repr(EndOfMessage()) == "<EndOfMessage>"
    assert repr(ConnectionClosed()) == "<ConnectionClosed>"


@pytest.mark.parametrize("count", [1, 2, MAX_EMPTY_LINES])
def test_a_few_empty_lines_before_the_request_line_are_ignored(count: int) -> None:
    conn = Connection()
    conn.receive_data(b"\r\n" * count + GET)
    assert isinstance(conn.next_event(), Request)


def test_too_many_empty_lines_before_the_request_line_are_a_400() -> None:
    conn = Connection()
    conn.receive_data(b"\r\n" * (MAX_EMPTY_LINES + 1) + GET)
    with pytest.raises(RemoteProtocolError, match="empty lines") as info:
        conn.next_event()
    assert info.value.status_hint == 400


def test_empty_lines_dripped_one_at_a_time_count_and_start_the_head() -> None:
    # A CRLF drip: each arrives alone and is discarded, but the connection
    # is no longer idle (its header deadline runs) and the count adds up.
    conn = Connection()
    assert conn.is_idle and not conn.is_receiving_head
    conn.receive_data(b"\r\n")
    assert conn.next_event() is NEED_DATA
    assert not conn.is_idle and conn.is_receiving_head
    for _ in range(MAX_EMPTY_LINES - 1):
        conn.receive_data(b"\r\n")
        assert conn.next_event() is NEED_DATA
    conn.receive_data(b"\r\n")
    with pytest.raises(RemoteProtocolError, match="empty lines"):
        conn.next_event()


def test_the_empty_line_count_starts_again_with_each_request() -> None:
    conn = Connection()
    for _ in range(3):
        conn.receive_data(b"\r\n" * MAX_EMPTY_LINES + GET)
        assert isinstance(conn.next_event(), Request)
        conn.start_next_cycle()
        assert conn.is_idle
