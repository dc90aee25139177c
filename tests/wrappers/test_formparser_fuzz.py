"""Property test: any multipart body built from fields and files parses back to them, in any chunking."""

from __future__ import annotations

import io
from collections.abc import Callable

from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from sluice.wrappers.formparser import MultipartParser

BOUNDARY = "b0und4ry"
# Values built from pieces that look like the delimiter, CRLFs and dashes,
# so the parser's search for the delimiter is tried at every near miss.
PIECES = st.sampled_from(
    [b"\r\n", b"\r\n--", b"--", b"\r\n--b0und", b"\r\n--b0und4r", b"b0und4ry", b"\r", b"\n", b"x", b"\xff", b"-"]
)
# RFC 2046 §5.1.1: the delimiter never occurs inside a part (senders pick the
# boundary so); a value that holds it, or starts the line with it, is not a valid body.
VALUES = (
    st.lists(st.one_of(PIECES, st.binary(max_size=40)), max_size=12)
    .map(b"".join)
    .filter(lambda v: b"\r\n--" + BOUNDARY.encode() not in v and not v.startswith(b"--" + BOUNDARY.encode()))
)
NAMES = st.text(alphabet="abcdefghij_", min_size=1, max_size=6)


def _body(parts: list[tuple[str, bytes, bool]], preamble: bytes) -> bytes:
    out = [preamble, b"\r\n" if preamble else b""]
    for name, value, is_file in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{name}.bin"' if is_file else "")
        out.append(f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n\r\n".encode())
        out.append(value + b"\r\n")
    out.append(f"--{BOUNDARY}--\r\n".encode())
    return b"".join(out)


def _reader(data: bytes, steps: list[int]) -> Callable[[int], bytes]:
    stream = io.BytesIO(data)
    sizes = iter(steps)
    return lambda size: stream.read(min(size, next(sizes, size)))


@settings(max_examples=300, deadline=None)
@given(
    parts=st.lists(st.tuples(NAMES, VALUES, st.booleans()), max_size=6),
    preamble=st.sampled_from([b"", b"preamble text", b"--not-it"]),
    steps=st.lists(st.integers(min_value=1, max_value=70), max_size=400),
)
def test_multipart_round_trip_in_any_chunking(parts: list[tuple[str, bytes, bool]], preamble: bytes, steps: list[int]) -> None:
    # Field values must decode as UTF-8; files may hold any bytes.
    parts = [(n, v if f else v.decode("utf-8", "replace").encode(), f) for n, v, f in parts]
    form, files = MultipartParser(BOUNDARY).parse(_reader(_body(parts, preamble), steps))
    try:
        # A MultiDict keeps each name's values in order (names in first-seen order).
        fields: dict[str, list[str]] = {}
        uploads: dict[str, list[bytes]] = {}
        for name, value, is_file in parts:
            if is_file:
                uploads.setdefault(name, []).append(value)
            else:
                fields.setdefault(name, []).append(value.decode())
        assert {name: form.getlist(name) for name in form} == fields
        assert {name: [upload.read() for upload in files.getlist(name)] for name in files} == uploads
    finally:
        for _, upload in files.items(multi=True):
            upload.close()
