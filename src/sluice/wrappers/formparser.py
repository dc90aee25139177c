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
from tempfile import TemporaryFile
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
#: Uploaded files larger than this move from memory to a temporary file.
FILE_MEMORY_SIZE = 512 * 1024
# RFC 2046 §5.1.1: 1 to 70 characters from a restricted set.
_BOUNDARY_RE = re.compile(r"[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]")
# A part header line: an RFC 9110 token, ':', a value without control
# characters (bytes >= 0x80 are checked as UTF-8 after the match).
_HEADER_LINE_RE = re.compile(rb"[ \t]*([!#$%&'*+\-.^_`|~0-9A-Za-z]+)[ \t]*:[ \t]*([^\x00-\x08\x0a-\x1f\x7f]*?)[ \t]*")
# The header block browsers send for a part, matched whole; it accepts only
# what the general path (_parse_part_headers, then _parse_disposition) would
# accept with the same result.
_SIMPLE_BLOCK_RE = re.compile(
    rb'Content-Disposition: form-data; name="([^"\\\x00-\x1f\x7f]*)"(?:; filename="([^"\\\x00-\x1f\x7f]*)")?'
    rb"(?:\r\nContent-Type: ([^\x00-\x20\x7f](?:[^\x00-\x1f\x7f]*[^\x00-\x20\x7f])?))?"
)
_SIMPLE_DISPOSITION_RE = re.compile(r'form-data; name="([^"\\]*)"(?:; filename="([^"\\]*)")?')


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
            raise ContentTooLarge(f"The {what} has more than {max_fields} fields (MAX_FORM_PARTS); send fewer.")
        key, _, value = field.partition(b"=")
        result.add(_decode_component(key, what), _decode_component(value, what))
    return result


def _parse_part_headers(block: bytes) -> list[tuple[str, str]]:
    """Split a part's header block into checked ``(name, value)`` pairs.

    PERF: one regex match per line checks the name (a token) and the value
    (no control characters) at once, so the pairs go into ``Headers`` without
    a second check (benchmarks/multipart.py; RESULTS.md "Multipart parser:
    keep sluice's own").
    """
    pairs = []
    for line in block.split(b"\r\n"):
        if not line:
            continue
        match = _HEADER_LINE_RE.fullmatch(line)
        if match is None:
            if b":" not in line:
                raise BadRequest("A multipart part header line has no ':'; the body is malformed.")
            raise BadRequest("A multipart part header is malformed (bad name or control characters).")
        try:
            pairs.append((match[1].decode("ascii"), match[2].decode("utf-8")))
        except UnicodeDecodeError:
            raise BadRequest("A multipart part header value is not valid UTF-8.") from None
    return pairs


def _parse_disposition(value: str | None) -> tuple[str, str | None]:
    """Return the ``name`` and ``filename`` of a part's ``Content-Disposition``.

    PERF: the form every browser sends (``form-data; name="a"`` with an
    optional plain ``filename``) is matched by one regex; anything else
    (escapes, ``filename*``, unquoted values) goes through
    ``parse_options_header``.

    Raises:
        BadRequest: the header is missing, not ``form-data``, or has no name.
    """
    if value is not None:
        match = _SIMPLE_DISPOSITION_RE.fullmatch(value)
        if match is not None:
            return match[1], match[2]
    disposition, options = parse_options_header(value)
    if disposition != "form-data" or "name" not in options:
        raise BadRequest("A multipart part lacks 'Content-Disposition: form-data; name=...'.")
    return options["name"], options.get("filename")


