"""The worker: one epoll loop owns every socket; a thread pool runs the app.

Design: the loop thread accepts connections, reads request heads and whole
request bodies (in memory, then a temporary file) and enforces the idle,
header and body timeouts and the minimum rates; a connection costs no thread
until a whole request is ready. A ready request is handed to the pool through
one ``SimpleQueue``; the thread that takes it runs the WSGI app and writes the
response on the socket itself while the socket takes it. What a slow client
does not take is queued on the connection (:mod:`sluice.server.outbox`) and
sent by the loop on ``EPOLLOUT``, so the thread moves on at once. It answers
further pipelined requests already received (handing one with a body back to
the loop to receive it), and gives the connection back.

Sockets are registered once, edge-triggered, and never re-armed (PERF: one
``epoll_ctl`` less per request than ``EPOLLONESHOT``). Ownership is a flag
under a per-connection lock: an edge that reaches the loop while a pool
thread owns the connection only sets ``pending``, and the thread reads that
input before it lets go (:meth:`Worker._release`), so no edge is lost and no
two threads ever read one socket.

Closing when the server initiated it and bytes may still arrive is done by a
lingering close (RFC 9112 §9.6): shut down the sending side, discard input for
a short while, then close, so the client reads the error instead of a reset.

Hand-off rules (who owns a connection, which thread runs what):

- A connection is owned by the loop while ``busy`` is False and by exactly
  one pool thread while it is True. Only the loop sets ``busy`` (in
  :meth:`Worker._dispatch`, before the queue put that hands the connection
  over); only the owning thread clears it (in :meth:`Worker._release`),
  under ``lock``, after seeing ``pending`` False under the same lock.
- Loop thread only: ``_run_loop``, ``_accept``, ``_on_readable``,
  ``_advance``, ``_dispatch``, ``_sweep``, ``_close_idle``, and every epoll
  call but the unregister in ``_close``. It reads a socket only while it
  owns the connection; an edge that comes while a thread owns it sets
  ``pending`` (and ``hup``) under ``lock`` and nothing else.
- Pool threads only: ``_serve``, ``_next_request``, ``_release`` and the
  ``_Conn`` transport methods (``send``, ``sendfile``, ``recv``), on the
  connection they own.
- Either thread: ``_close`` and ``_reject``/``_linger`` on a connection it
  owns. ``_close`` pops the connection from ``conns`` first, so a second
  close is a no-op. ``AccessLog.write`` (a rejection's line is the loop's,
  a response's the pool thread's): its per-second state is replaced whole,
  and its handler's queue is a deque appended to under the GIL.
- The outbox (queued response bytes) is the one thing both threads touch
  while a pool thread owns the connection: the thread adds and the loop
  sends, both under ``lock``, and whoever adds sends right after until the
  socket refuses more, so bytes are never queued behind a socket with no
  ``EPOLLOUT`` edge to come. The thread sends straight to the socket, with
  no lock, only while the outbox is empty (only it adds to it). A thread
  done with a response still queued lets go with ``then`` set
  (``_hand_over``): the loop reads no input until the queue is sent, then
  does ``then`` (``_resume``: the next request, a close or a linger). The
  loop cuts a slow reader by marking the connection ``broken`` under
  ``lock``; if a thread owns it, the loop only shuts the socket down and the
  thread closes it.
- A pool thread that finds a kept-alive request with a body hands the
  connection back (``_handed_back`` and the wake pipe) after clearing
  ``busy`` under ``lock``; the loop goes on receiving the body
  (``_take_back``).
- Metrics (``--metrics-bind``): each pool thread writes only its own
  ``ThreadStats``; the loop stamps ``dispatched`` before the queue put that
  hands the connection over, and reads every thread's counters for
  :meth:`Worker.metrics_snapshot` (see :mod:`sluice.server.metrics`).
- What relies on the GIL: ``conns`` (a dict the loop iterates over a copy
  of while threads pop from it), the ``SimpleQueue`` hand-off, reads of
  ``busy`` outside ``lock`` by the loop (only the owner clears it), stores
  the loop makes outside ``lock`` before it sets ``pending`` under it
  (``hup``: the thread that takes ``lock`` next sees them), and ``next()``
  on the served-requests counter.

tests/server/test_worker.py ``test_hand_off_*`` drive these rules step by
step from one thread.
"""

from __future__ import annotations

import errno
import fcntl
import itertools
import logging
import os
import queue
import select
import signal
import socket
import struct
import sys
import termios
import threading
import time
import traceback
from collections.abc import Callable
from collections.abc import Sequence
from typing import IO
from typing import TYPE_CHECKING

from sluice import requestid
from sluice.errors import DeadlineExceeded
from sluice.errors import RemoteProtocolError
from sluice.server import gateway
from sluice.server.accesslog import AccessLog
from sluice.server.accesslog import access_log
from sluice.server.accesslog import escape
from sluice.server.listeners import close_listener
from sluice.server.listeners import describe
from sluice.server.outbox import WOULD_BLOCK
from sluice.server.outbox import Outbox
from sluice.server.outbox import ShortFile
from sluice.server.protocol import NEED_DATA
from sluice.server.protocol import ConnectionClosed
from sluice.server.protocol import Data
from sluice.server.protocol import EndOfMessage
from sluice.server.protocol import Limits
from sluice.server.protocol import Request
from sluice.server.protocol.connection import Connection
from sluice.server.protocol.writer import format_error
from sluice.server.protocol.writer import format_head
from sluice.server.response import Exchange
from sluice.server.response import clock
from sluice.server.wsgi import ServerInfo
from sluice.server.wsgi import WSGIApp
from sluice.server.wsgi import path_info
from sluice.trust import TrustedProxies

if TYPE_CHECKING:
    from ssl import SSLContext

    from sluice.server.metrics import ThreadStats
    from sluice.server.metrics import WorkerStats

log = logging.getLogger("sluice.error")

_EPOLLIN = select.EPOLLIN
# Edge-triggered: registered once per connection, never re-armed. EPOLLOUT
# edges come only after a send the socket refused (the queued-response case);
# otherwise the bit rides along with input edges at no cost.
_EVENTS = select.EPOLLIN | select.EPOLLOUT | select.EPOLLRDHUP | select.EPOLLET
_HUP_EVENTS = select.EPOLLRDHUP | select.EPOLLHUP | select.EPOLLERR
_INPUT_EVENTS = select.EPOLLIN | _HUP_EVENTS
# A queued response is sent on EPOLLOUT, and tried on an error or hang-up so
# that a client gone away is noticed (the send fails) without waiting for
# the rate check.
_OUT_EVENTS = select.EPOLLOUT | select.EPOLLERR | select.EPOLLHUP
_RECV_SIZE = 65536
_LINGER_SECONDS = 2.0
# Seconds a just-accepted connection may take to send its first request
# after a graceful stop began.
_FRESH_GRACE = 1.0
_ACCEPT_BATCH = 64
_ACCEPT_PAUSE = 0.5

# Linux: hold a head for the sendfile that follows (0 where it does not exist).
_MSG_MORE = getattr(socket, "MSG_MORE", 0)

# SO_LINGER on, 0 seconds: close() resets the connection.
_LINGER_RESET = struct.pack("ii", 1, 0)

#: Bytes per second a client must average, after the grace period, to keep
#: a transfer going (as Kestrel's MinResponseDataRate/MinRequestBodyDataRate).
MIN_DATA_RATE = 240.0


