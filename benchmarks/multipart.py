"""Compare multipart/form-data parsers: sluice's own, python-multipart, multipart, Werkzeug and Django.

DESIGN.md §3 asks for the multipart parser to be chosen by benchmark. This
script times, side by side in one run, three ways of turning a
``multipart/form-data`` request body into form fields and uploaded files:

- ``sluice``: :class:`sluice.wrappers.formparser.MultipartParser`, driven as
  ``Request._load_form_data`` drives it: the boundary from sluice's
  ``parse_options_header``, the body read through sluice's ``LimitedStream``,
  the limits of ``Request`` (``max_form_memory_size``, ``max_form_parts``).
- ``python-multipart``: ``python_multipart.MultipartParser`` with callbacks,
  in an adapter that does what sluice would have to do to adopt it: the same
  content-type parsing, the same ``LimitedStream`` read in 64 KiB chunks, part
  headers into sluice ``Headers``, the same limits and errors, fields decoded
  by their charset into a ``MultiDict[str]``, files into a
  ``SpooledTemporaryFile`` of the same 512 KiB threshold as sluice, wrapped in
  ``FileStorage``. Both produce identical objects, so only the scanning of the
  body differs.
- ``multipart``: ``multipart.PushMultipartParser`` (the package named
  ``multipart``), in an adapter like python-multipart's: segments in, the same
  ``Headers``/``MultiDict``/``FileStorage`` objects out, the same limits.
- ``werkzeug``: ``werkzeug.formparser.parse_form_data`` with the same limits,
  as a well-known reference (its files spool to disk past 500 KiB).
- ``django``: ``django.http.multipartparser.MultiPartParser`` with Django's
  default upload handlers (memory, then a temporary file past
  ``FILE_UPLOAD_MAX_MEMORY_SIZE``, set to the same 512 KiB), the same limits
  as ``DATA_UPLOAD_MAX_MEMORY_SIZE`` / ``DATA_UPLOAD_MAX_NUMBER_FIELDS``; its
  results are wrapped in sluice's ``MultiDict``/``FileStorage`` only so that
  one check serves every parser.

Every request gets a fresh ``io.BytesIO`` as ``wsgi.input``, as a server
would give, and the files are closed after each parse (the end of a request),
so the 1 MiB and 10 MiB cases include writing the spooled temporary file, for
all three alike. Before timing, every parser's result is checked against the
fields and file bytes the body was built from.

Each (case, parser) cell is calibrated to about 0.4 s per repeat (0.02 s
with ``--quick``) and timed with ``timeit.repeat``, 9 repeats (3 with
``--quick``), garbage collector on as in a server. The table shows the
median µs per request, the body throughput in MB/s (10^6 bytes) and the
spread ((max - min) / median) of the repeats.

The large-file case (100 MiB, ``--big-mib``) runs each parser in a fresh
interpreter (``--measure PARSER``), so that one parser's memory never shows
in another's numbers. The body is produced while it is read (a 1 MiB random
block repeated), as a socket would deliver it, so the input itself holds no
memory. Each child parses the body ``--big-repeat`` times (median MB/s), and
reports the peak RSS growth over the RSS before the first parse (VmHWM,
reset through ``/proc/self/clear_refs``), then one more parse under
``tracemalloc`` for the peak of Python allocations. A full run takes about
two minutes.

Usage (from the repository root, inside the venv)::

    taskset -c 0 python benchmarks/multipart.py            # full run, table to stdout
    taskset -c 0 python benchmarks/multipart.py --quick    # smoke run, a few seconds
    taskset -c 0 python benchmarks/multipart.py --write    # also update benchmarks/RESULTS.md

Needs python-multipart, multipart, Werkzeug and Django (the ``bench`` and
``dev`` extras).
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.metadata
import io
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import time
import timeit
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from tempfile import SpooledTemporaryFile
from typing import IO
from typing import Any

# NOTE: run as a script, this file's folder is sys.path[0] and this file
# would shadow the ``multipart`` package it benchmarks; drop the folder first.
_HERE = str(Path(__file__).resolve().parent)
sys.path[:] = [entry for entry in sys.path if str(Path(entry or ".").resolve()) != _HERE]

import multipart  # type: ignore[import-untyped]  # noqa: E402 - after the sys.path fix above
import python_multipart  # noqa: E402
import werkzeug.formparser  # noqa: E402
from django.conf import settings as django_settings  # noqa: E402

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.server import write_section
from sluice.errors import BadRequest
from sluice.errors import ContentTooLarge
from sluice.wrappers.datastructures import FileStorage
from sluice.wrappers.datastructures import Headers
from sluice.wrappers.datastructures import MultiDict
from sluice.wrappers.formparser import MultipartParser
from sluice.wrappers.http import parse_options_header
from sluice.wrappers.request import LimitedStream
from sluice.wrappers.request import Request

BOUNDARY = "----sluiceBenchBoundary7MA4YWxkTrZu0gW"
CONTENT_TYPE = f"multipart/form-data; boundary={BOUNDARY}"
CHUNK_SIZE = 64 * 1024  # what sluice's parser asks of read(); the adapter reads the same
SPOOL_SIZE = 512 * 1024  # sluice's SpooledTemporaryFile threshold for files
MAX_FORM_MEMORY_SIZE = Request.max_form_memory_size
MAX_FORM_PARTS = Request.max_form_parts
SEED = 20261123

Parsed = tuple[Any, Any]  # (form, files): MultiDicts of str and of FileStorage, sluice's or Werkzeug's


# --------------------------------------------------------------------------- #
# Request bodies
# --------------------------------------------------------------------------- #


@dataclass(frozen=True)
class Case:
    """One request body and the fields and files it must parse into."""

    name: str
    fields: list[tuple[str, str]]
    files: list[tuple[str, str, bytes]]  # (field name, filename, content)

    def make_body(self) -> bytes:
        """Encode the fields, then the files, as ``multipart/form-data`` with ``BOUNDARY``."""
        out = bytearray()
        for name, value in self.fields:
            out += f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
            out += value.encode() + b"\r\n"
        for name, filename, content in self.files:
            out += (
                f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                "Content-Type: application/octet-stream\r\n\r\n"
            ).encode()
            out += content + b"\r\n"
        out += f"--{BOUNDARY}--\r\n".encode()
        body = bytes(out)
        delimiter = f"\r\n--{BOUNDARY}".encode()
        if body.count(delimiter) != len(self.fields) + len(self.files):
            raise RuntimeError(f"case {self.name!r}: a file's bytes contain the boundary; change SEED")
        return body


def make_cases() -> list[Case]:
    """Build the four cases; file contents are seeded random bytes (binary, with CRs, like an image)."""
    rng = random.Random(SEED)
    # Text values of about 20 bytes, one of them not ASCII.
    small = [(f"field{i}", f"value {i:02d} of the form") for i in range(5)]
    small[1] = ("field1", "naïve café, 20 B")
    return [
        Case("small form: 5 fields of ~20 B", small, []),
        Case(
            "1 MiB file + 2 fields",
            [("title", "holiday photo"), ("album", "summer 2026")],
            [("upload", "photo.jpg", rng.randbytes(1024 * 1024))],
        ),
        Case("10 MiB file", [], [("upload", "video.mp4", rng.randbytes(10 * 1024 * 1024))]),
        Case("100 parts of ~20 B", [(f"item{i}", f"value number {i:03d}") for i in range(100)], []),
    ]


def make_environ(body: bytes) -> dict[str, Any]:
    """Return a WSGI environ for a POST of ``body``, with a fresh ``BytesIO`` as ``wsgi.input``."""
    return {
        "REQUEST_METHOD": "POST",
        "CONTENT_TYPE": CONTENT_TYPE,
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
    }


# --------------------------------------------------------------------------- #
# The parsers, each from environ to (form, files)
# --------------------------------------------------------------------------- #


def parse_sluice(environ: dict[str, Any]) -> Parsed:
    """Parse with sluice's MultipartParser, as ``Request._load_form_data`` does."""
    _, options = parse_options_header(environ["CONTENT_TYPE"])
    parser = MultipartParser(options.get("boundary", ""), MAX_FORM_MEMORY_SIZE, MAX_FORM_PARTS)
    return parser.parse(LimitedStream(environ["wsgi.input"], int(environ["CONTENT_LENGTH"])).read)


