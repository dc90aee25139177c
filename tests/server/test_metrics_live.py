"""Live: ``sluice serve --workers 2 --metrics-bind 127.0.0.1:0``, scraped over HTTP and checked against the requests sent.

Every server listens on 127.0.0.1 only; every loop is bounded in count and
time. Workers send their counts to the master once a second, so a check
polls the endpoint until the totals match (or fails after a bound).
"""

from __future__ import annotations

import http.client
import os
import re
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.live import LiveServer

pytestmark = pytest.mark.live

TARGET = "tests.apps.metrics_app:app"
_METRICS = re.compile(r"Metrics on (http://127\.0\.0\.1:(\d+)/metrics)")
_READY = re.compile(r"worker (\d+) \(generation \d+\) ready")

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(port: int) -> tuple[int, str, Samples]:
    """GET /metrics: the status, the Content-Type and every sample (name, sorted labels) -> value."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5.0)
    try:
        conn.request("GET", "/metrics")
        response = conn.getresponse()
        text = response.read().decode()
        content_type = response.getheader("Content-Type") or ""
    finally:
        conn.close()
    found: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return response.status, content_type, found


def request(server: LiveServer, method: str, path: str) -> int:
    """One request on a new connection; the status."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10.0)
    try:
        conn.request(method, path, headers={"Connection": "close"})
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def requests_total(found: Samples) -> Counter[tuple[str, str]]:
    """sluice_requests_total as {(method, status class): count}, zeros left out."""
    totals: Counter[tuple[str, str]] = Counter()
    for (name, labels), value in found.items():
        if name == "sluice_requests_total" and value:
            label = dict(labels)
            totals[(label["method"], label["status"])] = int(value)
    return totals