class Timeouts:
    """The timeouts a worker enforces, in seconds.

    Args:
        keepalive: how long an idle connection is kept between requests.
        header: the longest time to receive a whole request head, from its
            first byte (a slowloris client is cut off after it).
        body: the grace period of a request body: the client may send
            nothing for this long; after it, it must keep up ``min_recv_rate``.
        write: the grace period of a response: the client may take nothing
            for this long; after it, it must keep up ``min_send_rate``.
        graceful: how long in-flight requests may run after SIGTERM.
        min_send_rate: bytes per second a client must take, on average,
            after the grace period (0: each wait is bounded by ``write``
            alone). A slow but live client gets its whole response.
        min_recv_rate: bytes per second a client must send a body at, on
            average, after the grace period (0: each wait is bounded by
            ``body`` alone).
    """

    __slots__ = ("keepalive", "header", "body", "write", "graceful", "min_send_rate", "min_recv_rate")

    def __init__(
        self,
        keepalive: float = 5.0,
        header: float = 10.0,
        body: float = 30.0,
        write: float = 30.0,
        graceful: float = 30.0,
        min_send_rate: float = MIN_DATA_RATE,
        min_recv_rate: float = MIN_DATA_RATE,
    ) -> None:
        self.keepalive = keepalive
        self.header = header
        self.body = body
        self.write = write
        self.graceful = graceful
        self.min_send_rate = min_send_rate
        self.min_recv_rate = min_recv_rate


class Buffers:
    """How much of a transfer the server holds for a slow client, so that no thread waits for one.

    Args:
        response_memory: bytes of a response a connection keeps in memory
            for a client that does not take them yet (beyond a list body,
            which is queued as the app made it); more go to a temporary file.
        response_spool: bytes a connection keeps in its temporary file;
            past them, the thread producing the response waits for the
            client (0: no temporary file, the thread waits past
            ``response_memory``).
        request_memory: bytes of a request body the loop keeps in memory
            while it receives it; a larger body goes to a temporary file
            (bodies are bounded by ``Limits.max_body_size``).
    """

    __slots__ = ("response_memory", "response_spool", "request_memory")

    def __init__(
        self, response_memory: int = 256 * 1024, response_spool: int = 1024**3, request_memory: int = 1024 * 1024
    ) -> None:
        self.response_memory = response_memory
        self.response_spool = response_spool
        self.request_memory = request_memory


_DEFAULT_BUFFERS = Buffers()

#: What the loop does with a connection once its queued response is sent.
_THEN_NEXT = 1  # read the next request
_THEN_CLOSE = 2  # close it
_THEN_LINGER = 3  # close it after a lingering wait for input


