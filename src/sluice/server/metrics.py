"""Prometheus metrics: per-thread counters in each worker, summed by the master, shown as text.

Design: a request's metrics are a few integer additions on the pool thread
that answered it, into a list only that thread writes (:class:`ThreadStats`):
no lock, no system call, no shared memory. Once a second, with its
heartbeat, each worker sums its threads' lists into one snapshot
(:meth:`WorkerStats.snapshot`: counters, then gauges, as doubles) and writes
it to its pipe to the master in one frame below ``PIPE_BUF``, so the write is
atomic and never blocks. The master keeps each live worker's latest snapshot
and, when a worker exits, adds its counters to a ``retired`` total
(:class:`Aggregate`), so the totals never go back when a worker is replaced.
On a scrape the master turns the sums into the text exposition format with
``prometheus_client`` (:func:`render`; imported in the master only, and only
when metrics are on).

NOTE: not ``prometheus_client``'s multiprocess mode. Each update of its
mmap-backed values takes one lock shared by every value of the process (so
the pool threads contend for it) and packs the value into the file, and
``labels()`` takes a lock and a dict lookup per call: the updates one
request needs cost several times what sluice's own counters do (benchmarks/metrics.py; numbers in
benchmarks/RESULTS.md, "Metrics"), on a request that costs the whole server
about 25 us. It also leaves a file per process and metric to clean up, and
its gauges of a dead process need a mode per gauge. The price of this
design: what a worker counted since its last snapshot (at most a second) is
lost if it is killed (SIGKILL); a worker that stops normally sends a last
snapshot.

Rules for state shared between threads:

- A :class:`ThreadStats` is written by its pool thread alone (``counts``
  and ``busy``); the worker's loop thread reads it to make a snapshot. A
  list item store and load is atomic under the GIL, and each item only
  grows, so a snapshot is a consistent lower bound of every counter, and
  later snapshots are never smaller.
- ``WorkerStats.threads`` grows (under ``lock``) when a pool thread starts;
  the loop iterates over a copy.
- The master's :class:`Aggregate` is touched by the master's one thread.
"""

from __future__ import annotations

import struct
import threading
from array import array
from bisect import bisect_left
from collections.abc import Iterator
from collections.abc import Sequence
from typing import Any

#: The methods counted by name; any other is counted as ``other`` (so a
#: client cannot create label values at will).
METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE", "other")
#: ``none``: no response head was sent (the app failed after the client left, or before it answered).
STATUS_CLASSES = ("none", "1xx", "2xx", "3xx", "4xx", "5xx")

#: Upper bounds (seconds) of the request duration histogram's buckets; a
#: hello world is answered in tens of microseconds.
DURATION_BUCKETS = (
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
)  # fmt: skip
#: Upper bounds (seconds) of the queue wait histogram's buckets.
QUEUE_WAIT_BUCKETS = (
    0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
)  # fmt: skip

_DURATION_FIRST = DURATION_BUCKETS[0]
_QUEUE_FIRST = QUEUE_WAIT_BUCKETS[0]
_CLASSES = len(STATUS_CLASSES)
_OTHER = (len(METHODS) - 1) * _CLASSES
_METHOD_BASE = {method: i * _CLASSES for i, method in enumerate(METHODS[:-1])}
# status // 100 -> offset of its class: 0 is none (nothing sent); a status
# is three digits (gateway, response.py), those past 599 count as 5xx.
_CLASS_OFFSET = (0, 1, 2, 3, 4, 5, 5, 5, 5, 5)

# The layout of a counter list: requests by method and class, then each
# histogram's bucket counts (one per bound, then +Inf) and its sum.
_REQUESTS = 0
_DURATION = _REQUESTS + len(METHODS) * _CLASSES
_DURATION_SUM = _DURATION + len(DURATION_BUCKETS) + 1
_QUEUE = _DURATION_SUM + 1
_QUEUE_SUM = _QUEUE + len(QUEUE_WAIT_BUCKETS) + 1
#: How many counters a snapshot carries (before its gauges).
COUNTERS = _QUEUE_SUM + 1
#: The gauges after them: in-flight requests, busy threads, threads, open connections.
GAUGES = 4
_SIZE = COUNTERS + GAUGES