def parse_python_multipart(environ: dict[str, Any]) -> Parsed:
    """Parse with python-multipart's callback parser into the objects sluice's parser returns."""
    _, options = parse_options_header(environ["CONTENT_TYPE"])
    stream = LimitedStream(environ["wsgi.input"], int(environ["CONTENT_LENGTH"]))
    form: MultiDict[str] = MultiDict()
    files: MultiDict[FileStorage] = MultiDict()
    header_name: list[bytes] = []
    header_value: list[bytes] = []
    headers = Headers()
    name = ""
    sink: IO[bytes] | None = None
    field = bytearray()
    parts = 0
    memory = 0
    ended = False

    def on_part_begin() -> None:
        nonlocal headers
        headers = Headers()

    def on_header_field(data: bytes, start: int, end: int) -> None:
        header_name.append(data[start:end])

    def on_header_value(data: bytes, start: int, end: int) -> None:
        header_value.append(data[start:end])

    def on_header_end() -> None:
        try:
            headers.add(b"".join(header_name).decode("ascii").strip(), b"".join(header_value).decode().strip())
        except (UnicodeDecodeError, ValueError):
            raise BadRequest("A multipart part header is malformed (bad name or control characters).") from None
        header_name.clear()
        header_value.clear()

    def on_headers_finished() -> None:
        nonlocal name, sink, field, parts
        parts += 1
        if MAX_FORM_PARTS is not None and parts > MAX_FORM_PARTS:
            raise ContentTooLarge(f"The multipart body has more than {MAX_FORM_PARTS} parts.")
        disposition, params = parse_options_header(headers.get("Content-Disposition"))
        if disposition != "form-data" or "name" not in params:
            raise BadRequest("A multipart part lacks 'Content-Disposition: form-data; name=...'.")
        name = params["name"]
        filename = params.get("filename")
        if filename is None:
            sink = None
            field = bytearray()
        else:
            sink = SpooledTemporaryFile(max_size=SPOOL_SIZE)
            files.add(name, FileStorage(sink, filename, name, headers.get("Content-Type"), headers))

    def on_part_data(data: bytes, start: int, end: int) -> None:
        nonlocal memory
        if sink is not None:
            sink.write(data[start:end])
            return
        memory += end - start
        if MAX_FORM_MEMORY_SIZE is not None and memory > MAX_FORM_MEMORY_SIZE:
            raise ContentTooLarge(f"The form fields exceed {MAX_FORM_MEMORY_SIZE} bytes (max_form_memory_size).")
        field.extend(data[start:end])

    def on_part_end() -> None:
        if sink is not None:
            sink.seek(0)
            return
        charset = parse_options_header(headers.get("Content-Type"))[1].get("charset", "utf-8")
        try:
            form.add(name, field.decode(charset))
        except (LookupError, UnicodeDecodeError):
            raise BadRequest(f"The multipart field {name!r} is not valid {charset}.") from None

    def on_end() -> None:
        nonlocal ended
        ended = True

    parser = python_multipart.MultipartParser(
        options.get("boundary", ""),
        {
            "on_part_begin": on_part_begin,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_headers_finished": on_headers_finished,
            "on_part_data": on_part_data,
            "on_part_end": on_part_end,
            "on_end": on_end,
        },
    )
    try:
        while chunk := stream.read(CHUNK_SIZE):
            parser.write(chunk)
        parser.finalize()
        if not ended:
            raise BadRequest("The multipart body ends before its closing boundary delimiter.")
    except BaseException:
        for _, upload in files.items(multi=True):
            upload.close()
        raise
    return form, files