class _Conn:
    """One client connection: its socket, its parser and who owns it now."""

    __slots__ = (
        "sock",
        "fd",
        "proto",
        "peer",
        "local",
        "deadline",
        "busy",
        "pending",
        "lock",
        "request",
        "body",
        "body_size",
        "head_started",
        "lingering",
        "write_timeout",
        "body_timeout",
        "hup",
        "fresh_until",
        "min_send_rate",
        "min_recv_rate",
        "out_started",
        "out_sent",
        "in_started",
        "in_received",
        "buffers",
        "outbox",
        "room",
        "broken",
        "then",
        "out_progress",
        "spool",
        "exchange",
        "thread_id",
        "served_since",
        "overdue",
        "cpu_mark",
        "native_id",
        "tls",
        "handshaking",
        "more_flag",
        "dispatched",
        "trusted",
    )

    #: When the loop handed the connection to the pool (set with metrics only).
    dispatched: float

    def __init__(
        self,
        sock: socket.socket,
        peer: tuple[str, int] | None,
        local: tuple[str, int] | None,
        limits: Limits,
        timeouts: Timeouts,
        buffers: Buffers | None = None,
    ) -> None:
        self.sock = sock
        self.fd = sock.fileno()
        self.proto = Connection(limits)
        self.peer = peer
        self.local = local
        self.deadline = 0.0
        self.busy = False
        self.pending = False
        self.lock = threading.Lock()
        self.request: Request | None = None
        self.body: list[bytes] = []
        self.body_size = 0
        self.head_started = 0.0
        self.lingering = False
        self.write_timeout = timeouts.write
        self.body_timeout = timeouts.body
        self.min_send_rate = timeouts.min_send_rate
        self.min_recv_rate = timeouts.min_recv_rate
        # The current exchange's transfer clocks (reset by Worker._serve):
        # when the first wait began, and the bytes moved so far.
        self.out_started = 0.0
        self.out_sent = 0
        self.in_started = 0.0
        self.in_received = 0
        #: The peer closed its sending side (EPOLLRDHUP): read to the EOF
        #: now, whatever arrived with it, instead of waiting for a timeout.
        self.hup = False
        #: Until then a stop leaves the idle connection open (set at accept).
        self.fresh_until = 0.0
        self.buffers = buffers or _DEFAULT_BUFFERS
        #: Response bytes the client has not taken yet, sent by the loop
        #: (created at the first send the socket refused). Guarded by ``lock``.
        self.outbox: Outbox | None = None
        #: Where a thread waits for room in a full outbox (made when needed).
        self.room: threading.Condition | None = None
        #: Why the connection can no longer send (set under ``lock``).
        self.broken: OSError | None = None
        #: Set when the thread let go with a response still queued: what the
        #: loop does with the connection once the queue is sent.
        self.then = 0
        #: When queued bytes last went out (the rate check with no rate).
        self.out_progress = 0.0
        #: The request body received so far, once past the memory limit.
        self.spool: IO[bytes] | None = None
        #: The exchange a pool thread is answering (set by the gateway).
        self.exchange: Exchange | None = None
        #: The owning pool thread, and since when it runs the current
        #: request (0.0 between requests; cleared under ``lock``).
        self.thread_id = 0
        self.served_since = 0.0
        #: The request ran past --timeout and the loop took the client over.
        self.overdue = False
        #: The overdue thread's CPU time (clock ticks) at the last look
        #: (None once DeadlineExceeded was raised in it).
        self.cpu_mark: int | None = None
        #: The owning pool thread's kernel id (for its CPU time).
        self.native_id = 0
        #: ``sock`` is an ``SSLSocket``; until its handshake is done, the
        #: loop drives it and reads no request.
        self.tls = self.handshaking = getattr(sock, "is_tls", False)
        # MSG_MORE for a head before a file; a TLS socket takes no flags.
        self.more_flag = 0 if self.tls else _MSG_MORE
        #: The peer is a trusted proxy (set at accept): it may name request ids.
        self.trusted = False

    # -- the gateway's Transport ---------------------------------------------

    def send(self, data: bytes, more: bool = False, hold: bool = False) -> None:
        """Send ``data``; what the socket does not take now is queued for the loop.

        Args:
            data: the bytes.
            more: more bytes follow at once (a head before ``sendfile``):
                the kernel may hold them to fill one segment with what
                follows (``MSG_MORE``), so a small file goes out in one
                packet with its head.
            hold: the app holds ``data`` anyway (an item of a list body):
                queue it as it is, outside the memory limit.

        Raises:
            OSError: the connection failed or was cut for its slowness.
        """
        outbox = self.outbox
        if outbox is None or not outbox.items:
            # PERF: nothing queued: straight to the socket, no lock.
            try:
                sent = self.sock.send(data, self.more_flag if more else 0)
            except WOULD_BLOCK:
                sent = 0
            self.out_sent += sent
            if sent == len(data):
                return
            data = memoryview(data)[sent:]  # type: ignore[assignment]
        with self.lock:
            outbox = self._outbox()
            outbox.add_bytes(data, hold)
            self._flush()
            self._wait_for_room(outbox)

    def sendfile(self, file: IO[bytes], offset: int, count: int) -> int:
        """Send ``count`` bytes of ``file`` from ``offset`` with ``os.sendfile``.

        What the socket does not take now is queued (with a duplicate of the
        file's descriptor) and sent by the loop.

        Returns:
            The bytes sent or queued; fewer than ``count`` when the file
            ended early.
        """
        fd = file.fileno()
        total = 0
        outbox = self.outbox
        if (outbox is None or not outbox.items) and not self.tls:
            while total < count:
                try:
                    sent = os.sendfile(self.fd, fd, offset + total, count - total)
                except BlockingIOError:
                    break
                if sent == 0:
                    return total  # the file is shorter than announced
                total += sent
                self.out_sent += sent
            if total == count:
                return total
        # A TLS connection sends every file from the outbox, in blocks
        # encrypted by whoever flushes it.
        with self.lock:
            outbox = self._outbox()
            outbox.add_file(os.dup(fd), offset + total, count - total)
            self._flush()
            self._wait_for_room(outbox)
        return count

    def _outbox(self) -> Outbox:
        """The outbox, made at the first refused send (under ``lock``).

        Raises:
            OSError: the connection can no longer send.
        """
        if self.broken is not None:
            raise self._broken_error()
        outbox = self.outbox
        if outbox is None:
            buffers = self.buffers
            outbox = self.outbox = Outbox(buffers.response_memory, buffers.response_spool)
        if not outbox.items:
            now = time.monotonic()
            self.out_progress = now
            if not self.out_started:
                self.out_started = now
        return outbox

    def _flush(self) -> bool:
        """Send queued bytes until the socket refuses more (under ``lock``); True if all went out.

        A failure marks the connection broken and drops the queue.
        """
        outbox = self.outbox
        assert outbox is not None
        try:
            sent = outbox.flush(self.sock, self.tls)
        except ShortFile as exc:
            log.error("%s: %s; the connection was closed", _peer(self), exc)
            self._break(exc)
            return False
        except OSError as exc:
            self._break(exc)
            return False
        if sent:
            self.out_sent += sent
            self.out_progress = time.monotonic()
            if self.room is not None:
                self.room.notify_all()
        return not outbox.items

    def _break(self, exc: OSError) -> None:
        """Mark the connection unable to send and drop its queue (under ``lock``)."""
        if self.broken is None:
            self.broken = exc
        if self.outbox is not None:
            self.outbox.discard()
        if self.room is not None:
            self.room.notify_all()

    def _wait_for_room(self, outbox: Outbox) -> None:
        """Wait (holding ``lock`` between waits) while the outbox is full.

        The loop's sweep cuts a client below the minimum rate, which ends
        the wait with an error.
        """
        if not outbox.full:
            return
        room = self.room
        if room is None:
            room = self.room = threading.Condition(self.lock)
        while outbox.full and self.broken is None:
            room.wait(1.0)
        if self.broken is not None:
            raise self._broken_error()

    def _broken_error(self) -> OSError:
        """The error a send on a broken connection raises (``broken`` is set)."""
        assert self.broken is not None
        return OSError(self.broken.errno, f"the connection failed: {self.broken}")

    def drop_body(self) -> None:
        """Forget the request body the loop received (its temporary file is closed)."""
        self.body = []
        self.body_size = 0
        if self.spool is not None:
            self.spool.close()
            self.spool = None

    def send_deadline(self) -> float:
        """When a client with queued response bytes falls below the minimum rate (loop side).

        The rate counts what the client took (bytes sent minus those still
        queued in the socket, ``TIOCOUTQ``), from the first send the socket
        refused in this exchange: it must have taken ``min_send_rate`` bytes
        a second after the grace period. A client reading one byte at a time
        is held to the same average. With no rate, the client may take
        nothing for the grace period at a time.
        """
        rate = self.min_send_rate
        if rate <= 0:
            return self.out_progress + self.write_timeout
        return self.out_started + self.write_timeout + self._taken() / rate

    def _taken(self) -> int:
        """Bytes of this exchange the client has taken (acknowledged)."""
        try:
            queued = int.from_bytes(fcntl.ioctl(self.fd, termios.TIOCOUTQ, b"\0\0\0\0"), sys.byteorder, signed=True)
        except OSError:
            queued = 0  # not a TCP socket (a unix socket): count what was sent
        return max(self.out_sent - queued, 0)

    def _too_slow(self) -> TimeoutError:
        taken = self._taken()
        elapsed = time.monotonic() - self.out_started
        log.warning(
            "%s took the response too slowly: %d bytes in %.1f s (below %d bytes/s after a %.1f s grace); connection reset",
            _peer(self),
            taken,
            elapsed,
            self.min_send_rate,
            self.write_timeout,
        )
        # The close that follows is abortive (RST): what the kernel still
        # holds for this client is dropped, not trickled out to it.
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RESET)
        except OSError:
            pass
        return TimeoutError("the client did not take the response at the minimum rate")

    def recv(self) -> bytes:
        """Receive body bytes from a client that keeps up the minimum rate.

        Raises:
            TimeoutError: the client fell below the minimum rate (or sent
                nothing within the grace period).
        """
        try:
            data = self._recv_now()
        except WOULD_BLOCK:
            poller = select.poll()
            poller.register(self.fd, select.POLLIN)
            while True:
                if not poller.poll(self._recv_wait() * 1000):
                    log.warning(
                        "%s sent the request body too slowly: %d bytes (below %d bytes/s after a %.1f s grace); 408",
                        _peer(self),
                        self.in_received,
                        self.min_recv_rate,
                        self.body_timeout,
                    )
                    raise TimeoutError("the client did not send the body at the minimum rate")
                try:
                    data = self._recv_now()
                    break
                except WOULD_BLOCK:
                    continue
        self.in_received += len(data)
        if len(data) == _RECV_SIZE or self.tls:
            # More may wait in the socket, and its edge was already reported
            # (a TLS read returns one record at most: read until it blocks).
            self.pending = True
        return data

    def _recv_now(self) -> bytes:
        if not self.tls:
            return self.sock.recv(_RECV_SIZE)
        # An SSL object must not read while the loop writes queued bytes.
        with self.lock:
            return self.sock.recv(_RECV_SIZE)

    def _recv_wait(self) -> float:
        now = time.monotonic()
        if not self.in_started:
            self.in_started = now
        rate = self.min_recv_rate
        if rate <= 0:
            return self.body_timeout
        return max(self.in_started + self.body_timeout + self.in_received / rate - now, 0.0)


