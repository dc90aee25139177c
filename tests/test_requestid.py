"""Request ids: which values are taken, how new ones are made, and log records that carry them."""

from __future__ import annotations

import logging
import os
import threading

import pytest

from sluice import requestid
from sluice.wrappers.request import Request

TRACE = "0af7651916cd43dd8448eb211c80319c"


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        pytest.param("a", True, id="one-char"),
        pytest.param("!" + "~" * 127, True, id="128-visible"),
        pytest.param("x" * 129, False, id="129"),
        pytest.param("", False, id="empty"),
        pytest.param("a b", False, id="space"),
        pytest.param("a\tb", False, id="tab"),
        pytest.param("a\x7f", False, id="del"),
        pytest.param("caf\xe9", False, id="latin-1"),
    ],
)
def test_requestid_is_valid(value: str, valid: bool) -> None:
    assert requestid.is_valid(value) is valid


@pytest.mark.parametrize(
    ("value", "found"),
    [
        pytest.param(f"00-{TRACE}-b7ad6b7169203331-01", TRACE, id="version-00"),
        pytest.param(f"cc-{TRACE}-b7ad6b7169203331-01-what-ever", TRACE, id="later-version-more-fields"),
        pytest.param(f"cc-{TRACE}-b7ad6b7169203331-01", TRACE, id="later-version"),
        pytest.param(f"cc-{TRACE}-b7ad6b7169203331-01x", None, id="later-version-no-dash"),
        pytest.param(f"ff-{TRACE}-b7ad6b7169203331-01", None, id="version-ff"),
        pytest.param(f"00-{TRACE}-b7ad6b7169203331-01-x", None, id="version-00-longer"),
        pytest.param(f"00-{'0' * 32}-b7ad6b7169203331-01", None, id="zero-trace"),
        pytest.param(f"00-{TRACE}-{'0' * 16}-01", None, id="zero-parent"),
        pytest.param(f"00-{TRACE.upper()}-b7ad6b7169203331-01", None, id="uppercase"),
        pytest.param(f"0g-{TRACE}-b7ad6b7169203331-01", None, id="version-not-hex"),
        pytest.param(f"00-{TRACE}-b7ad6b7169203331-0z", None, id="flags-not-hex"),
        pytest.param(f"00-{TRACE}-b7ad6b7169203331", None, id="short"),
        pytest.param(f"00-{TRACE}_b7ad6b7169203331-01", None, id="separator"),
    ],
)
def test_requestid_trace_id(value: str, found: str | None) -> None:
    assert requestid.trace_id(value) == found


def test_requestid_choose_precedence() -> None:
    traceparent = f"00-{TRACE}-b7ad6b7169203331-01"
    assert requestid.choose("mine", traceparent) == "mine"
    assert requestid.choose("not mine", traceparent) == TRACE
    assert requestid.choose(None, traceparent) == TRACE
    made = requestid.choose(None, "junk")
    assert made != TRACE and requestid.is_valid(made)
    assert requestid.choose(None, None) != made


def test_requestid_new_ids_are_unique_across_batches_and_threads() -> None:
    ids: list[str] = []

    def take() -> None:
        ids.extend(requestid.new_id() for _ in range(1000))

    threads = [threading.Thread(target=take) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len(set(ids)) == 4000
    prefixes = {i.partition("-")[0] for i in ids}
    assert len(prefixes) == 1 and len(prefixes.pop()) == 20


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()")
def test_requestid_a_forked_child_draws_its_own_prefix() -> None:
    parent = requestid.new_id()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            os.write(write, requestid.new_id().encode())
        finally:
            os._exit(0)
    os.close(write)
    child = os.read(read, 200).decode()
    os.close(read)
    os.waitpid(pid, 0)
    assert child.partition("-")[0] != parent.partition("-")[0]
    assert requestid.is_valid(child)


def test_requestid_log_records_carry_the_serving_threads_id() -> None:
    requestid.install_log_records()
    requestid.install_log_records()  # idempotent: one wrapper
    factory = logging.getLogRecordFactory()
    assert getattr(factory, "_sluice_request_id", False)
    thread = threading.get_ident()
    requestid.serving[thread] = "rid-9"
    try:
        inside = factory("x", logging.INFO, __file__, 1, "m", None, None)
        assert requestid.current_id() == "rid-9"
    finally:
        requestid.serving[thread] = None
    outside = factory("x", logging.INFO, __file__, 1, "m", None, None)
    assert inside.request_id == "rid-9"  # type: ignore[attr-defined]
    assert outside.request_id is None  # type: ignore[attr-defined]
    assert requestid.current_id() is None


def test_request_id_reads_the_servers_id() -> None:
    assert Request({"sluice.request_id": "from-server"}).id == "from-server"


def test_request_id_is_made_once_under_another_server() -> None:
    environ: dict[str, object] = {}
    first = Request(environ).id
    assert requestid.is_valid(first)
    assert environ["sluice.request_id"] == first
    assert Request(environ).id == first