#: A snapshot on the worker's pipe: this byte, the payload's length, the payload.
FRAME = b"M"
_LENGTH = struct.Struct("<H")
#: The whole frame's size; below PIPE_BUF (4096 on Linux), so one write is atomic.
FRAME_SIZE = len(FRAME) + _LENGTH.size + 8 * _SIZE


class ThreadStats:
    """The counters of one pool thread; only that thread writes them."""

    __slots__ = ("counts", "busy")

    def __init__(self) -> None:
        self.counts: list[float] = [0] * COUNTERS
        #: 1 while the thread serves a connection, else 0.
        self.busy = 0

    # PERF: a value in the first bucket (a fast request, a short wait) is
    # found by one comparison; bisect_left's generic comparisons cost about
    # 1,300 instructions (benchmarks/RESULTS.md, "Metrics").

    def begin(self, waited: float) -> None:
        """Note a hand-off from the loop: the thread is busy; it waited ``waited`` seconds in the queue."""
        counts = self.counts
        counts[_QUEUE if waited <= _QUEUE_FIRST else _QUEUE + bisect_left(QUEUE_WAIT_BUCKETS, waited)] += 1
        counts[_QUEUE_SUM] += waited
        self.busy = 1

    def done(self, method: str, status: int, duration: float) -> None:
        """Count a response: its method, status and the seconds it took."""
        counts = self.counts
        counts[_METHOD_BASE.get(method, _OTHER) + _CLASS_OFFSET[status // 100]] += 1
        counts[
            _DURATION if duration <= _DURATION_FIRST else _DURATION + bisect_left(DURATION_BUCKETS, duration)
        ] += 1
        counts[_DURATION_SUM] += duration


class WorkerStats:
    """Every pool thread's counters in one worker process."""

    def __init__(self) -> None:
        self.threads: list[ThreadStats] = []
        self.lock = threading.Lock()

    def thread(self) -> ThreadStats:
        """Make the counters of a new pool thread (called on that thread)."""
        stats = ThreadStats()
        with self.lock:
            self.threads.append(stats)
        return stats

    def snapshot(self, queued: int, threads: int, connections: int) -> bytes:
        """The counters summed over threads, then the gauges, as a pipe frame (loop side).

        Args:
            queued: requests ready and waiting for a thread.
            threads: the pool's size.
            connections: open client connections.
        """
        threads_stats = list(self.threads)
        # PERF: column sums in C (zip, sum), not a Python loop per counter.
        values = array("d", map(sum, zip(*[stats.counts for stats in threads_stats], strict=True)))
        if not threads_stats:
            values = array("d", bytes(8 * COUNTERS))
        busy = sum(stats.busy for stats in threads_stats)
        values.extend((busy + queued, busy, threads, connections))
        payload = values.tobytes()
        return FRAME + _LENGTH.pack(len(payload)) + payload


def read_frames(buffer: bytearray) -> Iterator[tuple[bytes, tuple[float, ...] | None]]:
    """Take the messages of a worker's pipe from the front of ``buffer`` (master side).

    Yields ``(kind, values)``: a one-byte status message (``values`` None) or
    a metrics snapshot (``FRAME`` and its values). A frame not yet whole is
    left in ``buffer``; so is everything from an error report (``E``) on,
    which the caller reads itself.
    """
    while buffer:
        kind = bytes(buffer[:1])
        if kind == b"E":
            return
        if kind != FRAME:
            del buffer[:1]
            yield kind, None
            continue
        if len(buffer) < 1 + _LENGTH.size:
            return
        (length,) = _LENGTH.unpack_from(buffer, 1)
        end = 1 + _LENGTH.size + length
        if len(buffer) < end:
            return
        values = array("d")
        values.frombytes(bytes(buffer[1 + _LENGTH.size : end]))
        del buffer[:end]
        yield FRAME, tuple(values)


class Aggregate:
    """The master's sums: each live worker's latest snapshot, plus the counters of workers gone."""

    def __init__(self) -> None:
        self.live: dict[int, tuple[float, ...]] = {}
        self.retired: list[float] = [0.0] * COUNTERS
        #: Workers replaced because they died, by reason (counted by the master).
        self.restarts: dict[str, int] = {}

    def update(self, pid: int, values: Sequence[float]) -> None:
        """Keep a worker's newest snapshot (one of another layout is ignored)."""
        if len(values) == _SIZE:
            self.live[pid] = tuple(values)

    def retire(self, pid: int) -> None:
        """A worker exited: its counters join the retired total, its gauges are dropped."""
        values = self.live.pop(pid, None)
        if values is not None:
            retired = self.retired
            for i in range(COUNTERS):
                retired[i] += values[i]

    def count_restart(self, reason: str) -> None:
        """Count a worker replaced after it died (``reason``: crash, timeout or max_requests)."""
        self.restarts[reason] = self.restarts.get(reason, 0) + 1

    def totals(self) -> list[float]:
        """Counters and gauges summed over every worker, live and gone."""
        totals = list(self.retired) + [0.0] * GAUGES
        for values in self.live.values():
            for i in range(_SIZE):
                totals[i] += values[i]
        return totals


#: Why a worker was replaced, as the ``reason`` label of sluice_worker_restarts_total.
RESTART_REASONS = ("crash", "timeout", "max_requests")

#: The exposition format's media type (text format 0.0.4).
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def render(aggregate: Aggregate, workers: int) -> bytes:
    """The metrics in the Prometheus text exposition format (master side).

    Args:
        aggregate: the master's sums.
        workers: worker processes running now.
    """
    from prometheus_client import generate_latest  # the master's, when metrics are on
    from prometheus_client.registry import CollectorRegistry

    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Collector(aggregate, workers))
    return generate_latest(registry)


class _Collector:
    """Yields the metric families of one scrape (a ``prometheus_client`` custom collector)."""

    def __init__(self, aggregate: Aggregate, workers: int) -> None:
        self.aggregate = aggregate
        self.workers = workers

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import CounterMetricFamily
        from prometheus_client.core import GaugeMetricFamily

        totals = self.aggregate.totals()
        requests = CounterMetricFamily(
            "sluice_requests", "Requests answered, by method and status class (none: no response head was sent).", labels=["method", "status"]
        )
        for m, method in enumerate(METHODS):
            for c, status in enumerate(STATUS_CLASSES):
                requests.add_metric([method, status], totals[_REQUESTS + m * _CLASSES + c])
        yield requests
        yield _histogram(
            "sluice_request_duration_seconds",
            "Seconds from a request handed to a thread to its response finished.",
            DURATION_BUCKETS,
            totals[_DURATION:_DURATION_SUM],
            totals[_DURATION_SUM],
        )
        yield _histogram(
            "sluice_queue_wait_seconds",
            "Seconds a ready request waited for a free thread.",
            QUEUE_WAIT_BUCKETS,
            totals[_QUEUE:_QUEUE_SUM],
            totals[_QUEUE_SUM],
        )
        gauges = (
            ("sluice_requests_in_flight", "Requests being answered or waiting for a thread."),
            ("sluice_threads_busy", "Pool threads serving a connection."),
            ("sluice_threads", "Pool threads, over all workers."),
            ("sluice_connections_open", "Open client connections."),
        )
        for i, (name, doc) in enumerate(gauges):
            yield GaugeMetricFamily(name, doc, value=totals[COUNTERS + i])
        yield GaugeMetricFamily("sluice_workers", "Worker processes running.", value=self.workers)
        restarts = CounterMetricFamily(
            "sluice_worker_restarts", "Workers replaced after they died, by reason.", labels=["reason"]
        )
        for reason in RESTART_REASONS:
            restarts.add_metric([reason], self.aggregate.restarts.get(reason, 0))
        yield restarts


def _histogram(name: str, doc: str, bounds: Sequence[float], counts: Sequence[float], total: float) -> Any:
    from prometheus_client.core import HistogramMetricFamily

    buckets: list[tuple[str, float]] = []
    running = 0.0
    for bound, count in zip([*map(repr, bounds), "+Inf"], counts, strict=True):
        running += count
        buckets.append((bound, running))
    return HistogramMetricFamily(name, doc, buckets=buckets, sum_value=total)