class Worker:
    """Serve a WSGI app on listening sockets until stopped.

    Args:
        app: the WSGI application.
        listeners: bound, listening, non-blocking sockets.
        threads: size of the thread pool that runs the app.
        limits: protocol size limits.
        timeouts: the connection timeouts.
        info: per-server values for ``environ``.
        access_log_enabled: write one access-log line per response.
        max_requests: stop gracefully after this many responses (0: never),
            so a supervisor can replace the process.
        on_tick: called by the loop thread about once a second (a
            supervisor's heartbeat: the loop is making progress).
        buffers: what a connection may hold for a slow client.
        request_timeout: seconds a request may run (0: no limit). Past it
            its stack is logged, its client answered 504 (or cut if the
            response had begun) and ``DeadlineExceeded`` raised in its
            thread.
        recycle_stuck: stop gracefully (for a supervisor to replace the
            process) when a thread is still stuck a further
            ``request_timeout`` after its request was given up.
        ssl_context: serve TLS on TCP listeners with this server context
            (the loop does each handshake, bounded by the header timeout).
        on_retire: called (on a pool thread) when ``max_requests`` is
            reached, just before the graceful stop begins.
        health_path: a path the worker answers itself, 200 ``ok`` (liveness).
        ready_path: a path the worker answers itself, 200 ``ready``, or 503
            ``draining`` once a graceful stop began (readiness).
        access_log_format: ``combined`` or ``json`` (one object per line).
        metrics: count requests, durations and queue waits per pool thread
            (:mod:`sluice.server.metrics`) for :meth:`metrics_snapshot`.
        trusted_proxies: the peers whose ``X-Request-ID`` or ``traceparent``
            names a request's id (default: loopback; a unix-socket peer is
            always trusted).
    """

    def __init__(
        self,
        app: WSGIApp,
        listeners: Sequence[socket.socket],
        threads: int = 8,
        limits: Limits | None = None,
        timeouts: Timeouts | None = None,
        info: ServerInfo | None = None,
        access_log_enabled: bool = False,
        max_requests: int = 0,
        on_tick: Callable[[], None] | None = None,
        buffers: Buffers | None = None,
        request_timeout: float = 0.0,
        recycle_stuck: bool = False,
        ssl_context: SSLContext | None = None,
        on_retire: Callable[[], None] | None = None,
        health_path: str | None = None,
        ready_path: str | None = None,
        access_log_format: str = "combined",
        metrics: bool = False,
        trusted_proxies: TrustedProxies | None = None,
    ) -> None:
        self.app = app
        self.listeners = {s.fileno(): s for s in listeners}
        self._listener_addrs = {
            s.fileno(): (s.getsockname()[:2] if s.family != socket.AF_UNIX else None) for s in listeners
        }
        self.threads = threads
        self.limits = limits or Limits()
        self.timeouts = timeouts or Timeouts()
        self.buffers = buffers or _DEFAULT_BUFFERS
        self.request_timeout = request_timeout
        self.recycle_stuck = recycle_stuck
        self.ssl_context = ssl_context
        #: Connections given up at the deadline whose thread still runs,
        #: and when they were given up.
        self._stuck: dict[_Conn, float] = {}
        self.info = info or ServerInfo()
        if ssl_context is not None and self.info.url_scheme != "https":
            info = self.info
            self.info = ServerInfo(info.script_name, info.multiprocess, info.server_header, "https", info.errors)
        self.access_log_enabled = access_log_enabled
        self._access_log = AccessLog(access_log_format == "json")
        self.trusted_proxies = trusted_proxies if trusted_proxies is not None else TrustedProxies()
        self.max_requests = max_requests
        self.on_tick = on_tick
        self.on_retire = on_retire
        #: Probe paths the worker answers without the app: path -> is readiness.
        self._probes: dict[str, bool] = {}
        if health_path:
            self._probes[health_path] = False
        if ready_path:
            self._probes[ready_path] = True
        self._served = itertools.count(1)  # next() is atomic under the GIL
        self.conns: dict[int, _Conn] = {}
        self._queue: queue.SimpleQueue[tuple[_Conn, bool] | None] = queue.SimpleQueue()
        #: Connections a pool thread gives back to receive a request's body.
        self._handed_back: queue.SimpleQueue[_Conn] = queue.SimpleQueue()
        policy = getattr(app, "streams_request_body", None)
        self._body_policy: Callable[[str, str, int | None], bool] | None = policy if callable(policy) else None
        self._epoll = select.epoll()
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        self._stopping = False
        self._stop_deadline = 0.0
        self._accept_paused_until = 0.0
        self._pool: list[threading.Thread] = []
        self.stats: WorkerStats | None = None
        if metrics:
            from sluice.server.metrics import WorkerStats  # loaded with metrics only

            self.stats = WorkerStats()
        #: The loop's own counters: the requests it answers itself (rejections, 504s).
        self._loop_stats: ThreadStats | None = self.stats.thread() if self.stats is not None else None

    # -- lifecycle -------------------------------------------------------------

    def stop(self) -> None:
        """Begin a graceful stop; safe to call from a signal handler or a thread."""
        if not self._stopping:
            self._stopping = True
            self._stop_deadline = time.monotonic() + self.timeouts.graceful
        try:
            os.write(self._wake_w, b"x")
        except OSError:
            pass

    def install_signal_handlers(self) -> None:
        """Stop gracefully on SIGTERM and SIGINT (main thread only)."""
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda signum, frame: self.stop())

    def run(self) -> None:
        """Run the loop until :meth:`stop` was called and in-flight work ended."""
        requestid.install_log_records()
        for i in range(self.threads):
            t = threading.Thread(target=self._thread_main, name=f"sluice-worker-{i}", daemon=True)
            t.start()
            self._pool.append(t)
        epoll = self._epoll
        epoll.register(self._wake_r, _EPOLLIN)
        for fd in self.listeners:
            epoll.register(fd, _EPOLLIN)
        for sock in self.listeners.values():
            log.info("Listening on %s", describe(sock, "https" if self.ssl_context is not None else "http"))
        try:
            self._loop()
        finally:
            for _ in self._pool:
                self._queue.put(None)
            # Threads still running an app past the graceful timeout are
            # daemons: they are abandoned, not waited for.
            join_deadline = time.monotonic() + 1.0
            for t in self._pool:
                t.join(timeout=max(0.0, join_deadline - time.monotonic()))
            for conn in list(self.conns.values()):
                self._close(conn)
            # The access log writes in batches: every line of this run is
            # written before run() returns.
            for handler in access_log.handlers:
                handler.flush()
            epoll.close()
            os.close(self._wake_r)
            os.close(self._wake_w)

    def _loop(self) -> None:
        previous = _set_batch_policy()
        try:
            self._run_loop()
        finally:
            if previous is not None:
                _restore_policy(previous)

    def _run_loop(self) -> None:
        epoll = self._epoll
        listeners = self.listeners
        conns = self.conns
        wake_fd = self._wake_r
        next_sweep = time.monotonic() + 1.0
        stopped_accepting = False
        while True:
            events = epoll.poll(0.5 if not self._stopping else 0.1)
            for fd, mask in events:
                conn = conns.get(fd)
                if conn is not None:
                    if conn.handshaking:
                        self._handshake(conn)
                        continue
                    if conn.outbox is not None and mask & _OUT_EVENTS and conn.outbox.items:
                        self._drain(conn)
                    if mask & _INPUT_EVENTS:
                        if mask & _HUP_EVENTS:
                            conn.hup = True
                        self._on_readable(conn)
                elif fd in listeners:
                    self._accept(listeners[fd], fd)
                elif fd == wake_fd:
                    try:
                        os.read(wake_fd, 4096)
                    except BlockingIOError:
                        pass
                    self._take_back()
            now = time.monotonic()
            if self._stopping:
                if not stopped_accepting:
                    stopped_accepting = True
                    self._stop_accepting()
                    log.info("Stopping: finishing %d in-flight request(s)", self._busy_count())
                self._close_idle()
                if not conns:
                    return
                if now >= self._stop_deadline:
                    log.warning(
                        "graceful timeout: closing %d connection(s) still busy", len(conns)
                    )
                    return
            if self._accept_paused_until and now >= self._accept_paused_until and not self._stopping:
                self._resume_accepting()
            if now >= next_sweep:
                next_sweep = now + 1.0
                self._sweep(now)
                self._check_stuck(now)
                if self.on_tick is not None:
                    self.on_tick()

    def metrics_snapshot(self) -> bytes:
        """This worker's counters and gauges as a pipe frame (loop side; metrics on)."""
        assert self.stats is not None
        return self.stats.snapshot(self._queue.qsize(), self.threads, len(self.conns))

    def _busy_count(self) -> int:
        return sum(1 for c in list(self.conns.values()) if c.busy)

    def _stop_accepting(self) -> None:
        for fd, sock in list(self.listeners.items()):
            try:
                self._epoll.unregister(fd)
            except OSError:
                pass
            close_listener(sock)
        self.listeners.clear()

    def _close_idle(self) -> None:
        """During a graceful stop: close idle connections once nothing is in flight.

        While requests are still running (the drain), idle keep-alive
        connections stay open until their keep-alive deadline: a request on
        one is answered with ``Connection: close`` (a readiness probe with
        503), not met by a close that its client would see as a failure.
        """
        conns = list(self.conns.values())
        if any(c.busy or c.then or c.request is not None for c in conns):
            return
        now = time.monotonic()
        for conn in conns:
            if not conn.busy and not conn.then and conn.request is None and conn.proto.is_idle:
                # A connection accepted a moment ago has a request on its
                # way: it gets a short grace to send it (and be answered,
                # with Connection: close) instead of a close it would see
                # as a failure of its first request.
                if conn.fresh_until > now:
                    continue
                self._close(conn)

    def _sweep(self, now: float) -> None:
        """Close connections whose deadline passed (idle, head, body, linger, slow reader)."""
        for conn in list(self.conns.values()):
            outbox = conn.outbox
            if outbox is not None and outbox.items:
                if conn.send_deadline() <= now:
                    self._cut_slow_reader(conn)
                continue
            if conn.busy:
                since = conn.served_since
                if since and self.request_timeout and now - since > self.request_timeout:
                    self._overrun(conn, now)
                continue
            if conn.then or conn.deadline > now:
                continue
            if conn.lingering or conn.proto.is_idle and conn.request is None:
                self._close(conn)
            else:
                self._reject(conn, 408, "the request was not received in time")

    # -- loop-side connection handling ---------------------------------------

    def _pause_accepting(self, exc: OSError) -> None:
        if self._accept_paused_until:
            return
        log.warning(
            "cannot accept connections: %s (%d open); pausing accept for %.1fs. "
            "Raise the open-files limit (ulimit -n) or add workers.",
            exc.strerror,
            len(self.conns),
            _ACCEPT_PAUSE,
        )
        self._accept_paused_until = time.monotonic() + _ACCEPT_PAUSE
        for fd in self.listeners:
            self._epoll.modify(fd, 0)

    def _resume_accepting(self) -> None:
        self._accept_paused_until = 0.0
        for fd in self.listeners:
            self._epoll.modify(fd, _EPOLLIN)

    def _accept(self, lsock: socket.socket, lfd: int) -> None:
        local = self._listener_addrs[lfd]
        is_tcp = lsock.family != socket.AF_UNIX
        for _ in range(_ACCEPT_BATCH):
            try:
                sock, addr = lsock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                if exc.errno in (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM):
                    # Out of descriptors: the pending connection stays in the
                    # backlog. Stop polling the listeners for a moment rather
                    # than spin on a socket that stays readable.
                    self._pause_accepting(exc)
                elif exc.errno not in (errno.ECONNABORTED, errno.EPROTO):
                    log.error("accept() failed: %s", exc)
                return
            sock.setblocking(False)
            if is_tcp:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                peer = addr[:2]
                if self.ssl_context is not None:
                    from sluice.server.tls import TLSSocket  # loaded with TLS only

                    sock = TLSSocket(sock, self.ssl_context)  # type: ignore[assignment]
            else:
                peer = None
            conn = _Conn(sock, peer, local, self.limits, self.timeouts, self.buffers)
            conn.trusted = peer is None or peer[0] in self.trusted_proxies
            now = time.monotonic()
            # A TLS handshake is part of the head: the header timeout bounds it.
            conn.deadline = now + (self.timeouts.header if conn.tls else self.timeouts.keepalive)
            conn.fresh_until = now + _FRESH_GRACE
            self.conns[conn.fd] = conn
            try:
                self._epoll.register(conn.fd, _EVENTS)
            except OSError as exc:
                log.error("epoll register failed: %s", exc)
                self._close(conn)

    def _on_readable(self, conn: _Conn) -> None:
        with conn.lock:
            if conn.busy or conn.then:
                # A pool thread owns it, and reads this input when it is
                # done; or a response is still queued, and the input is read
                # once it is sent (_resume).
                conn.pending = True
                return
        sock = conn.sock
        while True:
            try:
                data = sock.recv(_RECV_SIZE)
            except WOULD_BLOCK:
                return
            except OSError:
                self._close(conn)
                return
            if conn.lingering:
                if not data:
                    self._close(conn)
                    return
                continue
            proto = conn.proto
            if not data and proto.is_idle and conn.request is None:
                self._close(conn)
                return
            if proto.is_idle and conn.request is None:
                conn.head_started = time.monotonic()
            proto.receive_data(data)
            # Edge-triggered: a full buffer means more may wait unreported,
            # and after the peer's close (hup) the EOF waits unreported. A
            # TLS read returns one record at most: read until it blocks.
            conn.pending = len(data) == _RECV_SIZE or conn.tls
            self._advance(conn)
            if not data or conn.busy or conn.fd not in self.conns:
                return
            if not conn.pending and not conn.hup:
                return

    def _advance(self, conn: _Conn) -> None:
        """Parse what arrived; dispatch a ready request or wait for more."""
        proto = conn.proto
        try:
            if conn.request is None:
                event = proto.next_event()
                if event is NEED_DATA:
                    conn.deadline = conn.head_started + self.timeouts.header
                    return
                if type(event) is not Request:
                    self._close(conn)  # ConnectionClosed
                    return
                if not event.has_body:
                    self._dispatch(conn, event, True)
                    return
                if not self._buffers_body(event):
                    self._dispatch(conn, event, False)
                    return
                conn.request = event
                conn.in_started = time.monotonic()
            request = conn.request
            while True:
                event = proto.next_event()
                if type(event) is Data:
                    conn.body_size += len(event.data)
                    if conn.spool is not None:
                        _write_all(conn.spool, event.data)
                    elif conn.body_size > self.buffers.request_memory:
                        # Past the memory limit the body goes to a file.
                        conn.body.append(event.data)
                        conn.spool = spool = _temporary_file("sluice-body-")
                        for piece in conn.body:
                            _write_all(spool, piece)
                        conn.body = []
                    else:
                        conn.body.append(event.data)
                elif type(event) is EndOfMessage:
                    self._dispatch(conn, request, True)
                    return
                else:
                    # The body's grace period, then the minimum rate on
                    # average (a drip of bytes does not reset a clock).
                    rate = self.timeouts.min_recv_rate
                    if rate > 0:
                        conn.deadline = conn.in_started + self.timeouts.body + conn.body_size / rate
                    else:
                        conn.deadline = time.monotonic() + self.timeouts.body
                    return
        except RemoteProtocolError as exc:
            self._reject(conn, exc.status_hint, str(exc))

    def _dispatch(self, conn: _Conn, request: Request, body_done: bool) -> None:
        conn.request = request
        if self.stats is not None:
            conn.dispatched = time.monotonic()
        conn.busy = True
        self._queue.put_nowait((conn, body_done))

    def _buffers_body(self, request: Request) -> bool:
        """Whether the loop receives this request's body before the app runs.

        Not when the client waits for ``100 Continue`` (the app decides
        whether it wants the body), nor when the app asks for its body as it
        arrives (``streams_request_body(method, path, content_length)``,
        see ``App``: a streaming route, or a body the app refuses at once).
        """
        if request.expect_continue:
            return False
        policy = self._body_policy
        if policy is None:
            return True
        try:
            return not policy(request.method, path_info(request, self.info.script_name), request.content_length)
        except Exception:
            log.exception("streams_request_body() of the app failed for %s %s", request.method, request.target)
            return True

    def _take_back(self) -> None:
        """Go on reading the bodies of requests the pool threads handed back (loop side)."""
        while True:
            try:
                conn = self._handed_back.get_nowait()
            except queue.Empty:
                return
            if conn.busy or conn.fd not in self.conns:
                continue
            self._advance(conn)
            self._read_noted(conn)

    def _read_noted(self, conn: _Conn) -> None:
        """Read the input noted while the connection was not the loop's, if the loop still has it (loop side)."""
        if conn.fd in self.conns and not conn.busy and (conn.pending or conn.hup):
            self._on_readable(conn)

    def _drain(self, conn: _Conn) -> None:
        """Send a connection's queued response bytes as its socket drains (loop side)."""
        with conn.lock:
            if conn.broken is not None:
                return
            sent_all = conn._flush()
            failed = conn.broken is not None
            then = 0 if conn.busy else conn.then
        if failed:
            if not then:
                # A thread owns the connection: its next send fails, and it
                # closes the connection. Wake it if it waits in a recv.
                _shutdown(conn.sock)
            else:
                log.debug("connection from %s lost while its response was sent: %s", _peer(conn), conn.broken)
                self._close(conn)
            return
        if sent_all and then:
            self._resume(conn)

    def _resume(self, conn: _Conn) -> None:
        """Go on with a connection whose queued response went out (loop side)."""
        then = conn.then
        conn.then = 0
        if then == _THEN_CLOSE:
            self._close(conn)
            return
        if then == _THEN_LINGER:
            self._linger(conn)
            return
        now = time.monotonic()
        conn.deadline = now + self.timeouts.keepalive
        if conn.proto.has_buffered_data:
            # A pipelined request (or a part of one) came with the last.
            conn.head_started = now
            self._advance(conn)
        self._read_noted(conn)

    def _overrun(self, conn: _Conn, now: float) -> None:
        """Give up on a request past ``request_timeout`` (loop side).

        The client is taken from the thread: its descriptor number is
        pointed at an unconnected stand-in socket (``dup2``), so whatever
        the thread still sends fails and is discarded, while the loop keeps
        the real connection and answers 504 on it, or closes it if the
        response had begun. ``DeadlineExceeded`` is raised in the thread by
        :meth:`_check_stuck` once it runs (not while it waits in C: a
        pending asynchronous exception stalls every thread of the process
        under a tracer, such as coverage's, until it is taken).
        """
        request = conn.request
        with conn.lock:
            # Marked first, then checked: the thread clears served_since
            # first, then checks overdue (see _serve).
            conn.overdue = True
            since = conn.served_since
            if not since:
                conn.overdue = False
                return  # it finished meanwhile
            self.conns.pop(conn.fd, None)
            try:
                self._epoll.unregister(conn.fd)
            except (OSError, ValueError):
                pass
            try:
                client_fd = os.dup(conn.fd)
                stand_in = socket.socket()
                os.dup2(stand_in.fileno(), conn.fd)
                stand_in.close()
            except OSError as exc:
                log.error("could not take over the connection of an overdue request: %s", exc)
                client_fd = -1
            conn._break(ConnectionAbortedError(errno.ECONNABORTED, "the request ran past --timeout"))
            exchange = conn.exchange
            began = exchange is not None and exchange.headers_sent
            frame = sys._current_frames().get(conn.thread_id)
            stack = "".join(traceback.format_stack(frame)) if frame is not None else "(the thread has ended)\n"
            del frame
            log.error(
                "%s %s from %s still running after %.1f s (--timeout %g): %s; DeadlineExceeded raised in its thread, "
                "whose stack is:\n%s",
                request.method if request is not None else "-",
                escape(request.target) if request is not None else "-",
                _peer(conn),
                now - since,
                self.request_timeout,
                "connection closed (the response had begun)"
                if began
                else "connection closed (TLS)"
                if conn.tls
                else "answered 504",
                stack.rstrip("\n"),
            )
            if client_fd >= 0:
                self._answer_overdue(conn, client_fd, began, since)
            # DeadlineExceeded follows at the next sweep that finds it
            # running (_interrupt).
            conn.cpu_mark = _thread_cpu(conn.native_id)
            self._stuck[conn] = now

    def _answer_overdue(self, conn: _Conn, client_fd: int, began: bool, since: float) -> None:
        """Answer the client of a request given up at its deadline: 504, or a close if the response began."""
        if began or conn.tls:
            # A TLS connection's state is the thread's SSL object: the loop
            # cannot answer on it, only close it.
            os.close(client_fd)
            return
        sock = socket.socket(fileno=client_fd)
        sock.setblocking(False)
        client = _Conn(sock, conn.peer, conn.local, self.limits, self.timeouts, self.buffers)
        self.conns[client.fd] = client
        try:
            self._epoll.register(client.fd, _EVENTS)
        except OSError:
            self._close(client)
            return
        exchange = conn.exchange
        self._reject(
            client,
            504,
            "the app did not answer within the server's --timeout",
            conn.request,
            since,
            exchange.request_id if exchange is not None and exchange.request_id else None,
        )

    def _interrupt(self, conn: _Conn) -> None:
        """Raise ``DeadlineExceeded`` in an overdue request's thread if it runs (loop side).

        It runs when its CPU time grew since the last look; a thread asleep
        in C (a sleep, a read) uses none. Under ``lock`` with
        ``served_since`` still set, the thread is still in that request (see
        _serve), so the exception cannot reach another.
        """
        mark = conn.cpu_mark
        if mark is None:
            return  # raised already
        now_mark = _thread_cpu(conn.native_id)
        if now_mark == mark:
            return  # waiting (or gone): look again at the next sweep
        with conn.lock:
            if conn.served_since:
                _raise_in_thread(conn.thread_id)
            conn.cpu_mark = None

    def _check_stuck(self, now: float) -> None:
        """Interrupt overdue threads that run Python; recycle the worker when they stay stuck (loop side)."""
        if not self._stuck:
            return
        for conn in list(self._stuck):
            self._interrupt(conn)
        limit = self.request_timeout
        stuck = sum(1 for since in list(self._stuck.values()) if now - since > limit)
        if not stuck or self._stopping:
            return
        if self.recycle_stuck:
            log.error(
                "%d thread(s) still stuck in the app %.0f s after their request was given up: "
                "stopping gracefully to be replaced",
                stuck,
                limit,
            )
            self.stop()
        else:
            log.error(
                "%d thread(s) still stuck in the app %.0f s after their request was given up "
                "(run with --workers to have a stuck process replaced)",
                stuck,
                limit,
            )
            for conn, since in list(self._stuck.items()):
                if now - since > limit:
                    self._stuck[conn] = now  # said once per period

    def _handshake(self, conn: _Conn) -> None:
        """Advance a TLS handshake (loop side); once done, read the request."""
        try:
            conn.sock.do_handshake()  # type: ignore[attr-defined]
        except WOULD_BLOCK:
            return
        except OSError as exc:  # ssl.SSLError included
            log.debug("TLS handshake with %s failed: %s", _peer(conn), exc)
            self._close(conn)
            return
        conn.handshaking = False
        now = time.monotonic()
        conn.deadline = now + self.timeouts.keepalive
        # The request may have come with the handshake's last flight.
        conn.pending = True
        self._on_readable(conn)

    def _cut_slow_reader(self, conn: _Conn) -> None:
        """Cut a client that takes its queued response below the minimum rate (loop side)."""
        error = conn._too_slow()
        with conn.lock:
            conn._break(error)
            owned = conn.busy
        if owned:
            _shutdown(conn.sock)  # the owning thread's next send fails; it closes
        else:
            self._close(conn)

    def _hand_over(self, conn: _Conn, then: int) -> bool:
        """Give the loop a connection whose response is still queued (pool thread side).

        Returns:
            True if the loop took it (it does ``then`` once the queue is
            sent); False if nothing is queued and the thread goes on.
        """
        outbox = conn.outbox
        if outbox is None or not outbox.items:
            return False
        with conn.lock:
            if not outbox.items:
                return False
            conn.then = then
            conn.busy = False
            return True

    def _release(self, conn: _Conn) -> bytes | None:
        """Give a connection back to the loop (pool thread side).

        Input that arrived while the thread owned the connection was
        reported to the loop, which only noted it (``pending``): the thread
        reads it before letting go. Returns received bytes that the caller
        must parse (the connection is still its own), ``b""`` on EOF, or
        None once the loop owns the connection.
        """
        while True:
            with conn.lock:
                if not conn.pending:
                    conn.busy = False
                    return None
                conn.pending = False
            try:
                data = conn.sock.recv(_RECV_SIZE)
            except WOULD_BLOCK:
                continue
            except OSError:
                return b""
            if len(data) == _RECV_SIZE or (conn.hup or conn.tls) and data:
                # More may wait: the rest of a full read, or the peer's EOF.
                conn.pending = True
            return data

    def _reject(
        self,
        conn: _Conn,
        code: int,
        message: str,
        request: Request | None = None,
        started: float = 0.0,
        request_id: str | None = None,
    ) -> None:
        """Answer a protocol error from the loop, log it, and close (lingering).

        Args:
            conn: the connection.
            code: the status code.
            message: what was wrong, for the client and the error log.
            request: the request head, if it was read whole (by default the
                one whose body the loop was receiving).
            started: when the request began (by default its head's first byte).
            request_id: the request's id (by default its trusted
                ``X-Request-ID`` or ``traceparent``, else a new one).
        """
        if request is None:
            request = conn.request
        if request_id is None:
            request_id = self._request_id(conn, request)
        thread = threading.get_ident()
        requestid.serving[thread] = request_id
        try:
            log.info("rejected a request from %s with %d: %s", _peer(conn), code, message)
        finally:
            requestid.serving[thread] = None
        data = format_error(code, message, clock.date(), request_id=request_id)
        try:
            sent: int | None = conn.sock.send(data)
        except OSError:
            sent = None
        if self.access_log_enabled or self._loop_stats is not None:
            now = time.monotonic()
            began = started or conn.head_started or now
            if self._loop_stats is not None:
                self._loop_stats.done(request.method if request is not None else "", code, now - began)
            if self.access_log_enabled:
                body = max(0, (sent or 0) - data.index(b"\r\n\r\n") - 4)
                self._access_log.write(conn.peer, request, code, body, began, request_id)
        if sent is None:
            self._close(conn)
            return
        self._linger(conn)

    @staticmethod
    def _request_id(conn: _Conn, request: Request | None) -> str:
        """The id of a request the worker answers itself (a probe, a rejection), from its head's headers."""
        if request is None or not conn.trusted:
            return requestid.new_id()
        given = traceparent = None
        for name, value in request.headers:
            if name == "x-request-id":
                given = value if given is None else f"{given}, {value}"
            elif name == "traceparent":
                traceparent = value if traceparent is None else f"{traceparent}, {value}"
        return requestid.choose(given, traceparent)

    def _linger(self, conn: _Conn) -> None:
        try:
            conn.sock.shutdown(socket.SHUT_WR)
        except OSError:
            self._close(conn)
            return
        conn.lingering = True
        conn.deadline = time.monotonic() + _LINGER_SECONDS
        # Input already in the socket has no edge left to report: discard it
        # here; later input reaches the loop, which discards it too.
        while True:
            data = self._release(conn)
            if data is None:
                return
            if not data:
                self._close(conn)
                return

    def _close(self, conn: _Conn) -> None:
        if conn.overdue:
            # Given up at the deadline: the loop has the client; this is
            # the thread closing its stand-in descriptor.
            self._stuck.pop(conn, None)
            conn.sock.close()
            conn.drop_body()
            return
        if self.conns.pop(conn.fd, None) is None:
            return
        try:
            self._epoll.unregister(conn.fd)
        except (OSError, ValueError):
            pass
        if conn.outbox is not None:
            # The loop may be sending queued bytes: it stops once it holds
            # the lock again, before the descriptor can be reused.
            with conn.lock:
                conn._break(ConnectionAbortedError(errno.ECONNABORTED, "the connection was closed"))
        try:
            conn.sock.close()
        except OSError:
            pass
        if conn.body_size:
            conn.drop_body()

    # -- thread-side ---------------------------------------------------------

    def _thread_main(self) -> None:
        _set_batch_policy()
        get = self._queue.get
        stats = self.stats.thread() if self.stats is not None else None
        while True:
            item = get()
            if item is None:
                return
            conn, body_done = item
            try:
                self._serve(conn, body_done, stats)
            except DeadlineExceeded:
                # Raised for a request given up at the deadline, after
                # _serve's own handler (the loop has its client).
                self._close(conn)
            except Exception:
                log.exception("internal error while serving %s", _peer(conn))
                self._close(conn)
            if stats is not None:
                stats.busy = 0

    def _serve(self, conn: _Conn, body_done: bool, stats: ThreadStats | None = None) -> None:
        """Answer the dispatched request and any pipelined ones after it."""
        proto = conn.proto
        request = conn.request
        assert request is not None
        if stats is not None:
            stats.begin(time.monotonic() - conn.dispatched)
        log_access = self._access_log.write if self.access_log_enabled else None
        probes = self._probes
        conn.thread_id = threading.get_ident()
        conn.native_id = threading.get_native_id()
        while True:
            started = time.monotonic()
            conn.served_since = started
            # The minimum-rate clocks start with each exchange.
            conn.out_started = conn.in_started = 0.0
            conn.out_sent = conn.in_received = 0
            try:
                if probes and request.path in probes:
                    outcome = self._answer_probe(conn, request, probes[request.path], body_done)
                else:
                    outcome = gateway.handle_request(
                        self.app,
                        proto,
                        request,
                        conn,
                        self.info,
                        conn.local,
                        conn.peer,
                        not self._stopping,
                        body_done,
                        b"".join(conn.body) if conn.body else b"",
                        conn.spool,
                        conn.trusted,
                    )
                # The request is done: the loop no longer gives it up. PERF:
                # no lock here. The loop marks ``overdue`` before it reads
                # ``served_since``, this thread clears ``served_since`` before
                # it reads ``overdue`` (stores and loads are ordered under the
                # GIL): so either the loop sees 0.0 and lets go, or this
                # thread sees ``overdue`` and waits, under ``lock``, for the
                # loop's decision (see _overrun).
                conn.served_since = 0.0
                if conn.overdue:
                    with conn.lock:
                        pass  # the loop decided: took the client over, or let go
                    if conn.overdue:
                        self._close(conn)
                        return
            except DeadlineExceeded:
                self._close(conn)
                return
            except OSError as exc:
                if not conn.overdue:
                    log.debug("connection from %s lost: %s", _peer(conn), exc)
                self._close(conn)
                return
            if stats is not None:
                stats.done(request.method, outcome.status, time.monotonic() - started)
            if log_access is not None:
                log_access(conn.peer, request, outcome.status, outcome.bytes_sent, started, outcome.request_id)
            if self.max_requests and next(self._served) == self.max_requests:
                log.info("served %d requests (--max-requests): stopping gracefully", self.max_requests)
                if self.on_retire is not None:
                    self.on_retire()
                self.stop()
            if conn.body_size:
                conn.drop_body()
            conn.request = None
            # A response that promised keep-alive keeps it even if a stop
            # began meanwhile: the loop closes the connection once idle and
            # nothing is in flight (_close_idle); closing it here would meet
            # a request already on its way.
            if not outcome.keep_alive:
                clean = outcome.body_complete and not proto.has_buffered_data
                if conn.outbox is not None and self._hand_over(conn, _THEN_CLOSE if clean else _THEN_LINGER):
                    return
                if clean:
                    self._close(conn)
                else:
                    self._linger(conn)
                return
            proto.start_next_cycle()
            if conn.outbox is not None and self._hand_over(conn, _THEN_NEXT):
                return
            next_request = self._next_request(conn)
            if next_request is None:
                return
            request = next_request
            conn.request = request
            body_done = not request.has_body
            if not body_done and self._buffers_body(request):
                # Its body is the loop's to receive, like any other.
                conn.in_started = time.monotonic()
                with conn.lock:
                    conn.busy = False
                self._handed_back.put(conn)
                try:
                    os.write(self._wake_w, b"x")
                except OSError:
                    pass
                return

    def _answer_probe(self, conn: _Conn, request: Request, readiness: bool, body_done: bool) -> gateway.Outcome:
        """Answer a health or readiness probe without the app (pool thread side).

        GET and HEAD only (405 otherwise). Readiness is 503 ``draining`` from
        the moment a graceful stop begins, with ``Connection: close``. A body
        sent with the probe that the loop has not received whole is not
        read: the connection closes after the answer.
        """
        if request.method not in ("GET", "HEAD"):
            status, body, extra = "405 Method Not Allowed", b"use GET or HEAD\n", "Allow: GET, HEAD\r\n"
        elif readiness and self._stopping:
            status, body, extra = "503 Service Unavailable", b"draining\n", ""
        else:
            status, body, extra = "200 OK", b"ready\n" if readiness else b"ok\n", ""
        keep_alive = request.keep_alive and not self._stopping and body_done
        request_id = self._request_id(conn, request)
        lines = [
            extra,
            f"Content-Type: text/plain; charset=utf-8\r\nContent-Length: {len(body)}\r\nCache-Control: no-store\r\n",
            clock.stamp(self.info.server_header),
            f"X-Request-ID: {request_id}\r\n",
        ]
        if not keep_alive:
            lines.append("Connection: close\r\n")
        elif request.http_version == "1.0":
            lines.append("Connection: keep-alive\r\n")
        head = format_head(status, [], "".join(lines))
        sent = 0 if request.method == "HEAD" else len(body)
        conn.send(head + body if sent else head)
        return gateway.Outcome(keep_alive, int(status[:3]), sent, body_done, request_id)

    def _next_request(self, conn: _Conn) -> Request | None:
        """Return the next request already received, else give the connection back.

        A pipelined request, or one whose bytes arrived while this thread
        owned the connection, is returned to be answered by this thread.
        Otherwise the connection goes back to the loop (with the keep-alive
        or header deadline), or is closed or rejected, and None is returned.
        """
        proto = conn.proto
        deadline_set = receiving = False
        while True:
            try:
                event = proto.next_event()
            except RemoteProtocolError as exc:
                self._reject(conn, exc.status_hint, str(exc))
                return None
            if type(event) is Request:
                return event
            if type(event) is ConnectionClosed:
                self._close(conn)
                return None
            # NEED_DATA: the header deadline runs from the head's first byte.
            if not deadline_set or (not receiving and proto.is_receiving_head):
                receiving = proto.is_receiving_head
                now = time.monotonic()
                if receiving:
                    conn.head_started = now
                    conn.deadline = now + self.timeouts.header
                else:
                    conn.deadline = now + self.timeouts.keepalive
                deadline_set = True
            data = self._release(conn)
            if data is None:
                return None
            proto.receive_data(data)