def parse_multipart(environ: dict[str, Any]) -> Parsed:
    """Parse with the ``multipart`` package's push parser into the objects sluice's parser returns."""
    _, options = parse_options_header(environ["CONTENT_TYPE"])
    length = int(environ["CONTENT_LENGTH"])
    stream = LimitedStream(environ["wsgi.input"], length)
    form: MultiDict[str] = MultiDict()
    files: MultiDict[FileStorage] = MultiDict()
    memory = 0
    try:
        with multipart.PushMultipartParser(
            options.get("boundary", ""),
            length,
            max_header_size=8192,
            max_segment_count=MAX_FORM_PARTS if MAX_FORM_PARTS is not None else float("inf"),
        ) as parser:
            name = ""
            charset = "utf-8"
            sink: IO[bytes] | None = None
            field = bytearray()
            while not parser.closed:
                chunk = stream.read(CHUNK_SIZE)
                for event in parser.parse(chunk):
                    if isinstance(event, multipart.MultipartSegment):
                        if event.disposition != "form-data" or event.name is None:
                            raise BadRequest("A multipart part lacks 'Content-Disposition: form-data; name=...'.")
                        name = event.name
                        charset = event.charset or "utf-8"
                        if event.filename is None:
                            sink = None
                            field = bytearray()
                        else:
                            sink = SpooledTemporaryFile(max_size=SPOOL_SIZE)
                            headers = Headers(event.headerlist)
                            files.add(name, FileStorage(sink, event.filename, name, headers.get("Content-Type"), headers))
                    elif event is not None:
                        if sink is not None:
                            sink.write(event)
                            continue
                        memory += len(event)
                        if MAX_FORM_MEMORY_SIZE is not None and memory > MAX_FORM_MEMORY_SIZE:
                            raise ContentTooLarge(
                                f"The form fields exceed {MAX_FORM_MEMORY_SIZE} bytes (max_form_memory_size)."
                            )
                        field += event
                    elif sink is not None:
                        sink.seek(0)
                    else:
                        try:
                            form.add(name, field.decode(charset))
                        except (LookupError, UnicodeDecodeError):
                            raise BadRequest(f"The multipart field {name!r} is not valid {charset}.") from None
                if not chunk:
                    break
    except multipart.ParserLimitReached as exc:
        _close_files(files)
        raise ContentTooLarge(str(exc)) from None
    except multipart.MultipartError as exc:
        _close_files(files)
        raise BadRequest(str(exc)) from None
    except BaseException:
        _close_files(files)
        raise
    return form, files


