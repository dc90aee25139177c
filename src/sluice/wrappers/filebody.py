"""The body of a response read from a file: the whole file, one range, or multipart parts.

Design: a :class:`FileBody` is a list of parts, each ``bytes`` (a multipart
boundary and part head) or ``(offset, count)`` of one open file. Iterated, it
reads the file in blocks (any server, the test client). The app hands it to
the server as ``environ["wsgi.file_wrapper"](FileResult(body, close))``:
sluice's gateway asks :meth:`FileResult.sendfile_parts` and sends each range
with ``sendfile(2)``; other servers use ``fileno()``/``tell()`` (a single
range) or ``read()``. ``FileResult.close()`` closes the file and ends the
request, once.

A file sluice opens itself is a :class:`RawFile`: a descriptor with no
buffer, whose one ``fstat`` the caller already made (PERF: ``open(path,
"rb")`` costs an ``fstat``, an ``ioctl`` and an ``lseek`` more, about 5 us of
a 4 KiB static answer; benchmarks/RESULTS.md "Static files").
"""

from __future__ import annotations

import errno
import io
import os
import stat
from collections.abc import Callable
from collections.abc import Iterator
from typing import IO
from typing import Any

#: Block size for reading a file that is not sent with ``sendfile``.
BLOCK_SIZE = 65536

Part = bytes | tuple[int, int]


class RawFile(io.RawIOBase):
    """A file opened for reading as a bare descriptor: ``read``, ``seek``, ``fileno``, no buffer.

    Made by :meth:`open`, which also returns the file's ``fstat``.

    Args:
        fd: an open descriptor, owned (closed) by this object.
        name: the path it was opened from.
    """

    def __init__(self, fd: int, name: str) -> None:
        self._fd = fd
        self.name = name

    @classmethod
    def open(cls, path: str) -> tuple[RawFile, os.stat_result]:
        """Open ``path`` for reading; return the file and its ``fstat``.

        Raises:
            OSError: as ``open(path, "rb")`` (``IsADirectoryError`` for a directory).
        """
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            st = os.fstat(fd)
            if stat.S_ISDIR(st.st_mode):
                raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), path)
        except BaseException:
            os.close(fd)
            raise
        return cls(fd, path), st

    def fileno(self) -> int:
        """The descriptor.

        Raises:
            ValueError: the file is closed.
        """
        if self._fd < 0:
            raise ValueError("I/O operation on closed file")
        return self._fd

    def readable(self) -> bool:
        """True."""
        return True

    def seekable(self) -> bool:
        """True."""
        return True

    def readinto(self, buffer: Any) -> int:
        """Read into ``buffer`` from the current position; return the count (0 at the end)."""
        return os.readv(self.fileno(), [buffer])

    def read(self, size: int = -1) -> bytes:
        """Read up to ``size`` bytes (to the end when negative); ``b""`` at the end."""
        if size is None or size < 0:
            return self.readall()
        return os.read(self.fileno(), size)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        """Move the position; return the new one."""
        return os.lseek(self.fileno(), offset, whence)

    def tell(self) -> int:
        """The position."""
        return os.lseek(self.fileno(), 0, io.SEEK_CUR)

    def close(self) -> None:
        """Close the descriptor; later calls do nothing."""
        fd, self._fd = self._fd, -1
        if fd >= 0:
            os.close(fd)
        super().close()


class FileBody:
    """An iterable response body made of byte strings and ranges of one file.

    Args:
        file: the open binary file (closed by :meth:`close`).
        parts: ``bytes`` or ``(offset, count)`` items, sent in order.
        regular: ``file`` is known to be a regular file (``sendfile`` works).
    """

    __slots__ = ("file", "parts", "regular", "_index", "_pos", "_closed")

    def __init__(self, file: IO[bytes], parts: list[Part], regular: bool = False) -> None:
        self.file = file
        self.parts = parts
        self.regular = regular
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

    def sendfile_parts(self) -> tuple[IO[bytes], list[Part]] | None:
        """The file and the parts, for a server that sends ranges with ``sendfile``.

        Returns:
            None when the file is not known to be a regular file: then the
            server reads the body instead.
        """
        body = self._body
        return (body.file, body.parts) if body.regular else None

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
