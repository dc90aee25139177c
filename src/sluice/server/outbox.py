"""Response bytes a client has not taken yet, queued for the loop to send.

Design: a pool thread sends a response straight to the socket while the
socket takes it. What the socket refuses (``EAGAIN``) goes into the
connection's :class:`Outbox` instead of making the thread wait, and the
event loop sends it as the client drains its socket (``EPOLLOUT``). So a slow
reader costs queued bytes, never a thread:

- byte strings the app already holds in memory (a list body) are queued as
  they are, without a copy;
- ``wsgi.file_wrapper`` files are queued as ``(descriptor, offset, count)``
  ranges of a duplicated descriptor and go out with ``sendfile``;
- everything else (iterator chunks, heads, chunk framing) is kept in memory
  up to ``memory_limit`` bytes, then appended to a temporary file (the
  spool) and sent from there with ``sendfile``; past ``spool_limit``
  spooled bytes not yet sent, the producer must wait (backpressure).

An outbox does no locking of its own: every method is called under the
connection's lock, by the thread that owns the connection or by the loop.
Whoever adds bytes flushes right after, until the socket refuses more, so a
socket that refused bytes always has queued bytes behind it and its next
``EPOLLOUT`` edge finds them.
"""

from __future__ import annotations

import os
import socket
from collections import deque
from typing import IO
from typing import Any


#: What a non-blocking send or receive raises when the socket can take or
#: give nothing now (sluice.server.tls makes TLS's waits one of these too).
WOULD_BLOCK = (BlockingIOError, InterruptedError)
_TLS_BLOCK = 65536


class ShortFile(OSError):
    """A queued file range ended early: the file shrank after its length was sent."""


class FileRange:
    """``count`` bytes of the file ``fd`` from ``offset``; ``owned``: close ``fd`` when done."""

    __slots__ = ("fd", "offset", "count", "owned")

    def __init__(self, fd: int, offset: int, count: int, owned: bool) -> None:
        self.fd = fd
        self.offset = offset
        self.count = count
        self.owned = owned

    def release(self) -> None:
        """Close the descriptor if the range owns it."""
        if self.owned:
            self.owned = False
            try:
                os.close(self.fd)
            except OSError:
                pass


class Outbox:
    """Queued response bytes of one connection, oldest first.

    Args:
        memory_limit: bytes of copied chunks kept in memory before spooling.
        spool_limit: spooled bytes not yet sent above which :attr:`full` is
            true (0: never spool; past ``memory_limit`` the outbox is full).
    """

    __slots__ = ("items", "memory", "memory_limit", "spool_limit", "_spool", "_spool_end", "spooled")

    def __init__(self, memory_limit: int, spool_limit: int) -> None:
        #: ``[memoryview, counted]`` lists and :class:`FileRange` objects.
        self.items: deque[list[object] | FileRange] = deque()
        #: Bytes of queued in-memory chunks that count against the limit.
        self.memory = 0
        self.memory_limit = memory_limit
        self.spool_limit = spool_limit
        self._spool: IO[bytes] | None = None
        self._spool_end = 0
        #: Spooled bytes not sent yet.
        self.spooled = 0

    @property
    def full(self) -> bool:
        """The producer must wait: the memory and the spool are used up."""
        if self.spool_limit <= 0:
            return self.memory > self.memory_limit
        return self.spooled > self.spool_limit

    def add_bytes(self, data: bytes | memoryview, hold: bool = False) -> None:
        """Queue ``data``.

        Args:
            data: the bytes.
            hold: the app holds these bytes anyway (a list body): queue them
                as they are, outside the memory limit.
        """
        size = len(data)
        if hold:
            self.items.append([memoryview(data), 0])
            return
        if self.memory + size <= self.memory_limit or self.spool_limit <= 0:
            self.items.append([memoryview(data), size])
            self.memory += size
            return
        self._add_to_spool(data)

    def _add_to_spool(self, data: bytes | memoryview) -> None:
        spool = self._spool
        if spool is None:
            import tempfile  # rare path; keeps the worker's import light

            spool = self._spool = tempfile.TemporaryFile(prefix="sluice-response-")
        fd = spool.fileno()
        offset = self._spool_end
        view = memoryview(data)
        written = 0
        while written < len(view):
            written += os.pwrite(fd, view[written:], offset + written)
        self._spool_end = offset + written
        self.spooled += written
        last = self.items[-1] if self.items else None
        if type(last) is FileRange and last.fd == fd and last.offset + last.count == offset:
            last.count += written
        else:
            self.items.append(FileRange(fd, offset, written, False))

    def add_file(self, fd: int, offset: int, count: int) -> None:
        """Queue a range of a file whose descriptor the outbox now owns (a duplicate)."""
        self.items.append(FileRange(fd, offset, count, True))

    def flush(self, sock: socket.socket | Any, tls: bool = False) -> int:
        """Send queued bytes until the socket refuses more or nothing is left.

        ``tls``: ``sock`` encrypts (a ``TLSSocket``), so file ranges are
        read and sent in blocks instead of with ``sendfile``.

        Returns:
            The bytes sent.

        Raises:
            ShortFile: a queued file range ended early.
            OSError: the connection failed (the queue is left as it was).
        """
        items = self.items
        total = 0
        sock_fd = sock.fileno()
        while items:
            item = items[0]
            if type(item) is FileRange:
                try:
                    if tls:
                        block = os.pread(item.fd, min(item.count, _TLS_BLOCK), item.offset)
                        sent = sock.send(block) if block else 0
                    else:
                        sent = os.sendfile(sock_fd, item.fd, item.offset, item.count)
                except WOULD_BLOCK:
                    break
                if sent == 0:
                    raise ShortFile(f"a file ended {item.count} bytes before the length sent for it")
                total += sent
                item.offset += sent
                item.count -= sent
                if not item.owned:  # a range of the spool
                    self.spooled -= sent
                if item.count == 0:
                    items.popleft()
                    item.release()
                continue
            view, counted = item  # type: ignore[misc]
            try:
                sent = sock.send(view)  # type: ignore[arg-type]
            except WOULD_BLOCK:
                break
            total += sent
            if counted:
                self.memory -= sent
            if sent == len(view):  # type: ignore[arg-type]
                items.popleft()
            else:
                item[0] = view[sent:]  # type: ignore[index]
        if not items:
            self._rewind()
        return total

    def _rewind(self) -> None:
        """All sent: the spool starts over (its disk space is given back)."""
        self.memory = 0
        self.spooled = 0
        if self._spool is not None and self._spool_end:
            try:
                os.ftruncate(self._spool.fileno(), 0)
            except OSError:
                pass
            self._spool_end = 0

    def discard(self) -> None:
        """Drop everything queued and close the spool (the connection is gone)."""
        for item in self.items:
            if type(item) is FileRange:
                item.release()
        self.items.clear()
        self.memory = 0
        self.spooled = 0
        if self._spool is not None:
            self._spool.close()
            self._spool = None
            self._spool_end = 0