class MultipartParser:
    """Stream a ``multipart/form-data`` body into form fields and files.

    Args:
        boundary: the ``boundary`` parameter of the Content-Type.
        max_form_memory_size: the most bytes of plain (non-file) field data
            kept in memory, or None for no limit.
        max_form_parts: the most parts accepted, or None for no limit.
        max_file_memory_size: an uploaded file larger than this many bytes
            moves from memory to a temporary file (0: every file goes to a
            temporary file at once; None: files stay in memory, whatever
            their size).

    Raises:
        BadRequest: the boundary is missing or not RFC 2046 valid.
    """

    __slots__ = ("_delimiter", "max_form_memory_size", "max_form_parts", "max_file_memory_size")

    def __init__(
        self,
        boundary: str,
        max_form_memory_size: int | None = None,
        max_form_parts: int | None = None,
        max_file_memory_size: int | None = FILE_MEMORY_SIZE,
    ) -> None:
        if not _BOUNDARY_RE.fullmatch(boundary):
            raise BadRequest(
                "The multipart Content-Type has a missing or invalid boundary parameter "
                "(RFC 2046: 1 to 70 characters); send 'multipart/form-data; boundary=...'."
            )
        self._delimiter = b"\r\n--" + boundary.encode("ascii")
        self.max_form_memory_size = max_form_memory_size
        self.max_form_parts = max_form_parts
        self.max_file_memory_size = max_file_memory_size

    def parse(self, read: Callable[[int], bytes]) -> tuple[MultiDict[str], MultiDict[FileStorage]]:
        """Read the whole body and return its fields and files.

        Reading stops as soon as a limit is exceeded. On an error, the files
        already received are closed (their temporary files deleted) before
        the error propagates.

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
        max_memory = self.max_form_memory_size
        max_parts = self.max_form_parts
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
                # PERF: when all of the buffer was handed on, ``b"" + chunk``
                # is ``chunk`` itself: no copy (the usual case inside a file).
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
            if buffer.startswith(b"\r\n", pos):
                pos += 2  # PERF: the usual case, checked first
            else:
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
            block = buffer[pos:end]
            pos = after
            simple = _SIMPLE_BLOCK_RE.fullmatch(block)
            if simple is not None:
                # PERF: the header block every browser sends, in one match.
                # With the field slice below: 100 parts went from 2.04x to
                # 0.57x multipart's time (benchmarks/multipart.py, RESULTS.md).
                try:
                    name = simple[1].decode("utf-8")
                    filename = None if simple[2] is None else simple[2].decode("utf-8")
                    content_type = None if simple[3] is None else simple[3].decode("utf-8")
                except UnicodeDecodeError:
                    raise BadRequest("A multipart part header value is not valid UTF-8.") from None
                pairs = None
            else:
                pairs = _parse_part_headers(block)
                disposition = content_type = None
                for key, header_value in pairs:
                    lowered = key.lower()
                    if lowered == "content-disposition":
                        disposition = header_value
                    elif lowered == "content-type":
                        content_type = header_value
                name, filename = _parse_disposition(disposition)

            parts += 1
            if max_parts is not None and parts > max_parts:
                raise ContentTooLarge(
                    f"The multipart body has more than {max_parts} parts (MAX_FORM_PARTS); send fewer fields."
                )
            if filename is None:
                index = buffer.find(delimiter, pos)
                if index >= 0:
                    # PERF: the whole field is in the buffer (small fields):
                    # no bytearray (see the header block match above).
                    value: bytes | bytearray = buffer[pos:index]
                    pos = index + size
                    memory += len(value)
                    if max_memory is not None and memory > max_memory:
                        raise ContentTooLarge(self._memory_message())
                else:
                    value = bytearray()
                    while True:
                        data, index, pos = self._take(buffer, pos, delimiter, eof)
                        memory += len(data)
                        if max_memory is not None and memory > max_memory:
                            raise ContentTooLarge(self._memory_message())
                        value += data
                        if index >= 0:
                            break
                        fill()
                charset = "utf-8"
                if content_type is not None:
                    charset = parse_options_header(content_type)[1].get("charset", "utf-8")
                try:
                    form.add(name, value.decode(charset))
                except (LookupError, UnicodeDecodeError):
                    raise BadRequest(f"The multipart field {name!r} is not valid {charset}.") from None
            else:
                spool = self.max_file_memory_size
                # 0: straight to disk; None: never (SpooledTemporaryFile's 0).
                sink: IO[bytes] = TemporaryFile() if spool == 0 else SpooledTemporaryFile(max_size=spool or 0)
                # Registered at once so that an error below closes it too.
                if pairs is None:
                    pairs = _parse_part_headers(block)
                files.add(name, FileStorage(sink, filename, name, content_type, Headers.from_checked(pairs)))
                while True:
                    data, index, pos = self._take(buffer, pos, delimiter, eof)
                    sink.write(data)
                    if index >= 0:
                        break
                    fill()
                sink.seek(0)

    def _memory_message(self) -> str:
        return (
            f"The form fields exceed {self.max_form_memory_size} bytes (MAX_FORM_MEMORY_SIZE); "
            "send large values as files."
        )

    @staticmethod
    def _take(buffer: bytes, pos: int, delimiter: bytes, eof: bool) -> tuple[bytes, int, int]:
        """Return the part data from ``pos`` that is sure not to be a delimiter, the delimiter's index, the new pos.

        Raises:
            BadRequest: the body ended before the part's closing delimiter.
        """
        index = buffer.find(delimiter, pos)
        if index >= 0:
            return buffer[pos:index], index, index + len(delimiter)
        if eof:
            raise BadRequest("The multipart body ends before its closing boundary delimiter.")
        # Keep only a tail that could start a delimiter: the delimiter holds
        # one CR (its first byte), so such a tail starts at the last CR of the
        # final ``len(delimiter) - 1`` bytes. PERF: most chunks of a file
        # have none, so all of the buffer is handed on and the next fill
        # copies nothing (benchmarks/multipart.py: 10 MiB went from 1.07x
        # multipart's time to a tie, 0.99-1.05x).
        cut = buffer.rfind(b"\r", max(pos, len(buffer) - len(delimiter) + 1))
        if cut < 0 or not delimiter.startswith(buffer[cut:]):
            cut = len(buffer)
        return buffer[pos:cut], -1, cut