def _close_files(files: MultiDict[FileStorage]) -> None:
    for _, upload in files.items(multi=True):
        upload.close()


def parse_werkzeug(environ: dict[str, Any]) -> Parsed:
    """Parse with Werkzeug's ``parse_form_data`` under the same limits."""
    _, form, files = werkzeug.formparser.parse_form_data(
        environ, max_form_memory_size=MAX_FORM_MEMORY_SIZE, max_form_parts=MAX_FORM_PARTS, silent=False
    )
    return form, files


def _configure_django() -> None:
    if not django_settings.configured:
        django_settings.configure(
            DEFAULT_CHARSET="utf-8",
            FILE_UPLOAD_MAX_MEMORY_SIZE=SPOOL_SIZE,
            DATA_UPLOAD_MAX_MEMORY_SIZE=MAX_FORM_MEMORY_SIZE,
            DATA_UPLOAD_MAX_NUMBER_FIELDS=MAX_FORM_PARTS,
            DATA_UPLOAD_MAX_NUMBER_FILES=MAX_FORM_PARTS,
        )


def parse_django(environ: dict[str, Any]) -> Parsed:
    """Parse with Django's ``MultiPartParser`` and its default upload handlers (memory, then temporary file)."""
    _configure_django()
    from django.core.files.uploadhandler import MemoryFileUploadHandler
    from django.core.files.uploadhandler import TemporaryFileUploadHandler
    from django.http.multipartparser import MultiPartParser as DjangoParser

    stream = LimitedStream(environ["wsgi.input"], int(environ["CONTENT_LENGTH"]))
    handlers = [MemoryFileUploadHandler(), TemporaryFileUploadHandler()]
    post, django_files = DjangoParser(environ, stream, handlers).parse()
    form: MultiDict[str] = MultiDict([(key, value) for key, values in post.lists() for value in values])
    files: MultiDict[FileStorage] = MultiDict()
    for key, uploads in django_files.lists():
        for upload in uploads:
            upload.seek(0)
            files.add(key, FileStorage(upload.file, upload.name, key, upload.content_type))
    return form, files


