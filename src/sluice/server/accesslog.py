"""The access log: one line per response, written off the request thread in batches.

Design: a request thread only formats its line and appends it to a deque
(:meth:`LineHandler.add`, lock-free under the GIL); a writer thread, started
on the first line, writes what accumulated in one ``write`` every
:data:`FLUSH_INTERVAL` while lines come, and waits without waking when none
do. A log line therefore costs no system call, sets no event and wakes no
thread on the request's path: under steady traffic the writer wakes five
times a second, whatever the rate (PERF: benchmarks/RESULTS.md "Access log
cost").

Nothing is lost: lines keep their order (one deque, drained under the
handler's lock); ``flush()`` and ``close()`` write every pending line, and
``logging.shutdown`` (run at interpreter exit) calls both; once
:data:`MAX_PENDING` lines wait (the stream blocks, say a full pipe), the
request thread that adds one more writes them itself, so memory stays
bounded and the stream's back-pressure reaches the server, as it did with
one write per line. After ``close()`` every line is written at once. A forked
child starts with nothing pending and its own writer.

When the access logger has this handler alone, with sluice's formatter and no
filter, :class:`AccessLog` builds the line itself and queues it without a
``LogRecord`` (:func:`own_handler`); any user configuration (a filter,
another handler, a formatter) makes it go through ``logging`` as usual, with
the same bytes. PERF: that check and the line's timestamp are made once a
second, not per line (benchmarks/RESULTS.md "Access log cost"), so a
handler or filter attached while the server runs sees lines from the next
second on; one attached before the first request sees every line.

Crash safety: a line waits at most :data:`FLUSH_INTERVAL` in memory. A
worker that stops (graceful stop, ``--max-requests``, a reload, SIGTERM)
writes every pending line before it exits; one killed (SIGKILL, the
supervisor's kill of a stuck worker, a segfault) loses the lines of its last
0.2 s at most, and never writes a partial line: each batch is whole lines in
one ``write``, and the file is opened for appending, so workers' batches do
not interleave within a line.
"""

from __future__ import annotations

import collections
import logging
import os
import threading
import time
import weakref
from collections.abc import Callable
from itertools import islice
from json.encoder import encode_basestring_ascii as _quote
from time import monotonic as _monotonic
from typing import TYPE_CHECKING
from typing import TextIO

if TYPE_CHECKING:
    from sluice.server.protocol import Request

#: Seconds a line may wait before the writer thread writes it.
FLUSH_INTERVAL = 0.2
#: Lines pending at which the request thread writes them itself.
MAX_PENDING = 16384

#: The combined log format (Apache, nginx), the duration in seconds and the request id.
#: The request line is the one the client sent (Apache's ``%r``, nginx's ``$request``).
COMBINED = '%s - - [%s] "%s" %d %s "%s" "%s" %.6f %s'
#: The same for a request the server rejected before its request line was read whole.
COMBINED_NO_REQUEST = '%s - - [%s] "-" %d %s "-" "-" %.6f %s'
# The lines as sluice's own handler writes them (PERF: no concatenation per line).
_LINE = {COMBINED: COMBINED + "\n", COMBINED_NO_REQUEST: COMBINED_NO_REQUEST + "\n"}

# Status codes as text, and "000" to "999" for the digits of a duration.
_CODES = tuple(str(code) for code in range(1000))
# The direct combined line's pieces: '" 200 ' (the end of the request line,
# the status), '13 "' (a size under 1,000, '- "' for none; the start of the
# Referer field).
_OPEN = ' "'
_STATUSES = tuple(f'" {code} ' for code in _CODES)
_SIZES = ('- "', *(f'{size} "' for size in _CODES[1:]))
_DIGITS = tuple(f"{number:03d}" for number in range(1000))
#: Durations shorter than this many microseconds are written from a table
#: (made once per process by the first AccessLog; ~260 KB), each entry
#: followed by the space before the request id.
SHORT_MICROS = 4096
_short_durations: tuple[str, ...] = ()


def _seconds(micros: int) -> str:
    """``micros`` microseconds as seconds with six decimals, as ``"%.6f"`` writes them."""
    return f"{micros // 1000000}.{_DIGITS[micros // 1000 % 1000]}{_DIGITS[micros % 1000]}"


def _short_duration_table() -> tuple[str, ...]:
    global _short_durations
    if not _short_durations:
        _short_durations = tuple(f"{_seconds(micros)} " for micros in range(SHORT_MICROS))
    return _short_durations


access_log = logging.getLogger("sluice.access")


