"""The body of a response read from a file: the whole file, one range, or multipart parts.

Design: a :class:`FileBody` is a list of parts, each ``bytes`` (a multipart
boundary and part head) or ``(offset, count)`` of one open file. Iterated, it
reads the file in blocks (any server, the test client). The app hands it to
the server as ``environ["wsgi.file_wrapper"](FileResult(body, close))``:
sluice's gateway asks :meth:`FileResult.sendfile_parts` and sends each range
with ``sendfile(2)``; other servers use ``fileno()``/``tell()`` (a single
range) or ``read()``. ``FileResult.close()`` closes the file and ends the
request, once.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from collections.abc import Iterator
from typing import IO
from typing import Any

#: Block size for reading a file that is not sent with ``sendfile``.
BLOCK_SIZE = 65536

Part = bytes | tuple[int, int]


class FileBody:
    """An iterable response body made of byte strings and ranges of one file.

    Args:
        file: the open binary file (closed by :meth:`close`).
        parts: ``bytes`` or ``(offset, count)`` items, sent in order.
    """

    __slots__ = ("file", "parts", "_index", "_pos", "_closed")

    def __init__(self, file: IO[bytes], parts: list[Part]) -> None:
        self.file = file
        self.parts = parts
        self._index = 0  # the part read() is in
        self._pos = 0  # bytes of that part already read
        self._closed = False

    @property
    def length(self) -> int:
        """The number of body bytes."""
        return sum(len(part) if isinstance(part, bytes) else part[1] for part in self.parts)

    def __iter__(self) -> Iterator[bytes]:
        while True:
            data = self.read(BLOCK_SIZE)
            if not data:
                return
            yield data

    def read(self, size: int = -1) -> bytes:
        """Read up to ``size`` body bytes (all that is left when negative); ``b""`` at the end."""
        out: list[bytes] = []
        want = size if size >= 0 else -1
        while want != 0 and self._index < len(self.parts):
            part = self.parts[self._index]
            if isinstance(part, bytes):
                left = len(part) - self._pos
                take = left if want < 0 else min(left, want)
                data = part[self._pos : self._pos + take]
            else:
                offset, count = part
                left = count - self._pos
                take = left if want < 0 else min(left, want)
                self.file.seek(offset + self._pos)
                data = self.file.read(take)
                if len(data) < take:
                    # The file shrank: end the body here; the server sees the
                    # short length and closes the connection.
                    self._index = len(self.parts)
                    out.append(data)
                    break
            out.append(data)
            self._pos += take
            if want > 0:
                want -= take
            if self._pos == (len(part) if isinstance(part, bytes) else part[1]):
                self._index += 1
                self._pos = 0
        return b"".join(out)

    def close(self) -> None:
        """Close the file; later calls do nothing."""
        if not self._closed:
            self._closed = True
            self.file.close()

    def __del__(self) -> None:
        # A response replaced by a hook is never sent nor closed: its file
        # is closed here instead of leaking (and warning) at collection.
        if not self._closed:
            self._closed = True
            try:
                self.file.close()
            except Exception:  # noqa: S110 - nothing to report to at collection time
                pass


class FileResult:
    """The filelike given to ``wsgi.file_wrapper`` for a :class:`FileBody`.

    Args:
        body: the file body.
        close: the response iterable's ``close()`` (ends the request).
    """

    __slots__ = ("_body", "_close", "_single")

    def __init__(self, body: FileBody, close: Callable[[], Any]) -> None:
        self._body = body
        self._close = close
        parts = body.parts
        self._single = len(parts) == 1 and not isinstance(parts[0], bytes)

    def read(self, size: int = -1) -> bytes:
        """Read up to ``size`` body bytes."""
        return self._body.read(size)

    def sendfile_parts(self) -> tuple[IO[bytes], list[Part]]:
        """The file and the parts, for a server that sends ranges with ``sendfile``."""
        return self._body.file, self._body.parts

    def fileno(self) -> int:
        """The file descriptor, for servers that ``sendfile`` from ``tell()``.

        Raises:
            io.UnsupportedOperation: the body is not one range of the file.
        """
        if not self._single:
            raise io.UnsupportedOperation("a multipart body is not one range of a file")
        return self._body.file.fileno()

    def tell(self) -> int:
        """The file offset of the next body byte (a single range only)."""
        if not self._single:
            raise io.UnsupportedOperation("a multipart body is not one range of a file")
        part = self._body.parts[0]
        assert not isinstance(part, bytes)
        if self._body._index:
            return part[0] + part[1]  # read to the end
        return part[0] + self._body._pos

    def seek(self, position: int) -> int:
        """Move to file offset ``position`` (a single range only; servers call it after sendfile)."""
        part = self._body.parts[0]
        if not self._single or isinstance(part, bytes):
            raise io.UnsupportedOperation("a multipart body is not one range of a file")
        pos = max(0, min(position - part[0], part[1]))
        self._body._index, self._body._pos = (1, 0) if pos == part[1] else (0, pos)
        return position

    def close(self) -> None:
        """Close the file, then the response iterable (which ends the request); once."""
        try:
            self._body.close()
        finally:
            self._close()