PARSERS: dict[str, Callable[[dict[str, Any]], Parsed]] = {
    "sluice": parse_sluice,
    "python-multipart": parse_python_multipart,
    "multipart": parse_multipart,
    "werkzeug": parse_werkzeug,
    "django": parse_django,
}


def handle_request(parse: Callable[[dict[str, Any]], Parsed], body: bytes) -> Parsed:
    """Parse one request's body, then close its files as the end of a request does."""
    form, files = parse(make_environ(body))
    for _, upload in files.items(multi=True):
        upload.close()
    return form, files


def verify(parse: Callable[[dict[str, Any]], Parsed], case: Case, body: bytes) -> None:
    """Assert that ``parse`` returns exactly the case's fields and file bytes."""
    form, files = parse(make_environ(body))
    try:
        got_files = [(key, upload.filename, upload.stream.read()) for key, upload in files.items(multi=True)]
    finally:
        for _, upload in files.items(multi=True):
            upload.close()
    assert list(form.items(multi=True)) == case.fields, f"{case.name}: fields differ"
    assert got_files == case.files, f"{case.name}: files differ"


# --------------------------------------------------------------------------- #
# Timing and report
# --------------------------------------------------------------------------- #


@dataclass(frozen=True)
class Cell:
    """The timing of one parser on one case."""

    case: str
    parser: str
    body_size: int
    seconds: list[float]  # per request, one per repeat

    @property
    def median(self) -> float:
        """Median seconds per request."""
        return statistics.median(self.seconds)

    @property
    def spread(self) -> float:
        """(max - min) / median of the repeats."""
        return (max(self.seconds) - min(self.seconds)) / self.median


def time_cell(parse: Callable[[dict[str, Any]], Parsed], body: bytes, target_s: float, repeat: int) -> list[float]:
    """Return seconds per request for each of ``repeat`` runs of about ``target_s``."""
    timer = timeit.Timer(lambda: handle_request(parse, body), setup="gc.enable()")
    one = min(timer.repeat(repeat=3, number=1))
    number = max(1, round(target_s / one))
    return [total / number for total in timer.repeat(repeat=repeat, number=number)]


def run(target_s: float, repeat: int) -> list[Cell]:
    """Verify every parser on every case, then time them."""
    cells = []
    for case in make_cases():
        body = case.make_body()
        for parse in PARSERS.values():
            verify(parse, case, body)
        for parser_name, parse in PARSERS.items():
            seconds = time_cell(parse, body, target_s, repeat)
            cells.append(Cell(case.name, parser_name, len(body), seconds))
            print(f"  {case.name:32} {parser_name:17} {statistics.median(seconds) * 1e6:12.1f} µs", file=sys.stderr)
    return cells


def format_table(cells: list[Cell]) -> str:
    """Render the cells as a markdown table, with each parser's time relative to sluice's."""
    sluice_time = {cell.case: cell.median for cell in cells if cell.parser == "sluice"}
    lines = [
        "| case | body | parser | µs / request | MB/s | vs sluice | spread |",
        "|---|---:|---|---:|---:|---:|---:|",
    ]
    for cell in cells:
        mib = cell.body_size / 2**20
        size = f"{mib:.1f} MiB" if mib >= 1 else f"{cell.body_size / 1024:.1f} KiB"
        lines.append(
            f"| {cell.case} | {size} | {cell.parser} | {cell.median * 1e6:,.1f} | "
            f"{cell.body_size / cell.median / 1e6:,.1f} | {cell.median / sluice_time[cell.case]:.2f}× | "
            f"{cell.spread:.0%} |"
        )
    return "\n".join(lines)


# --------------------------------------------------------------------------- #
# The large file: one fresh interpreter per parser
# --------------------------------------------------------------------------- #