def wait_for(port: int, predicate: Callable[[Samples], bool], what: str, timeout: float = 10.0) -> Samples:
    """Scrape every 50 ms until ``predicate`` holds; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    found: Samples = {}
    while time.monotonic() < deadline:
        _, _, found = scrape(port)
        if predicate(found):
            return found
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}; last scrape: {requests_total(found)}")


def start(live_server: Callable[..., LiveServer], *args: str) -> tuple[LiveServer, int]:
    server = live_server(TARGET, "--workers", "2", "--metrics-bind", "127.0.0.1:0", "--access-log", "off", *args)
    port = int(server.wait_for_output(_METRICS.pattern).group(2))
    server.wait_for_output(r"(?s)ready.*ready")
    return server, port


# (method, path, class of the status the app answers)
SENT = (
    [("GET", "/", "2xx")] * 7
    + [("POST", "/status/201", "2xx")] * 3
    + [("GET", "/status/404", "4xx")] * 4
    + [("PUT", "/status/500", "5xx")] * 2
    + [("DELETE", "/status/204", "2xx")] * 2
    + [("HEAD", "/", "2xx")] * 2
    + [("GET", "/status/301", "3xx")] * 1
    + [("BREW", "/", "2xx")] * 1
)


def expected(sent: list[tuple[str, str, str]]) -> Counter[tuple[str, str]]:
    return Counter((method if method != "BREW" else "other", status) for method, _, status in sent)


def test_metrics_live_totals_equal_the_requests_sent_over_both_workers(live_server: Callable[..., LiveServer]) -> None:
    server, port = start(live_server, "--health-path", "/healthz")
    status, content_type, found = scrape(port)
    assert status == 200
    assert content_type == "text/plain; version=0.0.4; charset=utf-8"
    assert requests_total(found) == Counter()
    assert found[("sluice_workers", ())] == 2
    sent = list(SENT)
    pids = set()
    for method, path, _ in sent:
        request(server, method, path)
    for _ in range(3):
        assert request(server, "GET", "/healthz") == 200  # answered by the server itself, counted too
        sent.append(("GET", "/healthz", "2xx"))
    want = expected(sent)
    found = wait_for(port, lambda f: requests_total(f) == want, f"the totals {want}")
    assert found[("sluice_request_duration_seconds_count", ())] == len(sent)
    assert found[("sluice_request_duration_seconds_bucket", (("le", "+Inf"),))] == len(sent)
    assert 0 < found[("sluice_request_duration_seconds_sum", ())] < len(sent)
    # One hand-off to the pool per connection (each request came on its own).
    assert found[("sluice_queue_wait_seconds_count", ())] == len(sent)
    assert found[("sluice_threads", ())] == 2 * 8
    assert found[("sluice_requests_in_flight", ())] == 0
    # Both workers answered some (the kernel spreads the connections), and the sum is exact.
    pids = {int(pid) for pid in _READY.findall(server.output)}
    assert len(pids) == 2


def test_metrics_live_worker_killed_restart_counted_and_counters_kept(live_server: Callable[..., LiveServer]) -> None:
    server, port = start(live_server)
    for _ in range(10):
        request(server, "GET", "/")
    want = Counter({("GET", "2xx"): 10})
    before = wait_for(port, lambda f: requests_total(f) == want, "10 GETs")
    assert before[("sluice_worker_restarts_total", (("reason", "crash"),))] == 0
    victim = int(_READY.findall(server.output)[0])
    os.kill(victim, signal.SIGKILL)
    after = wait_for(
        port,
        lambda f: f[("sluice_worker_restarts_total", (("reason", "crash"),))] == 1 and f[("sluice_workers", ())] == 2,
        "the restart of the killed worker",
    )
    # Every count had been sent before the kill: nothing went back, nothing was lost.
    assert requests_total(after) == want
    for key, value in before.items():
        if key[0].endswith(("_total", "_count", "_sum", "_bucket")):
            assert after[key] >= value, key
    server.wait_for_output(rf"worker {victim} \(generation 1\) was killed by SIGKILL")
    # The replacement counts on top of what the killed one had counted.
    server.wait_for_output(r"(?s)(ready.*){3}")
    for _ in range(6):
        request(server, "POST", "/status/201")
    want = Counter({("GET", "2xx"): 10, ("POST", "2xx"): 6})
    wait_for(port, lambda f: requests_total(f) == want, "10 GETs and 6 POSTs")


def test_metrics_live_in_flight_and_open_connections_while_a_slow_request_runs(
    live_server: Callable[..., LiveServer],
) -> None:
    server, port = start(live_server)
    results: list[int] = []
    slow = threading.Thread(target=lambda: results.append(request(server, "GET", "/slow?s=3")), daemon=True)
    slow.start()
    found = wait_for(
        port,
        lambda f: f[("sluice_requests_in_flight", ())] == 1
        and f[("sluice_threads_busy", ())] == 1
        and f[("sluice_connections_open", ())] >= 1,
        "one request in flight on one open connection",
        timeout=2.8,
    )
    assert requests_total(found) == Counter()
    slow.join(10.0)
    assert results == [200]
    found = wait_for(
        port,
        lambda f: requests_total(f) == Counter({("GET", "2xx"): 1}) and f[("sluice_requests_in_flight", ())] == 0,
        "the slow request finished",
    )
    assert found[("sluice_threads_busy", ())] == 0
    assert found[("sluice_request_duration_seconds_bucket", (("le", "2.5"),))] == 0
    assert found[("sluice_request_duration_seconds_bucket", (("le", "5.0"),))] == 1


def test_metrics_live_counts_of_a_gracefully_retired_worker_kept(live_server: Callable[..., LiveServer]) -> None:
    # --max-requests 3: each worker retires after 3 responses and sends its last counts first.
    server, port = start(live_server, "--max-requests", "3")
    for _ in range(12):
        request(server, "GET", "/")
    want = Counter({("GET", "2xx"): 12})
    found = wait_for(port, lambda f: requests_total(f) == want, "12 GETs over retiring workers", timeout=15.0)
    assert found[("sluice_worker_restarts_total", (("reason", "max_requests"),))] >= 2


def test_metrics_live_wrong_path_and_method_on_the_metrics_port(live_server: Callable[..., LiveServer]) -> None:
    _server, port = start(live_server)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5.0)
    try:
        conn.request("GET", "/")
        response = conn.getresponse()
        assert response.status == 404
        assert response.read() == b"not found: the metrics are at /metrics\n"
    finally:
        conn.close()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5.0)
    try:
        conn.request("POST", "/metrics", body=b"")
        response = conn.getresponse()
        assert response.status == 405
        assert response.getheader("Allow") == "GET, HEAD"
        response.read()
    finally:
        conn.close()
    # The endpoint still answers after both.
    assert scrape(port)[0] == 200


def test_metrics_live_single_worker_runs_under_the_master(live_server: Callable[..., LiveServer]) -> None:
    server = live_server(TARGET, "--metrics-bind", "127.0.0.1:0", "--access-log", "off")
    port = int(server.wait_for_output(_METRICS.pattern).group(2))
    server.wait_for_output(r"Master \d+: 1 worker\(s\)")
    request(server, "GET", "/")
    wait_for(port, lambda f: requests_total(f) == Counter({("GET", "2xx"): 1}), "one GET")
