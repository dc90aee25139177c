"""Request ids: where a request's id comes from, and how log records carry it.

Design: the server gives every request an id (``environ["sluice.request_id"]``,
``request.id``, the ``X-Request-ID`` response header, the access-log line and
``record.request_id`` of every log record emitted while the request runs).
A peer the server trusts (``--trusted-proxies``) may choose it; otherwise it
is made here. Precedence, for a trusted peer:

1. its ``X-Request-ID``, when it is 1 to 128 visible ASCII characters
   (0x21-0x7E, so no space, control byte or non-ASCII byte; a repeated
   header is joined with ", " and so ignored);
2. else the trace-id of its W3C ``traceparent`` (Trace Context, version 00:
   ``00-<32 hex trace-id>-<16 hex parent-id>-<2 hex flags>``, lowercase,
   neither id all zeros), which is the id the request's trace already has;
3. else a new id.

An untrusted peer always gets a new id: its headers are ignored, so a client
cannot forge another request's id in the logs.

A new id is 20 lowercase hex digits drawn at random once per process (80
bits, drawn again in a forked child), a ``-`` and a decimal number:
``3f9a1c0e7b2d4a5691c2-17``. PERF: ids are made 256 at a time, so one costs
a ``list.pop()``, no system call and no format spec (``uuid4()`` and
``os.urandom(16).hex()`` make a system call each; benchmarks/RESULTS.md
"Request ids"). Two processes draw the same prefix with a probability of
about n²/2⁸¹ for n processes ever started, so ids are unique across workers
and restarts; they are not secret and not unpredictable, and are not meant
to be.

Log records: :func:`install_log_records` wraps the logging record factory
once, so every record gets ``record.request_id``: the id of the request the
emitting thread is serving, or None. The server sets it (:data:`serving`,
keyed by thread) around the app's call, its body iteration and ``close()``
on the pool thread; an asyncio loop the app runs on that thread sees it,
another thread the app starts does not. PERF: a dict keyed by thread costs
two stores per request, less than a ``ContextVar``'s set and reset
(benchmarks/RESULTS.md "Request ids").

This module imports nothing of the server or the framework: both use it.
"""

from __future__ import annotations

import itertools
import logging
import os
from threading import get_ident
from typing import Any

#: The longest ``X-Request-ID`` taken from a peer.
MAX_LENGTH = 128

#: Thread id (``threading.get_ident()``) -> the id of the request that
#: thread serves, None between requests. Written by the serving thread
#: only (one dict store under the GIL), read by :func:`current_id` and log
#: records.
serving: dict[int, str | None] = {}

#: Ids are made this many at a time.
_BATCH = 256
_prefix = ""  # drawn at the first id, and again after a fork
_batches = itertools.count()
_ready: list[str] = []  # made, not yet given out; popped from the end


def new_id() -> str:
    """A new request id: this process's random prefix, ``-`` and a number no other id of the process has."""
    try:
        return _ready.pop()
    except IndexError:
        return make_batch()


#: ``new_id()`` without its Python frame, for the server's hot path:
#: ``take_id()`` raises IndexError when :func:`make_batch` must be called.
take_id = _ready.pop


def make_batch() -> str:
    """Make the next :data:`_BATCH` ids; return one and keep the rest in ``_ready``.

    Two threads that find ``_ready`` empty at once each make a batch of
    their own numbers (``next()`` is atomic under the GIL): no id repeats.
    """
    global _prefix
    if not _prefix:
        _prefix = os.urandom(10).hex() + "-"
    prefix = _prefix
    first = next(_batches) * _BATCH
    _ready.extend([prefix + str(number) for number in range(first + _BATCH - 1, first, -1)])
    return prefix + str(first)


def _forget_ids() -> None:
    # A forked child must not repeat its parent's ids: a new prefix, and
    # none of the parent's ready ones.
    global _prefix, _batches
    _prefix = ""
    _batches = itertools.count()
    _ready.clear()
    serving.clear()


os.register_at_fork(after_in_child=_forget_ids)


def current_id() -> str | None:
    """The id of the request the calling thread serves, or None."""
    return serving.get(get_ident())


def is_valid(value: str) -> bool:
    """Whether an ``X-Request-ID`` value may be used: 1 to 128 characters, each 0x21-0x7E."""
    # PERF: three C-level scans, no regex (benchmarks/RESULTS.md "Request ids").
    return 0 < len(value) <= MAX_LENGTH and value.isascii() and value.isprintable() and " " not in value


def trace_id(traceparent: str) -> str | None:
    """The trace-id of a W3C ``traceparent`` value, or None if the value is not a valid one.

    Version 00 is exactly ``00-<32 hex>-<16 hex>-<2 hex>`` in lowercase hex;
    a later version (not ``ff``) may append fields after a ``-``, and its
    first four are read as version 00's (Trace Context, "Versioning of
    traceparent"). An all-zero trace-id or parent-id is invalid.
    """
    size = len(traceparent)
    if size < 55 or traceparent[2] != "-" or traceparent[35] != "-" or traceparent[52] != "-":
        return None
    version = traceparent[:2]
    if version == "00":
        if size != 55:
            return None
    elif version == "ff" or (size > 55 and traceparent[55] != "-"):
        return None
    hex_digits = traceparent[:2] + traceparent[3:35] + traceparent[36:52] + traceparent[53:55]
    if hex_digits.strip(_LOWER_HEX):
        return None
    found = traceparent[3:35]
    if found == _ZERO_TRACE or traceparent[36:52] == _ZERO_PARENT:
        return None
    return found


_LOWER_HEX = "0123456789abcdef"
_ZERO_TRACE = "0" * 32
_ZERO_PARENT = "0" * 16


def choose(request_id: str | None, traceparent: str | None) -> str:
    """The id of a request from a trusted peer.

    Args:
        request_id: its ``X-Request-ID`` value, if it sent one.
        traceparent: its ``traceparent`` value, if it sent one.

    Returns:
        ``request_id`` if valid, else the trace-id of ``traceparent`` if
        valid, else a new id.
    """
    if request_id is not None and is_valid(request_id):
        return request_id
    if traceparent is not None:
        found = trace_id(traceparent)
        if found is not None:
            return found
    return new_id()


def install_log_records() -> None:
    """Give every log record a ``request_id`` attribute (the current request's id, or None); idempotent."""
    factory = logging.getLogRecordFactory()
    if getattr(factory, "_sluice_request_id", False):
        return

    def make_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = factory(*args, **kwargs)
        record.request_id = serving.get(get_ident())
        return record

    make_record._sluice_request_id = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(make_record)