class GeneratedBody:
    """A one-file multipart body of ``mib`` MiB, produced while it is read (one 1 MiB block in memory).

    Args:
        mib: the file size in MiB.
    """

    def __init__(self, mib: int) -> None:
        self.block = random.Random(SEED).randbytes(2**20)
        self.head = (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="upload"; filename="big.bin"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        self.tail = f"\r\n--{BOUNDARY}--\r\n".encode()
        self.blocks = mib
        self.length = len(self.head) + mib * len(self.block) + len(self.tail)
        delimiter = f"\r\n--{BOUNDARY}".encode()
        if delimiter in self.block + self.block[: len(delimiter)]:
            raise RuntimeError("the random block contains the delimiter; change SEED")
        self._pos = 0

    def _piece(self, pos: int, size: int) -> bytes:
        head, block = len(self.head), len(self.block)
        if pos < head:
            return self.head[pos : pos + size]
        pos -= head
        if pos < self.blocks * block:
            offset = pos % block
            return self.block[offset : offset + size]
        pos -= self.blocks * block
        return self.tail[pos : pos + size]

    def read(self, size: int = -1) -> bytes:
        """Return the next ``size`` bytes (fewer only at the end)."""
        if size < 0:
            size = self.length - self._pos
        pieces = []
        while size > 0 and self._pos < self.length:
            piece = self._piece(self._pos, size)
            pieces.append(piece)
            self._pos += len(piece)
            size -= len(piece)
        return pieces[0] if len(pieces) == 1 else b"".join(pieces)

    def environ(self) -> dict[str, Any]:
        """A WSGI environ whose ``wsgi.input`` is a fresh copy of this body."""
        fresh = GeneratedBody.__new__(GeneratedBody)
        fresh.__dict__.update(self.__dict__)
        fresh._pos = 0
        return {
            "REQUEST_METHOD": "POST",
            "CONTENT_TYPE": CONTENT_TYPE,
            "CONTENT_LENGTH": str(self.length),
            "wsgi.input": fresh,
        }


def _proc_status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def measure(parser_name: str, mib: int, repeat: int) -> dict[str, Any]:
    """Parse the large body in this (fresh) process; return times and memory peaks.

    The first parse is the one whose peak RSS counts (nothing ran before it
    that could have left freed memory to reuse); then ``repeat`` timed
    parses; then one under ``tracemalloc``.
    """
    parse = PARSERS[parser_name]
    if parser_name == "django":
        _configure_django()
    body = GeneratedBody(mib)
    expected = body.blocks * len(body.block)
    rss_before = _proc_status_kib("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS
    form, files = parse(body.environ())
    rss_peak = _proc_status_kib("VmHWM")
    try:
        upload = files["upload"]
        got = 0
        while chunk := upload.stream.read(2**20):
            if chunk != body.block[: len(chunk)]:
                raise AssertionError(f"{parser_name}: file bytes differ at offset {got}")
            got += len(chunk)
        if got != expected or upload.filename != "big.bin" or len(form):
            raise AssertionError(f"{parser_name}: got {got} bytes, {upload.filename!r}, {len(form)} fields")
    finally:
        for _, upload in files.items(multi=True):
            upload.close()
    seconds = []
    for _ in range(repeat):
        environ = body.environ()
        start = time.perf_counter()
        _, files = parse(environ)
        seconds.append(time.perf_counter() - start)
        for _, upload in files.items(multi=True):
            upload.close()
    tracemalloc.start()
    _, files = parse(body.environ())
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    for _, upload in files.items(multi=True):
        upload.close()
    return {
        "parser": parser_name,
        "bytes": body.length,
        "seconds": seconds,
        "rss_growth_kib": rss_peak - rss_before,
        "traced_peak_bytes": traced_peak,
    }


def run_big(mib: int, repeat: int) -> list[dict[str, Any]]:
    """Measure every parser on the large body, each in a fresh interpreter."""
    results = []
    for name in PARSERS:
        out = subprocess.run(
            [sys.executable, __file__, "--measure", name, "--big-mib", str(mib), "--big-repeat", str(repeat)],
            check=True,
            capture_output=True,
            text=True,
            timeout=900,
        )
        result = json.loads(out.stdout)
        results.append(result)
        mbps = result["bytes"] / statistics.median(result["seconds"]) / 1e6
        print(f"  {mib} MiB file {name:17} {mbps:8.1f} MB/s  +{result['rss_growth_kib'] / 1024:.1f} MiB RSS", file=sys.stderr)
    return results


def format_big_table(results: list[dict[str, Any]]) -> str:
    """Render the large-file results: throughput, ratio to sluice, memory peaks."""
    sluice = statistics.median(next(r for r in results if r["parser"] == "sluice")["seconds"])
    lines = [
        "| parser | MB/s (median) | time vs sluice | spread | peak RSS growth | tracemalloc peak |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for result in results:
        seconds = result["seconds"]
        median = statistics.median(seconds)
        lines.append(
            f"| {result['parser']} | {result['bytes'] / median / 1e6:,.0f} | {median / sluice:.2f}× | "
            f"{(max(seconds) - min(seconds)) / median:.0%} | {result['rss_growth_kib'] / 1024:.1f} MiB | "
            f"{result['traced_peak_bytes'] / 2**20:.2f} MiB |"
        )
    return "\n".join(lines)


def describe_run(target_s: float, repeat: int) -> str:
    """One paragraph on where and how the table was measured."""
    cpus = sorted(os.sched_getaffinity(0))
    pinned = f"pinned to core {cpus[0]}" if len(cpus) == 1 else f"not pinned (cores {cpus})"
    versions = ", ".join(
        f"{name} {importlib.metadata.version(name)}" for name in ("python-multipart", "multipart", "werkzeug", "django")
    )
    return (
        f"{dt.date.today().isoformat()}, Python {platform.python_version()}, {versions}; one process {pinned}. "
        f"Median of {repeat} repeats of about {target_s:g} s each; 'vs sluice' is time / sluice's time "
        f"(above 1 is slower), 'spread' is (max - min) / median. Bodies come from a fresh `io.BytesIO` "
        f"read in 64 KiB chunks; files spool to a temporary file past 512 KiB (Werkzeug: 500 KiB) and are "
        f"closed after each request."
    )


def main(argv: list[str] | None = None) -> int:
    """Run the comparison and print (and with ``--write`` record) the tables."""
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short smoke run (3 repeats of ~0.02 s, 10 MiB big file)")
    parser.add_argument(
        "--write", action="store_true", help="also update this script's section of benchmarks/RESULTS.md"
    )
    parser.add_argument("--big-mib", type=int, default=None, help="size of the large-file case in MiB (default 100)")
    parser.add_argument("--big-repeat", type=int, default=None, help="timed parses of the large file per parser (5)")
    parser.add_argument("--measure", choices=list(PARSERS), help=argparse.SUPPRESS)  # the child process
    args = parser.parse_args(argv)
    mib = args.big_mib or (10 if args.quick else 100)
    big_repeat = args.big_repeat or (2 if args.quick else 5)
    if args.measure:
        print(json.dumps(measure(args.measure, mib, big_repeat)))
        return 0
    _configure_django()
    target_s, repeat = (0.02, 3) if args.quick else (0.4, 9)
    cells = run(target_s, repeat)
    big = run_big(mib, big_repeat)
    text = (
        "## Multipart parsers (`benchmarks/multipart.py`)\n\n"
        + describe_run(target_s, repeat)
        + "\n\n"
        + format_table(cells)
        + f"\n\nA {mib} MiB file (one part), each parser in a fresh interpreter, median of {big_repeat} parses; "
        "the body is generated while read, so the input holds no memory. 'peak RSS growth' is VmHWM after the "
        "first parse minus VmRSS before it; 'tracemalloc peak' is the peak of Python allocations during one parse.\n\n"
        + format_big_table(big)
    )
    print(text)
    if args.write:
        write_section(text, owner="multipart.py")
    return 0


if __name__ == "__main__":
    sys.exit(main())
