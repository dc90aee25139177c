"""Response serialization: status line and header section, chunks, error responses."""

from __future__ import annotations

import pytest

from sluice.server.protocol import Connection
from sluice.server.protocol import Data
from sluice.server.protocol import EndOfMessage
from sluice.server.protocol import Request
from sluice.server.protocol.writer import CONTINUE
from sluice.server.protocol.writer import LAST_CHUNK
from sluice.server.protocol.writer import format_chunk
from sluice.server.protocol.writer import format_error
from sluice.server.protocol.writer import format_head
from sluice.server.protocol.writer import reason_phrase

DATE = "Sun, 06 Nov 1994 08:49:37 GMT"


def _split_response(raw: bytes) -> tuple[str, list[tuple[str, str]], bytes]:
    head, sep, body = raw.partition(b"\r\n\r\n")
    assert sep, "no end of head"
    status, *lines = head.decode("latin-1").split("\r\n")
    headers = []
    for line in lines:
        name, colon, value = line.partition(": ")
        assert colon, line
        headers.append((name, value))
    return status, headers, body


# -- format_head -----------------------------------------------------------------


def test_format_head_status_and_headers_in_order() -> None:
    raw = format_head("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    assert raw == b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\n"


def test_format_head_no_headers_ends_with_empty_line() -> None:
    assert format_head("204 No Content", []) == b"HTTP/1.1 204 No Content\r\n\r\n"


def test_format_head_extra_lines_appended_last() -> None:
    raw = format_head("200 OK", [("X-A", "1")], extra="Date: x\r\nServer: sluice\r\n")
    assert raw == b"HTTP/1.1 200 OK\r\nX-A: 1\r\nDate: x\r\nServer: sluice\r\n\r\n"


def test_format_head_repeated_headers_kept() -> None:
    raw = format_head("200 OK", [("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")])
    assert _split_response(raw)[1] == [("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")]


def test_format_head_latin1_value_encoded_as_latin1() -> None:
    raw = format_head("200 OK", [("X-Name", "caf\xe9")])
    assert b"X-Name: caf\xe9\r\n" in raw


def test_format_head_non_latin1_value_raises() -> None:
    with pytest.raises(UnicodeEncodeError):
        format_head("200 OK", [("X-Name", "\u2713")])


def test_format_head_returns_bytes() -> None:
    assert isinstance(format_head("200 OK", []), bytes)


# -- format_chunk ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param(b"a", b"1\r\na\r\n", id="one-byte"),
        pytest.param(b"hello world", b"b\r\nhello world\r\n", id="lower-hex"),
        pytest.param(b"x" * 255, b"ff\r\n" + b"x" * 255 + b"\r\n", id="ff"),
        pytest.param(b"x" * 4096, b"1000\r\n" + b"x" * 4096 + b"\r\n", id="4096"),
        pytest.param(b"\r\n0\r\n\r\n", b"7\r\n\r\n0\r\n\r\n\r\n", id="opaque-data"),
    ],
)
def test_format_chunk_size_in_hex_then_data(data: bytes, expected: bytes) -> None:
    assert format_chunk(data) == expected


def test_format_chunk_round_trips_through_parser() -> None:
    body = [b"hello", b" ", b"x" * 300]
    conn = Connection()
    conn.receive_data(
        b"POST / HTTP/1.1\r\nHost: example.com\r\nTransfer-Encoding: chunked\r\n\r\n"
        + b"".join(format_chunk(part) for part in body)
        + LAST_CHUNK
    )
    assert isinstance(conn.next_event(), Request)
    received = b""
    while True:
        event = conn.next_event()
        if isinstance(event, EndOfMessage):
            break
        assert isinstance(event, Data)
        received += event.data
    assert received == b"".join(body)


def test_last_chunk_is_zero_size_with_empty_trailer() -> None:
    assert LAST_CHUNK == b"0\r\n\r\n"


def test_continue_is_interim_100_response() -> None:
    assert CONTINUE == b"HTTP/1.1 100 Continue\r\n\r\n"


# -- reason_phrase ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "phrase"),
    [
        (100, "Continue"),
        (200, "OK"),
        (204, "No Content"),
        (400, "Bad Request"),
        (404, "Not Found"),
        # RFC 9110 names; Python before 3.13 still has the RFC 7231 ones.
        (413, ("Content Too Large", "Request Entity Too Large")),
        (414, ("URI Too Long", "Request-URI Too Long")),
        (417, "Expectation Failed"),
        (431, "Request Header Fields Too Large"),
        (500, "Internal Server Error"),
        (501, "Not Implemented"),
        (505, "HTTP Version Not Supported"),
    ],
)
def test_reason_phrase_known_code_standard_phrase(code: int, phrase: str | tuple[str, ...]) -> None:
    assert reason_phrase(code) in ((phrase,) if isinstance(phrase, str) else phrase)


@pytest.mark.parametrize("code", [0, 299, 599, 999, -1])
def test_reason_phrase_unknown_code_unknown(code: int) -> None:
    assert reason_phrase(code) == "Unknown"


# -- format_error ----------------------------------------------------------------


def test_format_error_complete_closing_response() -> None:
    raw = format_error(400, "bad things", DATE)
    status, headers, body = _split_response(raw)
    assert status == "HTTP/1.1 400 Bad Request"
    assert headers == [
        ("Content-Type", "text/plain; charset=utf-8"),
        ("Content-Length", str(len(body))),
        ("Connection", "close"),
        ("Date", DATE),
        ("Server", "sluice"),
    ]
    assert body == b"400 Bad Request: bad things\n"


def test_format_error_server_name_used() -> None:
    _, headers, _ = _split_response(format_error(505, "no", DATE, server="other/1.0"))
    assert ("Server", "other/1.0") in headers


def test_format_error_request_id_sent_last() -> None:
    _, headers, body = _split_response(format_error(431, "too big", DATE, request_id="abc-1"))
    assert headers[-2:] == [("Server", "sluice"), ("X-Request-ID", "abc-1")]
    assert body == b"431 Request Header Fields Too Large: too big\n"


def test_format_error_unknown_code_unknown_reason() -> None:
    status, _, body = _split_response(format_error(599, "odd", DATE))
    assert status == "HTTP/1.1 599 Unknown"
    assert body == b"599 Unknown: odd\n"


@pytest.mark.parametrize("code", [400, 413, 414, 417, 431, 501, 505])
def test_format_error_content_length_matches_body(code: int) -> None:
    raw = format_error(code, "message for the client", DATE)
    _, headers, body = _split_response(raw)
    assert dict(headers)["Content-Length"] == str(len(body))
    assert body.startswith(f"{code} {reason_phrase(code)}: ".encode())


def test_format_error_message_with_crlf_stays_in_body() -> None:
    raw = format_error(400, "a\r\nX-Injected: 1", DATE)
    _, headers, body = _split_response(raw)
    assert all(name != "X-Injected" for name, _ in headers)
    assert dict(headers)["Content-Length"] == str(len(body))


def test_format_error_non_ascii_message_body_is_utf8() -> None:
    _, _, body = _split_response(format_error(400, "invalid Host header value 'caf\xe9'", DATE))
    assert body.decode("utf-8") == "400 Bad Request: invalid Host header value 'caf\xe9'\n"


def test_format_error_empty_message_body_is_reason_phrase() -> None:
    raw = format_error(500, "", DATE)
    assert raw.startswith(b"HTTP/1.1 500 Internal Server Error\r\n")
    assert raw.endswith(b"Content-Length: 22\r\nConnection: close\r\nDate: " + DATE.encode() + b"\r\nServer: sluice\r\n\r\nInternal Server Error\n")