def json_line(
    peer: tuple[str, int] | None,
    request: Request | None,
    status: int,
    bytes_sent: int,
    duration: float,
    request_id: str,
    now: float,
) -> str:
    """One access-log line as a JSON object (``--access-log-format json``), the bytes ``json.dumps`` would make.

    Every string goes through ``json``'s own escaping: quotes, backslashes,
    CR, LF and other control characters, and every character past ASCII
    (``\\u00ff``), so a client cannot break or forge a line. Header values
    are the bytes as sent, decoded as latin-1. Missing headers are null; so
    are the method, target and protocol of a request the server rejected
    before its request line was read whole. PERF: built with one f-string,
    not ``json.dumps`` of a dict (benchmarks/RESULTS.md "Access log cost").

    Args:
        peer: the client's address, None for a unix socket.
        request: the request head, None if none was read whole.
        status: the status code sent (0: none).
        bytes_sent: body bytes sent.
        duration: seconds from the request's first byte to its last response byte.
        request_id: the request's id.
        now: the time (``time.time()``) the line is for.
    """
    referer = user_agent = method = target = protocol = "null"
    if request is not None:
        method = _quote(request.method)
        target = _quote(request.target)
        protocol = f'"HTTP/{request.http_version}"'
        if request.referer is not None:
            referer = _quote(request.referer)
        if request.user_agent is not None:
            user_agent = _quote(request.user_agent)
    second = int(now)
    return (
        f'{{"time":"{_iso_second(second)}.{int((now - second) * 1000):03d}Z",'
        f'"remote_addr":{_quote(peer[0]) if peer else "null"},"method":{method},"target":{target},'
        f'"protocol":{protocol},"status":{status},"bytes":{bytes_sent},"referer":{referer},'
        f'"user_agent":{user_agent},"duration_s":{round(duration, 6)!r},"request_id":{_quote(request_id)}}}'
    )


_iso_cache: tuple[int, str] = (-1, "")


def _iso_second(second: int) -> str:
    """``2026-12-03T15:04:05`` (UTC) for a Unix second, made once a second."""
    global _iso_cache
    cached = _iso_cache
    if cached[0] == second:
        return cached[1]
    text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
    _iso_cache = (second, text)
    return text

_handlers: weakref.WeakSet[LineHandler] = weakref.WeakSet()


class LineHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """A stream handler whose lines a background thread writes in batches.

    Args:
        stream: the text stream to write to.
        owns_stream: close ``stream`` when the handler is closed (a file the
            handler opened), not when it is ``sys.stderr``.
        interval: the longest wait of a line before it is written, in seconds.
        limit: the number of pending lines at which the adding thread writes
            them itself.
    """

    def __init__(
        self,
        stream: TextIO,
        owns_stream: bool = False,
        interval: float = FLUSH_INTERVAL,
        limit: int = MAX_PENDING,
    ) -> None:
        super().__init__(stream)
        self.owns_stream = owns_stream
        self.interval = interval
        self._limit = limit
        self._pending: collections.deque[str] = collections.deque()
        #: True while the writer waits for a first line (or has not started):
        #: only then does a new line wake it.
        self._parked = True
        self._wake = threading.Event()  # set by a line for a parked writer, and by close()
        self._thread: threading.Thread | None = None
        self._closed = False
        _handlers.add(self)

    def emit(self, record: logging.LogRecord) -> None:
        """Format ``record`` and queue its line."""
        try:
            line = self.format(record) + self.terminator
        except Exception:
            self.handleError(record)
            return
        self.add(line)

    def add(self, line: str) -> None:
        """Queue one finished line (with its newline); it is written within ``interval`` seconds."""
        pending = self._pending
        pending.append(line)
        # PERF: nothing else while the writer is gathering lines; no event
        # set per line or per batch (an Event.set takes a lock and notifies
        # in Python, and wakes a thread that wants the GIL).
        if len(pending) >= self._limit:
            self.flush()
        elif self._parked:
            self._unpark()

    def _unpark(self) -> None:
        if self._closed:
            self.flush()  # after close(): every line at once
            return
        if self._thread is None:
            self._start()  # the new writer finds the line itself
        else:
            self._wake.set()

    def flush(self) -> None:
        """Write every pending line now, in order, and flush the stream."""
        pending = self._pending
        with self.lock:  # type: ignore[union-attr]
            stream = self.stream
            try:
                while pending:
                    # The lines pending now, taken from the left in C (PERF:
                    # no bytecode per line); later ones wait for the next batch.
                    stream.write("".join(islice(iter(pending.popleft, None), len(pending))))
                stream.flush()
            except (OSError, ValueError):
                # The stream is gone (a closed stderr): the lines cannot be
                # written anywhere; serving goes on.
                pending.clear()

    def close(self) -> None:
        """Write what is pending, stop the writer thread; later lines are written at once."""
        with self.lock:  # type: ignore[union-attr]
            self._closed = True
            self._limit = 1
        # NOTE: no join: ``logging.shutdown`` calls this holding the lock
        # the writer thread may be waiting for. Woken, it writes what is
        # pending (nothing, after the flush below) and ends.
        self._wake.set()
        self.flush()
        if self.owns_stream:
            with self.lock:  # type: ignore[union-attr]
                try:
                    self.stream.close()
                except (OSError, ValueError):
                    pass
        super().close()

    def _start(self) -> None:
        with self.lock:  # type: ignore[union-attr]
            if self._thread is not None or self._closed:
                return
            thread = threading.Thread(target=self._write_batches, name="sluice-access-log", daemon=True)
            self._thread = thread
        thread.start()

    def _write_batches(self) -> None:
        wake, pending = self._wake, self._pending
        while not self._closed:
            # Park until a line comes. ``_parked`` is set before the deque
            # is checked and a line is appended before ``_parked`` is read,
            # so a line either is seen here or wakes the wait below.
            self._parked = True
            if not pending:
                wake.wait()
            wake.clear()
            self._parked = False
            if self._closed:
                break
            # Let lines gather for the interval (close() ends the wait).
            wake.wait(self.interval)
            self.flush()
        self._parked = False  # a closed handler's lines go out at once (add)

    def _after_fork(self) -> None:
        # The parent's writer thread does not exist here and the parent
        # writes its own pending lines.
        self._pending.clear()
        self._wake = threading.Event()
        self._thread = None
        self._parked = True


