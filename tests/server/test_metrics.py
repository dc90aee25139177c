"""Per-thread counters, the snapshot frame, the master's sums and the exposition text (no processes)."""

from __future__ import annotations

import select
import time
from collections.abc import Callable
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from sluice.server.metrics import COUNTERS
from sluice.server.metrics import FRAME
from sluice.server.metrics import FRAME_SIZE
from sluice.server.metrics import METHODS
from sluice.server.metrics import STATUS_CLASSES
from sluice.server.metrics import Aggregate
from sluice.server.metrics import WorkerStats
from sluice.server.metrics import read_frames
from sluice.server.metrics import render
from sluice.server.protocol import Limits
from sluice.server.worker import Timeouts
from tests.apps.metrics_app import app as metrics_app
from tests.client import RawClient
from tests.client import get
from tests.conftest import InProcess


def samples(text: bytes) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of an exposition text: (name, sorted labels) -> value."""
    found: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for family in text_string_to_metric_families(text.decode()):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def snapshot_values(frame: bytes) -> tuple[float, ...]:
    [(kind, values)] = list(read_frames(bytearray(frame)))
    assert kind == FRAME and values is not None
    return values


def aggregate_of(*frames: bytes) -> Aggregate:
    aggregate = Aggregate()
    for pid, frame in enumerate(frames, 1):
        aggregate.update(pid, snapshot_values(frame))
    return aggregate


def test_metrics_frame_fits_in_pipe_buf_so_a_write_is_atomic() -> None:
    frame = WorkerStats().snapshot(0, 8, 0)
    assert len(frame) == FRAME_SIZE <= select.PIPE_BUF


def test_metrics_requests_counted_by_method_and_status_class() -> None:
    stats = WorkerStats()
    thread = stats.thread()
    for method, status in [("GET", 200), ("GET", 204), ("POST", 201), ("GET", 404), ("PUT", 503), ("HEAD", 301), ("OPTIONS", 101)]:
        thread.done(method, status, 0.001)
    found = samples(render(aggregate_of(stats.snapshot(0, 8, 0)), 1))
    assert found[("sluice_requests_total", (("method", "GET"), ("status", "2xx")))] == 2
    assert found[("sluice_requests_total", (("method", "POST"), ("status", "2xx")))] == 1
    assert found[("sluice_requests_total", (("method", "GET"), ("status", "4xx")))] == 1
    assert found[("sluice_requests_total", (("method", "PUT"), ("status", "5xx")))] == 1
    assert found[("sluice_requests_total", (("method", "HEAD"), ("status", "3xx")))] == 1
    assert found[("sluice_requests_total", (("method", "OPTIONS"), ("status", "1xx")))] == 1
    assert sum(v for (name, _), v in found.items() if name == "sluice_requests_total") == 7


@pytest.mark.parametrize("method", ["BREW", "get", "PROPFIND", "X" * 100], ids=["brew", "lowercase", "webdav", "long"])
def test_metrics_unknown_method_counted_as_other(method: str) -> None:
    stats = WorkerStats()
    stats.thread().done(method, 200, 0.001)
    found = samples(render(aggregate_of(stats.snapshot(0, 8, 0)), 1))
    assert found[("sluice_requests_total", (("method", "other"), ("status", "2xx")))] == 1
    methods = {dict(labels)["method"] for (name, labels) in found if name == "sluice_requests_total"}
    assert methods == set(METHODS)


@pytest.mark.parametrize(("status", "label"), [(0, "none"), (600, "5xx"), (999, "5xx")])
def test_metrics_status_none_sent_or_past_599_counted_in_an_edge_class(status: int, label: str) -> None:
    stats = WorkerStats()
    stats.thread().done("GET", status, 0.001)
    found = samples(render(aggregate_of(stats.snapshot(0, 8, 0)), 1))
    assert found[("sluice_requests_total", (("method", "GET"), ("status", label)))] == 1


def test_metrics_histograms_are_cumulative_with_sum_and_count() -> None:
    stats = WorkerStats()
    thread = stats.thread()
    thread.begin(0.00002)
    thread.done("GET", 200, 0.00005)
    thread.begin(0.2)
    thread.done("GET", 200, 0.3)
    thread.done("GET", 200, 60.0)  # past the last bound: +Inf only
    found = samples(render(aggregate_of(stats.snapshot(0, 8, 0)), 1))
    bucket = "sluice_request_duration_seconds_bucket"
    assert found[(bucket, (("le", "0.0001"),))] == 1
    assert found[(bucket, (("le", "0.25"),))] == 1
    assert found[(bucket, (("le", "0.5"),))] == 2
    assert found[(bucket, (("le", "10.0"),))] == 2
    assert found[(bucket, (("le", "+Inf"),))] == 3
    assert found[("sluice_request_duration_seconds_count", ())] == 3
    assert found[("sluice_request_duration_seconds_sum", ())] == pytest.approx(60.30005)
    wait = "sluice_queue_wait_seconds_bucket"
    assert found[(wait, (("le", "2.5e-05"),))] == 1
    assert found[(wait, (("le", "0.1"),))] == 1
    assert found[(wait, (("le", "0.25"),))] == 2
    assert found[("sluice_queue_wait_seconds_count", ())] == 2
    assert found[("sluice_queue_wait_seconds_sum", ())] == pytest.approx(0.20002)


def test_metrics_gauges_from_the_snapshot() -> None:
    stats = WorkerStats()
    first, second, _idle = stats.thread(), stats.thread(), stats.thread()
    first.begin(0.0)
    second.begin(0.0)
    found = samples(render(aggregate_of(stats.snapshot(3, 8, 11), WorkerStats().snapshot(0, 8, 2)), 2))
    assert found[("sluice_threads_busy", ())] == 2
    assert found[("sluice_requests_in_flight", ())] == 5  # 2 running, 3 queued
    assert found[("sluice_threads", ())] == 16
    assert found[("sluice_connections_open", ())] == 13
    assert found[("sluice_workers", ())] == 2


def test_metrics_threads_summed_in_one_snapshot() -> None:
    stats = WorkerStats()
    for _ in range(3):
        stats.thread().done("GET", 200, 0.001)
    values = snapshot_values(stats.snapshot(0, 8, 0))
    assert sum(values[:COUNTERS]) > 0
    found = samples(render(aggregate_of(stats.snapshot(0, 8, 0)), 1))
    assert found[("sluice_requests_total", (("method", "GET"), ("status", "2xx")))] == 3


def test_metrics_aggregate_keeps_the_counters_of_a_retired_worker() -> None:
    a, b = WorkerStats(), WorkerStats()
    a.thread().done("GET", 200, 0.001)
    b_thread = b.thread()
    b_thread.done("GET", 200, 0.001)
    b_thread.begin(0.0)
    aggregate = Aggregate()
    aggregate.update(1, snapshot_values(a.snapshot(0, 8, 1)))
    aggregate.update(2, snapshot_values(b.snapshot(0, 8, 1)))
    before = samples(render(aggregate, 2))
    aggregate.retire(2)
    aggregate.retire(3)  # never sent a snapshot: nothing to keep
    after = samples(render(aggregate, 1))
    key = ("sluice_requests_total", (("method", "GET"), ("status", "2xx")))
    assert before[key] == after[key] == 2
    assert after[("sluice_queue_wait_seconds_count", ())] == 1
    # Gauges of a worker gone are dropped, not kept.
    assert before[("sluice_threads_busy", ())] == 1
    assert after[("sluice_threads_busy", ())] == 0
    assert after[("sluice_connections_open", ())] == 1


def test_metrics_aggregate_ignores_a_snapshot_of_another_layout() -> None:
    aggregate = Aggregate()
    aggregate.update(1, (1.0, 2.0))
    assert aggregate.live == {}


def test_metrics_restarts_counted_by_reason() -> None:
    aggregate = Aggregate()
    aggregate.count_restart("crash")
    aggregate.count_restart("crash")
    aggregate.count_restart("max_requests")
    found = samples(render(aggregate, 2))
    assert found[("sluice_worker_restarts_total", (("reason", "crash"),))] == 2
    assert found[("sluice_worker_restarts_total", (("reason", "max_requests"),))] == 1
    assert found[("sluice_worker_restarts_total", (("reason", "timeout"),))] == 0


def test_read_frames_status_bytes_and_a_frame_split_across_reads() -> None:
    stats = WorkerStats()
    stats.thread().done("GET", 200, 0.001)
    frame = stats.snapshot(0, 8, 0)
    buffer = bytearray(b"R." + frame[:10])
    assert [kind for kind, _ in read_frames(buffer)] == [b"R", b"."]
    assert buffer == frame[:10]
    buffer += frame[10:] + b"Q"
    got = list(read_frames(buffer))
    assert [kind for kind, _ in got] == [FRAME, b"Q"]
    assert got[0][1] == snapshot_values(frame)
    assert buffer == b""


def test_read_frames_frame_with_only_its_first_byte_waits() -> None:
    buffer = bytearray(FRAME)
    assert list(read_frames(buffer)) == []
    assert buffer == FRAME


def test_read_frames_stop_at_an_error_report() -> None:
    buffer = bytearray(b".ETraceback: R Q M")
    assert list(read_frames(buffer)) == [(b".", None)]
    assert buffer == b"ETraceback: R Q M"


def test_worker_metrics_off_by_default_and_no_counts(in_process_worker: Callable[..., InProcess]) -> None:
    worker, port, _ = in_process_worker(metrics_app)
    with RawClient("127.0.0.1", port) as client:
        assert client.request(get("/")).status == 200
    assert worker.stats is None


def test_worker_metrics_one_queue_wait_per_hand_off_one_count_per_response(
    in_process_worker: Callable[..., InProcess],
) -> None:
    worker, port, _ = in_process_worker(metrics_app, metrics=True)
    with RawClient("127.0.0.1", port) as client:
        # Three pipelined requests: one hand-off from the loop, three responses.
        client.send(get("/") + get("/status/404") + b"DELETE /status/204 HTTP/1.1\r\nHost: x\r\n\r\n")
        assert [client.read_response().status for _ in range(3)] == [200, 404, 204]
        connections: Any = None
        deadline = time.monotonic() + 5.0
        while time.monotonic() < deadline:
            # The thread counts a response after sending it, and is idle once it gave the connection back.
            found = samples(render(aggregate_of(worker.metrics_snapshot()), 1))
            if found[("sluice_request_duration_seconds_count", ())] == 3 and found[("sluice_threads_busy", ())] == 0:
                connections = found[("sluice_connections_open", ())]
                break
            time.sleep(0.01)
    assert connections == 1  # the client's, still open
    assert found[("sluice_requests_total", (("method", "GET"), ("status", "2xx")))] == 1
    assert found[("sluice_requests_total", (("method", "GET"), ("status", "4xx")))] == 1
    assert found[("sluice_requests_total", (("method", "DELETE"), ("status", "2xx")))] == 1
    assert found[("sluice_queue_wait_seconds_count", ())] == 1
    assert found[("sluice_threads", ())] == 8
    assert found[("sluice_requests_in_flight", ())] == 0


def test_worker_metrics_count_the_requests_the_loop_refuses_itself(
    in_process_worker: Callable[..., InProcess],
) -> None:
    # A malformed request, a header section over the limit and a stalled
    # head never reach a pool thread: the loop answers them, and counts them.
    worker, port, _ = in_process_worker(metrics_app, metrics=True, limits=Limits(max_header_bytes=1024), timeouts=Timeouts(header=0.3))
    with RawClient("127.0.0.1", port) as client:
        assert client.request(b"GET / HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n").status == 400
    with RawClient("127.0.0.1", port) as client:
        assert client.request(b"POST / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 2000 + b"\r\n\r\n").status == 431
    with RawClient("127.0.0.1", port, timeout=5) as client:
        client.send(b"GET / HTTP/1.1\r\n")
        assert client.read_response().status == 408
    deadline = time.monotonic() + 5.0
    while time.monotonic() < deadline:
        found = samples(render(aggregate_of(worker.metrics_snapshot()), 1))
        if found[("sluice_request_duration_seconds_count", ())] == 3:
            break
        time.sleep(0.01)
    four = {labels: value for (name, labels), value in found.items() if name == "sluice_requests_total" and value}
    assert sum(four.values()) == 3 and all(dict(labels)["status"] == "4xx" for labels in four)
    assert found[("sluice_threads_busy", ())] == 0


@pytest.mark.parametrize(
    "value",
    [0.0, 1e-9, 0.00001, 0.0000100001, 0.0001, 0.00010001, 0.00025, 0.3, 1.0, 9.99, 10.0, 10.5, 1e9, float("inf")],
)
def test_metrics_bucket_scan_agrees_with_bisect(value: float) -> None:
    from bisect import bisect_left

    from sluice.server.metrics import DURATION_BUCKETS
    from sluice.server.metrics import QUEUE_WAIT_BUCKETS

    stats = WorkerStats()
    thread = stats.thread()
    thread.begin(value)
    thread.done("GET", 200, value)
    values = snapshot_values(stats.snapshot(0, 8, 0))
    durations = len(METHODS) * len(STATUS_CLASSES)  # after the requests counters
    queue = durations + len(DURATION_BUCKETS) + 2  # after the duration buckets (+Inf included) and sum
    assert values.index(1.0, durations) - durations == bisect_left(DURATION_BUCKETS, value)
    assert values.index(1.0, queue) - queue == bisect_left(QUEUE_WAIT_BUCKETS, value)
