"""Tests of the urlencoded and streaming multipart parsers, in every chunking."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest

from sluice.errors import BadRequest
from sluice.errors import ContentTooLarge
from sluice.wrappers.formparser import MultipartParser
from sluice.wrappers.formparser import parse_urlencoded

BODY = (
    b"--bnd\r\n"
    b'Content-Disposition: form-data; name="a"\r\n\r\n'
    b"first\r\n--bn\r\n"
    b"--bnd\r\n"
    b'Content-Disposition: form-data; name="f"; filename="x.txt"\r\n'
    b"Content-Type: text/plain\r\n\r\n"
    b"file body\r\n"
    b"--bnd--\r\n"
)


def _reader(data: bytes, step: int) -> Callable[[int], bytes]:
    stream = io.BytesIO(data)
    return lambda size: stream.read(min(size, step))


@pytest.mark.parametrize("step", [1, 2, 7, 64 * 1024], ids=["bytewise", "two", "seven", "whole"])
def test_multipart_parser_any_chunking_same_result(step: int) -> None:
    form, files = MultipartParser("bnd").parse(_reader(BODY, step))
    assert form.to_dict() == {"a": "first\r\n--bn"}
    assert files["f"].filename == "x.txt"
    assert files["f"].read() == b"file body"
    files["f"].close()


def test_multipart_parser_invalid_boundary_rejected() -> None:
    with pytest.raises(BadRequest, match="invalid boundary"):
        MultipartParser("x" * 71)


@pytest.mark.parametrize("step", [1024, 64 * 1024], ids=["small reads", "one read"])
@pytest.mark.parametrize("complete", [False, True], ids=["unterminated", "terminated"])
def test_multipart_parser_part_headers_too_large_rejected(step: int, complete: bool) -> None:
    body = b"--b\r\nContent-Disposition: form-data; name=a\r\nX: " + b"y" * 10_000
    if complete:
        body += b"\r\n\r\nvalue\r\n--b--\r\n"
    with pytest.raises(BadRequest, match="headers exceed 8192 bytes"):
        MultipartParser("b").parse(_reader(body, step))


def test_multipart_parser_part_headers_at_the_limit_accepted() -> None:
    head = b"Content-Disposition: form-data; name=a\r\nX: "
    head += b"y" * (8192 - len(head))
    body = b"--b\r\n" + head + b"\r\n\r\nvalue\r\n--b--\r\n"
    form, _ = MultipartParser("b").parse(_reader(body, 64 * 1024))
    assert form["a"] == "value"


def test_multipart_parser_field_not_utf8_rejected() -> None:
    body = b'--b\r\nContent-Disposition: form-data; name="a"\r\n\r\n\xff\r\n--b--'
    with pytest.raises(BadRequest, match="not valid utf-8"):
        MultipartParser("b").parse(_reader(body, 100))


def test_parse_urlencoded_bad_percent_rejected() -> None:
    with pytest.raises(BadRequest, match="form body has a '%'"):
        parse_urlencoded(b"a=%G1", "form body")


def test_parse_urlencoded_too_many_fields_413() -> None:
    with pytest.raises(ContentTooLarge, match="more than 2 fields"):
        parse_urlencoded(b"a=1&b=2&c=3", max_fields=2)


def test_multipart_parser_truncated_file_part_rejected_and_closed() -> None:
    body = b'--b\r\nContent-Disposition: form-data; name="f"; filename="x"\r\n\r\npartial'
    with pytest.raises(BadRequest, match="ends before its closing"):
        MultipartParser("b").parse(_reader(body, 4))


@pytest.mark.parametrize(
    ("body", "message"),
    [
        pytest.param(b"--b\r\nno colon here\r\n\r\nv\r\n--b--", "header line has no ':'", id="header-without-colon"),
        pytest.param(b"--b junk\r\n", "junk after a boundary delimiter", id="junk-after-delimiter"),
        pytest.param(b"--b\r\n\r\nvalue\r\n--b--", "lacks 'Content-Disposition", id="no-headers"),
        pytest.param(b'--b\r\nContent-Disposition: form-data; name="a"\r\n', "ends inside a part's headers", id="ends-in-headers"),
        pytest.param(b"--b\r\nX\x01: y\r\n\r\nv\r\n--b--", "header is malformed", id="control-character-in-name"),
        pytest.param(b"--b", "ends early", id="ends-after-first-delimiter"),
    ],
)
@pytest.mark.parametrize("step", [1, 64 * 1024], ids=["bytewise", "whole"])
def test_multipart_parser_malformed_bodies_say_what_is_wrong(body: bytes, message: str, step: int) -> None:
    with pytest.raises(BadRequest, match=message):
        MultipartParser("b").parse(_reader(body, step))
