"""Parse request bodies and query strings into fields and files: urlencoded and multipart.

Design: the multipart parser is a streaming state machine over a
``read(n)`` callable. It holds at most one read chunk plus the length of the
boundary delimiter in memory: part data before the last ``len(delimiter)``
bytes of the buffer cannot contain the delimiter and is handed on at once,
to a ``SpooledTemporaryFile`` for files (memory up to a threshold, then
disk) or to a byte buffer for plain fields. Plain field bytes count against
``max_form_memory_size`` (413 when exceeded), as Werkzeug does, while files
do not: they may be large, so the limit on them is the request's
``max_content_length``. Every malformed input is a :class:`BadRequest` with
a message that says what was wrong. RFC 7578 is the reference.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from tempfile import SpooledTemporaryFile
from typing import IO
from urllib.parse import unquote_to_bytes

from sluice.errors import BadRequest
from sluice.errors import ContentTooLarge
from sluice.wrappers.datastructures import FileStorage
from sluice.wrappers.datastructures import Headers
from sluice.wrappers.datastructures import MultiDict
from sluice.wrappers.http import parse_options_header

_BAD_PERCENT_RE = re.compile(rb"%(?![0-9A-Fa-f]{2})")
_CHUNK_SIZE = 64 * 1024
_MAX_PART_HEADER_SIZE = 8 * 1024
_FILE_SPOOL_SIZE = 512 * 1024
# RFC 2046 §5.1.1: 1 to 70 characters from a restricted set.
_BOUNDARY_RE = re.compile(r"[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]")


def _decode_component(raw: bytes, what: str) -> str:
    if _BAD_PERCENT_RE.search(raw):
        raise BadRequest(f"The {what} has a '%' not followed by two hex digits; percent-encode it as %25.")
    try:
        return unquote_to_bytes(raw.replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest(f"The {what} is not valid UTF-8 after percent-decoding.") from None


def parse_urlencoded(data: bytes, what: str = "query string", max_fields: int | None = None) -> MultiDict[str]:
    """Parse ``application/x-www-form-urlencoded`` bytes (a query string or a form body).

    Fields are split on ``&``; ``+`` is a space; a field without ``=`` has
    an empty value; empty fields are skipped.

    Args:
        data: the raw bytes.
        what: how to name the input in error messages.
        max_fields: the most fields accepted, or None for no limit.

    Returns:
        The fields in order.

    Raises:
        BadRequest: a ``%`` is not followed by two hex digits, or the decoded
            bytes are not UTF-8.
        ContentTooLarge: there are more than ``max_fields`` fields.
    """
    result: MultiDict[str] = MultiDict()
    if not data:
        return result
    count = 0
    for field in data.split(b"&"):
        if not field:
            continue
        count += 1
        if max_fields is not None and count > max_fields:
            raise ContentTooLarge(f"The {what} has more than {max_fields} fields.")
        key, _, value = field.partition(b"=")
        result.add(_decode_component(key, what), _decode_component(value, what))
    return result


def _parse_part_headers(block: bytes) -> Headers:
    headers = Headers()
    for line in block.split(b"\r\n"):
        if not line:
            continue
        name, sep, value = line.partition(b":")
        if not sep:
            raise BadRequest("A multipart part header line has no ':'; the body is malformed.")
        try:
            headers.add(name.decode("ascii").strip(), value.decode("utf-8").strip())
        except (UnicodeDecodeError, ValueError):
            raise BadRequest("A multipart part header is malformed (bad name or control characters).") from None
    return headers


class MultipartParser:
    """Stream a ``multipart/form-data`` body into form fields and files.

    Args:
        boundary: the ``boundary`` parameter of the Content-Type.
        max_form_memory_size: the most bytes of plain (non-file) field data
            kept in memory, or None for no limit.
        max_form_parts: the most parts accepted, or None for no limit.

    Raises:
        BadRequest: the boundary is missing or not RFC 2046 valid.
    """

    __slots__ = ("_delimiter", "max_form_memory_size", "max_form_parts")

    def __init__(self, boundary: str, max_form_memory_size: int | None = None, max_form_parts: int | None = None) -> None:
        if not _BOUNDARY_RE.fullmatch(boundary):
            raise BadRequest("The multipart Content-Type has a missing or invalid boundary parameter.")
        self._delimiter = b"\r\n--" + boundary.encode("ascii")
        self.max_form_memory_size = max_form_memory_size
        self.max_form_parts = max_form_parts

    def parse(self, read: Callable[[int], bytes]) -> tuple[MultiDict[str], MultiDict[FileStorage]]:
        """Read the whole body and return its fields and files.

        On an error, the files already received are closed (their temporary
        files deleted) before the error propagates.

        Args:
            read: returns up to n bytes, ``b""`` at the end of the body.

        Returns:
            The form fields and the uploaded files.

        Raises:
            BadRequest: the body is malformed or ends early.
            ContentTooLarge: a limit was exceeded.
        """
        form: MultiDict[str] = MultiDict()
        files: MultiDict[FileStorage] = MultiDict()
        try:
            self._parse(read, form, files)
        except BaseException:
            for _, upload in files.items(multi=True):
                upload.close()
            raise
        return form, files

    def _parse(self, read: Callable[[int], bytes], form: MultiDict[str], files: MultiDict[FileStorage]) -> None:
        delimiter = self._delimiter
        size = len(delimiter)
        # The body starts with the delimiter without its CRLF; prepending one
        # lets a single search pattern serve for every part. ``pos`` is where
        # the unparsed bytes start: PERF, the buffer is cut only when it is
        # refilled, not after every part (benchmarks/multipart.py: 100 small
        # parts).
        buffer = b"\r\n"
        pos = 0
        eof = False

        def fill() -> None:
            nonlocal buffer, pos, eof
            chunk = read(_CHUNK_SIZE)
            if chunk:
                buffer = buffer[pos:] + chunk
                pos = 0
            else:
                eof = True

        # Preamble (RFC 2046 §5.1.1): skip everything before the first delimiter.
        while True:
            index = buffer.find(delimiter, pos)
            if index >= 0:
                pos = index + size
                break
            if eof:
                raise BadRequest("The multipart body has no boundary delimiter; check the boundary parameter.")
            pos = max(pos, len(buffer) - size)
            fill()

        parts = 0
        memory = 0
        while True:
            # After a delimiter: "--" closes the body, else optional blanks then CRLF.
            while len(buffer) - pos < 2 and not eof:
                fill()
            if buffer.startswith(b"--", pos):
                return
            while True:
                end = buffer.find(b"\r\n", pos)
                if end >= 0 or eof or len(buffer) - pos > _MAX_PART_HEADER_SIZE:
                    break
                fill()
            if end < 0 or buffer[pos:end].strip(b" \t"):
                raise BadRequest("The multipart body ends early or has junk after a boundary delimiter.")
            pos = end + 2

            while True:
                if buffer.startswith(b"\r\n", pos):
                    end, after = pos, pos + 2  # no header lines
                    break
                end = buffer.find(b"\r\n\r\n", pos)
                if end != -1:
                    after = end + 4
                    break
                if eof:
                    raise BadRequest("The multipart body ends inside a part's headers.")
                if len(buffer) - pos > _MAX_PART_HEADER_SIZE:
                    raise BadRequest(f"A multipart part's headers exceed {_MAX_PART_HEADER_SIZE} bytes.")
                fill()
            # The limit holds however the body was chunked (a whole header
            # block may arrive in one read).
            if end - pos > _MAX_PART_HEADER_SIZE:
                raise BadRequest(f"A multipart part's headers exceed {_MAX_PART_HEADER_SIZE} bytes.")
            headers = _parse_part_headers(buffer[pos:end])
            pos = after

            parts += 1
            if self.max_form_parts is not None and parts > self.max_form_parts:
                raise ContentTooLarge(f"The multipart body has more than {self.max_form_parts} parts.")
            disposition, options = parse_options_header(headers.get("Content-Disposition"))
            if disposition != "form-data" or "name" not in options:
                raise BadRequest("A multipart part lacks 'Content-Disposition: form-data; name=...'.")
            name = options["name"]
            filename = options.get("filename")
            content_type = headers.get("Content-Type")
            sink: IO[bytes] | None = None
            field = bytearray()
            if filename is not None:
                sink = SpooledTemporaryFile(max_size=_FILE_SPOOL_SIZE)
                # Registered at once so that an error below closes it too.
                files.add(name, FileStorage(sink, filename, name, content_type, headers))

            while True:
                index = buffer.find(delimiter, pos)
                if index >= 0:
                    data = buffer[pos:index]
                    pos = index + size
                elif eof:
                    raise BadRequest("The multipart body ends before its closing boundary delimiter.")
                else:
                    # Keep a tail that could be the start of a delimiter.
                    cut = max(pos, len(buffer) - (size - 1))
                    data = buffer[pos:cut]
                    pos = cut
                if sink is not None:
                    sink.write(data)
                else:
                    memory += len(data)
                    if self.max_form_memory_size is not None and memory > self.max_form_memory_size:
                        raise ContentTooLarge(
                            f"The form fields exceed {self.max_form_memory_size} bytes (max_form_memory_size)."
                        )
                    field += data
                if index >= 0:
                    break
                fill()

            if sink is not None:
                sink.seek(0)
            else:
                _, type_options = parse_options_header(content_type)
                charset = type_options.get("charset", "utf-8")
                try:
                    form.add(name, field.decode(charset))
                except (LookupError, UnicodeDecodeError):
                    raise BadRequest(f"The multipart field {name!r} is not valid {charset}.") from None