def _set_batch_policy() -> tuple[int, int] | None:
    """Put the calling thread in Linux's SCHED_BATCH policy; return the old one.

    PERF: the loop and the pool threads hand requests to each other many
    thousand times a second. Under SCHED_OTHER a woken thread preempts the
    waker, finds the GIL still held, and the CPU switches back: two wasted
    context switches per hand-off. SCHED_BATCH (a normal, unprivileged
    policy) turns wake-up preemption off, so the waker runs until it blocks
    and the woken thread finds the GIL free (benchmarks/server.py,
    keep-alive c16: ~49k -> ~57k req/s on one core). Nice levels and
    fairness are unchanged.
    """
    if not hasattr(os, "SCHED_BATCH"):
        return None
    try:
        previous = (os.sched_getscheduler(0), os.sched_getparam(0).sched_priority)
        os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0))
    except OSError:
        return None
    return previous


def _restore_policy(previous: tuple[int, int]) -> None:
    try:
        os.sched_setscheduler(0, previous[0], os.sched_param(previous[1]))
    except OSError:
        pass


def _thread_cpu(native_id: int) -> int:
    """A thread's CPU time in clock ticks, user and system (-1 if it is gone)."""
    try:
        with open(f"/proc/self/task/{native_id}/stat", "rb") as stat:
            fields = stat.read().rpartition(b")")[2].split()
    except OSError:
        return -1
    return int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)


def _raise_in_thread(thread_id: int) -> None:
    """Raise ``DeadlineExceeded`` in a thread at its next bytecode."""
    import ctypes  # rare path; keeps the worker's import light

    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id), ctypes.py_object(DeadlineExceeded))


def _temporary_file(prefix: str) -> IO[bytes]:
    """An unnamed temporary file in ``$TMPDIR``."""
    import tempfile  # rare path; keeps the worker's import light

    return tempfile.TemporaryFile(prefix=prefix)


def _write_all(file: IO[bytes], data: bytes) -> None:
    """Append ``data`` to a temporary file (its ``write`` may take part of it)."""
    view = memoryview(data)
    while view:
        view = view[file.write(view) :]


def _shutdown(sock: socket.socket) -> None:
    """End both directions of a socket another thread may be using (it sees EOF or EPIPE)."""
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def _peer(conn: _Conn) -> str:
    return f"{conn.peer[0]}:{conn.peer[1]}" if conn.peer else "unix socket"
