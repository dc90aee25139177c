"""``wsgi.input``: the request body as the app reads it.

:class:`InputStream` reads a body from the connection as the app asks for
it (answering ``Expect: 100-continue`` on the first read);
:class:`SpooledInput` reads one the loop received whole into a temporary
file; :class:`EmptyInput` stands for no body.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO
from typing import TYPE_CHECKING

from sluice.errors import RemoteProtocolError
from sluice.server.protocol import NEED_DATA
from sluice.server.protocol import Connection
from sluice.server.protocol import Data
from sluice.server.protocol import EndOfMessage
from sluice.server.protocol.writer import CONTINUE

if TYPE_CHECKING:
    from sluice.server.response import Transport


class LineReader:
    """``readlines`` and iteration by line for a ``wsgi.input`` that has ``readline``."""

    __slots__ = ()

    def readline(self, size: int | None = -1) -> bytes:
        """Read one line (up to and including ``\\n``), at most ``size`` bytes."""
        raise NotImplementedError

    def readlines(self, hint: int = -1) -> list[bytes]:
        """Read lines until the end, or until about ``hint`` bytes were read."""
        lines: list[bytes] = []
        total = 0
        while True:
            line = self.readline()
            if not line:
                return lines
            lines.append(line)
            total += len(line)
            if 0 < hint <= total:
                return lines

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.readline, b"")


class InputStream(LineReader):
    """``wsgi.input``: the request body, de-chunked, never read past its end.

    Reading pulls body bytes from the protocol connection, asking the
    transport for more when needed. ``Expect: 100-continue`` is answered on
    the first read, so a client is never asked for a body the app ignores.

    Args:
        conn: the protocol connection the request came from.
        transport: where to receive more bytes and send ``100 Continue``.
        expect_continue: send ``100 Continue`` before the first read.
        done: the whole body was already received.
        initial: body bytes received before the app was called.
    """

    __slots__ = ("_conn", "_transport", "_buf", "_done", "_expect", "bytes_read")

    def __init__(
        self,
        conn: Connection,
        transport: Transport,
        expect_continue: bool,
        done: bool,
        initial: bytes = b"",
    ) -> None:
        self._conn = conn
        self._transport = transport
        self._buf = bytearray(initial)
        self._done = done
        self._expect = expect_continue
        #: Body bytes handed to the app so far.
        self.bytes_read = 0

    @property
    def is_complete(self) -> bool:
        """The whole body was received from the client."""
        return self._done

    @property
    def continue_pending(self) -> bool:
        """The client waits for ``100 Continue`` that was never sent."""
        return self._expect

    def _fill(self) -> bool:
        """Receive the next piece of body; return False at the end."""
        if self._done:
            return False
        if self._expect:
            self._expect = False
            self._transport.send(CONTINUE)
        conn = self._conn
        while True:
            event = conn.next_event()
            if type(event) is Data:
                self._buf += event.data
                return True
            if type(event) is EndOfMessage:
                self._done = True
                return False
            if event is NEED_DATA:
                conn.receive_data(self._transport.recv())
                continue
            raise RemoteProtocolError(f"unexpected event while reading a body: {event!r}")

    def read(self, size: int | None = -1) -> bytes:
        """Read up to ``size`` bytes, or all of the rest when ``size`` is -1 or None."""
        buf = self._buf
        if size is None or size < 0:
            while self._fill():
                pass
            data = bytes(buf)
            buf.clear()
        else:
            while len(buf) < size and self._fill():
                pass
            data = bytes(buf[:size])
            del buf[:size]
        self.bytes_read += len(data)
        return data

    def readline(self, size: int | None = -1) -> bytes:
        """Read one line (up to and including ``\\n``), at most ``size`` bytes."""
        buf = self._buf
        limit = -1 if size is None else size
        while True:
            end = buf.find(b"\n")
            if end >= 0:
                n = end + 1
                break
            if 0 <= limit <= len(buf) or not self._fill():
                n = len(buf)
                break
        if 0 <= limit < n:
            n = limit
        data = bytes(buf[:n])
        del buf[:n]
        self.bytes_read += len(data)
        return data

    def drain(self, limit: int) -> bool:
        """Discard the unread body up to ``limit`` bytes; True if it ended."""
        self._buf.clear()
        seen = 0
        while seen <= limit:
            if not self._fill():
                return True
            seen += len(self._buf)
            self._buf.clear()
        return False


class SpooledInput(LineReader):
    """``wsgi.input`` for a body the loop received whole into a temporary file.

    Args:
        file: the file, positioned anywhere; it is read from its start.
    """

    __slots__ = ("_file", "bytes_read")
    is_complete = True
    continue_pending = False

    def __init__(self, file: IO[bytes]) -> None:
        file.seek(0)
        self._file = file
        #: Body bytes handed to the app so far.
        self.bytes_read = 0

    def read(self, size: int | None = -1) -> bytes:
        """Read up to ``size`` bytes, or all of the rest when ``size`` is -1 or None."""
        data = self._file.read(-1 if size is None else size)
        self.bytes_read += len(data)
        return data

    def readline(self, size: int | None = -1) -> bytes:
        """Read one line (up to and including ``\\n``), at most ``size`` bytes."""
        data = self._file.readline(-1 if size is None else size)
        self.bytes_read += len(data)
        return data

    def drain(self, limit: int) -> bool:
        """The body is complete: nothing to drain."""
        return True


class EmptyInput:
    """``wsgi.input`` for a request without a body; stateless, so shared."""

    __slots__ = ()
    is_complete = True
    continue_pending = False

    def read(self, size: int | None = -1) -> bytes:
        """Return ``b""``."""
        return b""

    def readline(self, size: int | None = -1) -> bytes:
        """Return ``b""``."""
        return b""

    def readlines(self, hint: int = -1) -> list[bytes]:
        """Return ``[]``."""
        return []

    def __iter__(self) -> Iterator[bytes]:
        return iter(())

    def drain(self, limit: int) -> bool:
        """Nothing to drain: return True."""
        return True


EMPTY_INPUT = EmptyInput()