def _reset_after_fork() -> None:
    for handler in list(_handlers):
        handler._after_fork()


os.register_at_fork(after_in_child=_reset_after_fork)


def own_handler() -> LineHandler | None:
    """The access logger's handler when it is sluice's own alone, else None.

    Then the worker may build the line and :meth:`LineHandler.add` it
    without a ``LogRecord``: nothing else (a filter, another handler, a
    formatter of the user's) would see a record.
    """
    logger = access_log
    handlers = logger.handlers
    if len(handlers) != 1 or logger.disabled or logger.filters or logger.propagate:
        return None
    handler = handlers[0]
    if (
        type(handler) is not LineHandler
        or handler.filters
        or handler.level > logging.INFO
        or not getattr(handler.formatter, "_sluice", False)
        or not logger.isEnabledFor(logging.INFO)
    ):
        return None
    return handler


def make_handler(target: str) -> LineHandler:
    """The handler ``--access-log`` names: ``-`` for stderr, else a file opened for appending.

    Raises:
        OSError: the file cannot be opened.
    """
    if target == "-":
        import sys

        handler = LineHandler(sys.stderr)
    else:
        # Lines are ASCII (escaped); backslashreplace guards a user's formatter.
        handler = LineHandler(open(target, "a", encoding="utf-8", errors="backslashreplace"), owns_stream=True)
    formatter = logging.Formatter("%(message)s")
    formatter._sluice = True  # type: ignore[attr-defined]  # the worker may build lines itself (same bytes)
    handler.setFormatter(formatter)
    return handler


def escape(value: str) -> str:
    """``value`` safe inside a quoted log field: ``"`` and ``\\`` escaped, other bytes outside visible ASCII as ``\\xHH``.

    A client cannot end the field, start a new line or write terminal
    control sequences into the log with its request line or headers (as
    nginx escapes its log variables).
    """
    # PERF: the common value (visible ASCII, no quote or backslash) costs two scans.
    if value.isascii() and value.isprintable() and '"' not in value and "\\" not in value:
        return value
    return "".join([_ESCAPES.get(ch) or _escape_char(ch) for ch in value])


def _escape_char(ch: str) -> str:
    code = ord(ch)
    if code <= 0xFF:
        return f"\\x{code:02X}"
    # Not from the wire (header bytes decode to at most U+00FF): a value an app set.
    return "".join(f"\\x{b:02X}" for b in ch.encode("utf-8", "surrogatepass"))


_ESCAPES = {chr(c): chr(c) for c in range(0x20, 0x7F)}
_ESCAPES['"'] = '\\"'
_ESCAPES["\\"] = "\\\\"


