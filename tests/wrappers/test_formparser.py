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


def _parse_one_part(head: bytes, value: bytes = b"v") -> tuple[list[tuple[str, str]], list[tuple[str, str | None, str | None, list[tuple[str, str]], bytes]]]:
    body = b"--b\r\n" + head + b"\r\n\r\n" + value + b"\r\n--b--\r\n"
    form, files = MultipartParser("b").parse(_reader(body, 64 * 1024))
    uploads = [(key, f.filename, f.content_type, list(f.headers), f.read()) for key, f in files.items(multi=True)]
    for _, upload in files.items(multi=True):
        upload.close()
    return form.items(multi=True), uploads


@pytest.mark.parametrize(
    ("browser", "general"),
    [
        pytest.param(b'Content-Disposition: form-data; name="a"', b'content-disposition:   form-data;  name="a"  ', id="field"),
        pytest.param(b'Content-Disposition: form-data; name="a"', b"Content-Disposition: form-data; name=a", id="unquoted"),
        pytest.param(b'Content-Disposition: form-data; name="a"', b'Content-Disposition: FORM-DATA; name="a"', id="case"),
        pytest.param(
            b'Content-Disposition: form-data; name="f"; filename="x y.txt"\r\nContent-Type: text/plain',
            b'CONTENT-DISPOSITION: form-data; filename="x y.txt"; name="f"\r\ncontent-type:text/plain',
            id="file",
        ),
        pytest.param(
            b'Content-Disposition: form-data; name="a"\r\nContent-Type: text/plain; charset=latin-1',
            b'Content-Type: text/plain; charset=latin-1\r\nContent-Disposition: form-data; name="a"',
            id="charset-header-order",
        ),
        pytest.param(
            'Content-Disposition: form-data; name="f"; filename="r\u00e9sum\u00e9.pdf"'.encode(),
            b"Content-Disposition: form-data; name=\"f\"; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf",
            id="utf8-filename",
        ),
    ],
)
def test_multipart_parser_browser_header_block_same_as_general_path(browser: bytes, general: bytes) -> None:
    """The one-match fast path for the browser's header block agrees with the general parser."""
    fast_form, fast_files = _parse_one_part(browser, b"caf\xe9")  if b"latin-1" in browser else _parse_one_part(browser)
    slow_form, slow_files = _parse_one_part(general, b"caf\xe9") if b"latin-1" in general else _parse_one_part(general)
    assert fast_form == slow_form
    # Header names keep the client's spelling; compare them case-insensitively.
    assert [(k, n, t, b) for k, n, t, _, b in fast_files] == [(k, n, t, b) for k, n, t, _, b in slow_files]


def test_multipart_parser_browser_header_block_values() -> None:
    form, files = _parse_one_part(b'Content-Disposition: form-data; name="f"; filename="a\\b.txt"\r\nContent-Type: image/png')
    assert form == []
    assert files == [("f", "ab.txt", "image/png", [("Content-Disposition", 'form-data; name="f"; filename="a\\b.txt"'), ("Content-Type", "image/png")], b"v")]


def test_multipart_parser_empty_filename_is_a_file_part() -> None:
    # Browsers send filename="" for an empty file input; Werkzeug keeps it as a file too.
    form, files = _parse_one_part(b'Content-Disposition: form-data; name="f"; filename=""', b"")
    assert form == []
    assert [(key, name, data) for key, name, _, _, data in files] == [("f", "", b"")]


@pytest.mark.parametrize("step", [1, 3, 64 * 1024], ids=["bytewise", "three", "whole"])
def test_multipart_parser_file_data_with_delimiter_look_alikes(step: int) -> None:
    # A CR near the end of each read must be held back only while it may start a delimiter.
    content = b"\r\n--bnd12\r\r\n-\r\n--\r\n--bnd1\r" * 300 + b"\r"
    body = b'--bnd123\r\nContent-Disposition: form-data; name="f"; filename="x"\r\n\r\n' + content + b"\r\n--bnd123--\r\n"
    _, files = MultipartParser("bnd123").parse(_reader(body, step))
    assert files["f"].read() == content
    files["f"].close()


@pytest.mark.parametrize("size", [0, 1, 64 * 1024 - 1, 64 * 1024, 64 * 1024 + 1, 300_000])
def test_multipart_parser_field_sizes_across_reads(size: int) -> None:
    value = bytes([97 + i % 26 for i in range(size)])
    body = b'--b\r\nContent-Disposition: form-data; name="a"\r\n\r\n' + value + b"\r\n--b--\r\n"
    form, _ = MultipartParser("b").parse(_reader(body, 64 * 1024))
    assert form["a"] == value.decode()


def test_multipart_parser_limit_stops_reading() -> None:
    stream = io.BytesIO(b'--b\r\nContent-Disposition: form-data; name="a"\r\n\r\n' + b"x" * 10_000_000)
    with pytest.raises(ContentTooLarge, match=r"exceed 1000 bytes \(MAX_FORM_MEMORY_SIZE\)"):
        MultipartParser("b", max_form_memory_size=1000).parse(stream.read)
    assert stream.tell() == 64 * 1024  # one read, not the rest of the body


def test_multipart_parser_max_parts_stops_reading() -> None:
    part = b'--b\r\nContent-Disposition: form-data; name="a"\r\n\r\nv\r\n'
    stream = io.BytesIO(part * 100_000)
    with pytest.raises(ContentTooLarge, match=r"more than 10 parts \(MAX_FORM_PARTS\)"):
        MultipartParser("b", max_form_parts=10).parse(stream.read)
    assert stream.tell() == 64 * 1024


@pytest.mark.parametrize(("threshold", "on_disk"), [(0, True), (99, True), (100, False), (None, False)])
def test_multipart_parser_max_file_memory_size_spools(threshold: int | None, on_disk: bool) -> None:
    body = b'--b\r\nContent-Disposition: form-data; name="f"; filename="x"\r\n\r\n' + b"z" * 100 + b"\r\n--b--\r\n"
    _, files = MultipartParser("b", max_file_memory_size=threshold).parse(_reader(body, 7))
    stream = files["f"].stream
    try:
        # SpooledTemporaryFile keeps no public flag; _rolled is the stdlib's own.
        assert getattr(stream, "_rolled", True) is on_disk
        assert files["f"].read() == b"z" * 100
    finally:
        files["f"].close()