class AccessLog:
    """The worker's side of the access log: one line per response, cheap when sluice's handler is alone.

    Args:
        json_format: write JSON objects (``--access-log-format json``), not
            combined lines.
    """

    __slots__ = ("json_format", "_next_tick", "_wall", "_stamp", "_between", "_add", "_own", "_short")

    def __init__(self, json_format: bool = False) -> None:
        self.json_format = json_format
        self._next_tick = float("-inf")  # the first line refreshes
        self._wall = 0.0  # time.time() - time.monotonic(), as of the last refresh
        self._stamp = ""
        self._between = ""
        self._short = _short_duration_table()
        #: ``add`` of sluice's own handler when it is alone, else None.
        self._add: Callable[[str], None] | None = None
        #: That handler when combined lines are written, None for JSON ones.
        self._own: LineHandler | None = None

    def write(
        self,
        peer: tuple[str, int] | None,
        request: Request | None,
        status: int,
        bytes_sent: int,
        started: float,
        request_id: str,
    ) -> None:
        """Log one response that ends now (any thread).

        Args:
            peer: the client's address, None for a unix socket.
            request: the request head, None if the server rejected the
                request before its request line was read whole (``"-"``).
            status: the status code sent (0: none), at most 999.
            bytes_sent: body bytes sent (``-`` in combined lines when 0).
            started: when the request began (``time.monotonic()``); the
                line's duration runs from there to now.
            request_id: the request's id.
        """
        # PERF: one clock read per line, the monotonic one the duration
        # needs; the wall-clock time is read once a second (_refresh).
        end = _monotonic()
        if end >= self._next_tick:
            self._refresh(end)
        own = self._own
        if own is not None and request is not None:
            # PERF: the common line, built here and queued without a
            # LogRecord (sluice's own handler alone), the same text as
            # COMBINED % args; benchmarks/RESULTS.md "Access log cost".
            # The two fields the parser noted (PERF: no scan of the headers).
            user_agent = request.user_agent
            if user_agent is None:
                user_agent = "-"
            elif not (
                # escape()'s test inline; the common value needs no escaping.
                user_agent.isascii() and user_agent.isprintable() and '"' not in user_agent and "\\" not in user_agent
            ):
                user_agent = escape(user_agent)
            referer = request.referer
            referer = "-" if referer is None else escape(referer)
            # The parser admits visible ASCII alone in a target and tokens
            # in a method (RFC 9112 §3, protocol/connection.py), so only a
            # target's '"' and '\\' need escaping.
            line = request.line
            target = request.target
            if '"' in target or "\\" in target:
                line = escape(line)
            # The duration as "%.6f" writes it, from whole microseconds: a
            # short one from a table, instead of a float conversion; so is
            # a size under 1,000 bytes. PERF: table entries carry the text
            # around them, so the line joins fewer pieces.
            micros = int((end - started) * 1000000.0 + 0.5)
            pending = own._pending
            pending.append(
                f'{peer[0] if peer else "-"}{self._between}{line}{_STATUSES[status]}'
                f'{_SIZES[bytes_sent] if bytes_sent < 1000 else str(bytes_sent) + _OPEN}{referer}" "{user_agent}" '
                f"{self._short[micros] if micros < SHORT_MICROS else _seconds(micros) + ' '}{request_id}\n"
            )
            # LineHandler.add, inline (PERF: one Python call less per line).
            if len(pending) >= own._limit:
                own.flush()
            elif own._parked:
                own._unpark()
            return
        self._write_other(peer, request, status, bytes_sent, end - started, request_id, self._wall + end)

    def _write_other(
        self,
        peer: tuple[str, int] | None,
        request: Request | None,
        status: int,
        bytes_sent: int,
        duration: float,
        request_id: str,
        now: float,
    ) -> None:
        """A JSON line, a line for a rejected request, or one that goes through ``logging``."""
        add = self._add
        if self.json_format:
            line = json_line(peer, request, status, bytes_sent, duration, request_id, now)
            if add is None:
                access_log.info("%s", line)
            else:
                add(line + "\n")
            return
        addr = peer[0] if peer else "-"
        if request is None:
            fmt = COMBINED_NO_REQUEST
            args: tuple[object, ...] = (addr, self._stamp, status, bytes_sent or "-", duration, request_id)
        else:
            referer = "-" if request.referer is None else escape(request.referer)
            user_agent = "-" if request.user_agent is None else escape(request.user_agent)
            fmt = COMBINED
            args = (
                addr,
                self._stamp,
                escape(request.line),
                status,
                bytes_sent or "-",
                referer,
                user_agent,
                duration,
                request_id,
            )
        if add is None:
            access_log.info(fmt, *args)
        else:
            # PERF: sluice's own handler alone: the line it would write,
            # queued without a LogRecord, written by its thread in batches
            # (benchmarks/RESULTS.md "Static files", "Access log cost").
            add(_LINE[fmt] % args)

    def _refresh(self, end: float) -> None:
        """A new second: the timestamp, and whether sluice's handler is still alone.

        ``end``: the monotonic time of the line that found the second over.
        """
        now = time.time()
        second = int(now)
        self._stamp = stamp = time.strftime("%d/%b/%Y:%H:%M:%S %z", time.localtime(second))
        self._between = f' - - [{stamp}] "'  # what a combined line has between address and request line
        own = own_handler()
        self._add = own.add if own is not None else None
        self._own = None if self.json_format else own
        # The monotonic time at which the wall clock's next second begins;
        # a step of the wall clock is seen at the next second's refresh.
        self._wall = now - end
        self._next_tick = end + (second + 1 - now)
