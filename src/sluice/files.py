"""Files as responses: send_file, send_from_directory, conditional and range requests, static files.

Design: :func:`send_file` stats the open file once and answers from that:
preconditions in RFC 9110 §13.2.2 order (412 / 304), then ``Range``
(§14: 206, ``multipart/byteranges`` or 416). The body is a
:class:`~sluice.wrappers.filebody.FileBody` of ranges of the open file,
which the app hands to the server's ``wsgi.file_wrapper`` so that sluice's
server sends it with ``sendfile(2)``. Bodiless answers (HEAD, 304, 412,
416) close the file at once. :func:`send_from_directory` refuses, with 404,
any path that could leave the directory (checked by name, then by the real
path, so symlinks out of the root are refused too). The static view adds
precompressed variants and versioned URLs.
"""

from __future__ import annotations

import hashlib
import io
import mimetypes
import os
import re
import secrets
import stat
import time
import unicodedata
import zlib
from collections.abc import Callable
from datetime import datetime
from datetime import timedelta
from datetime import timezone
from email.utils import parsedate_to_datetime
from functools import lru_cache
from typing import IO
from typing import Any
from urllib.parse import quote

from sluice.ctx import _cv_request
from sluice.ctx import _request_ctx
from sluice.ctx import current_app
from sluice.ctx import request
from sluice.errors import NotFound
from sluice.errors import RangeNotSatisfiable
from sluice.wrappers.datastructures import Headers
from sluice.wrappers.datastructures import check_value
from sluice.wrappers.filebody import FileBody
from sluice.wrappers.filebody import Part
from sluice.wrappers.filebody import RawFile
from sluice.wrappers.http import http_date
from sluice.wrappers.response import Response

#: More ranges than this (after merging) are answered with the whole file.
MAX_RANGES = 16
#: ``Cache-Control`` of a static file requested with its current version.
IMMUTABLE = "public, max-age=31536000, immutable"

_TOKEN_RE = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_DRIVE_RE = re.compile(r"^[A-Za-z]:")
# RFC 9110 §15.4.5: what a 304 keeps of the 200's header fields.
_DROP_ON_304 = frozenset({"content-type", "content-length", "content-disposition", "content-encoding", "accept-ranges", "content-range"})
# Precompressed variants, best first: (coding, suffix).
_VARIANTS = (("br", ".br"), ("gzip", ".gz"))

MaxAge = int | timedelta | Callable[[str | None], int | timedelta | None] | None


# -- path safety ---------------------------------------------------------------


def safe_join(directory: str, path: str) -> str | None:
    """Join ``path`` under ``directory``, or return None if it could leave it.

    Refused by name: empty, NUL, backslash, an absolute path, a Windows
    drive (``C:``), a ``..`` segment. The result may still be a symlink out
    of the directory; :func:`send_from_directory` checks the real path too.

    Args:
        directory: the root directory.
        path: the client's path below it, ``/``-separated.

    Returns:
        The joined path, or None.
    """
    if not path or "\x00" in path or "\\" in path or path.startswith("/") or _DRIVE_RE.match(path):
        return None
    if ".." in path.split("/"):
        return None
    if os.sep != "/" and os.sep in path or os.altsep and os.altsep != "/" and os.altsep in path:
        return None
    return os.path.join(directory, path)


def _is_inside(root: str, path: str) -> bool:
    """True when ``path``'s real path (symlinks resolved) lies inside ``root``'s."""
    real_root = os.path.realpath(root)
    real = os.path.realpath(path)
    return real == real_root or real.startswith(real_root.rstrip(os.sep) + os.sep)


# -- headers -------------------------------------------------------------------


@lru_cache(maxsize=512)
def _guess_type(name: str) -> tuple[str | None, str | None]:
    return mimetypes.guess_type(name)


@lru_cache(maxsize=256)
def _content_disposition(kind: str, name: str) -> str:
    """``Content-Disposition`` with RFC 6266 ``filename`` and RFC 5987 ``filename*`` for non-ASCII."""
    try:
        name.encode("ascii")
    except UnicodeEncodeError:
        simple = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
        encoded = quote(name, safe="!#$&+-.^_`|~")
        return f'{kind}; filename="{_escape_quoted(simple)}"; filename*=UTF-8\'\'{encoded}'
    if _TOKEN_RE.fullmatch(name):
        return f"{kind}; filename={name}"
    return f'{kind}; filename="{_escape_quoted(name)}"'


def _escape_quoted(value: str) -> str:
    cleaned = "".join(ch for ch in value if ch >= " " and ch != "\x7f")
    return cleaned.replace("\\", "\\\\").replace('"', '\\"')


@lru_cache(maxsize=1024)
def _date(seconds: int) -> str:
    return http_date(seconds)


def _parse_date(value: str) -> int | None:
    """An HTTP-date as Unix seconds, or None when it is not one (RFC 9110 §5.6.7)."""
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return int(moment.timestamp())


def _etag_list(value: str) -> list[str]:
    """The entity-tags of an ``If-Match``/``If-None-Match`` value, ``["*"]`` for a star."""
    value = value.strip()
    if value == "*":
        return ["*"]
    return re.findall(r'(?:W/)?"[^"]*"', value)


def _opaque(tag: str) -> str:
    return tag[2:] if tag.startswith("W/") else tag


# -- ranges --------------------------------------------------------------------


def parse_ranges(header: str, size: int) -> list[tuple[int, int]] | None:
    """Parse a ``Range`` value into satisfiable ``(start, stop)`` pairs, merged and sorted.

    Args:
        header: the ``Range`` field value.
        size: the representation's length.

    Returns:
        None when the header must be ignored (another unit or invalid
        syntax, RFC 9110 §14.2); an empty list when no range is
        satisfiable (416); else the ranges, overlapping and adjacent ones
        merged.
    """
    unit, sep, specs = header.partition("=")
    if not sep or unit.strip().lower() != "bytes":
        return None
    ranges: list[tuple[int, int]] = []
    for spec in specs.split(","):
        spec = spec.strip(" \t")
        if not spec:
            continue  # RFC 9110 §5.6.1: empty list elements are allowed
        first, dash, last = spec.partition("-")
        if not dash or not (first.isdigit() or first == "") or not (last.isdigit() or last == "") or not first + last:
            return None
        if not first.isascii() or not last.isascii():
            return None
        if first == "":
            suffix = int(last)
            if suffix > 0 and size > 0:
                ranges.append((max(size - suffix, 0), size))
            continue
        start = int(first)
        if last and int(last) < start:
            return None
        if start < size:
            stop = min(int(last) + 1, size) if last else size
            ranges.append((start, stop))
    if not specs.strip(" \t,"):
        return None
    ranges.sort()
    merged: list[tuple[int, int]] = []
    for start, stop in ranges:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], stop))
        else:
            merged.append((start, stop))
    return merged


# -- send_file -----------------------------------------------------------------


def send_file(
    path_or_file: str | os.PathLike[str] | IO[bytes],
    mimetype: str | None = None,
    as_attachment: bool = False,
    download_name: str | None = None,
    conditional: bool = True,
    etag: bool | str = True,
    last_modified: datetime | int | float | None = None,
    max_age: MaxAge = None,
) -> Response:
    """Return a response that sends a file, with conditional and range requests answered.

    Args:
        path_or_file: a path (relative to the app's ``root_path``) or a
            binary file object, read from its current position (closed
            after the response).
        mimetype: the media type; guessed from ``download_name`` or the
            path's name when None.
        as_attachment: ``Content-Disposition: attachment`` (a download)
            instead of ``inline``.
        download_name: the file name the client sees (default: the path's name).
        conditional: answer ``If-*`` and ``Range`` headers (304, 412, 206, 416).
        etag: compute an ETag (True), use this one (a str), or none (False).
        last_modified: the ``Last-Modified`` time (default: the file's mtime).
        max_age: seconds (or a timedelta) a client may cache the file, or a
            callable given the path; None means ``SEND_FILE_MAX_AGE_DEFAULT``,
            and when that is None too, ``Cache-Control: no-cache``.

    Returns:
        The response (200, 206, 304, 412 or 416).

    Raises:
        TypeError: a file object without ``mimetype`` or ``download_name``,
            or ``as_attachment`` without a name.
        ValueError: a file opened in text mode.
        FileNotFoundError: the path does not exist.
    """
    config = current_app.config
    if max_age is None:
        max_age = config.get("SEND_FILE_MAX_AGE_DEFAULT", None)
    path: str | None = None
    if isinstance(path_or_file, (str, os.PathLike)):
        path = os.path.join(current_app.root_path, os.fspath(path_or_file))
        file: IO[bytes] | None = None
    else:
        file = path_or_file
        if isinstance(file, io.TextIOBase):
            raise ValueError("send_file() needs a file opened in binary mode ('rb'), not text mode")
    return _send(file, path, mimetype, as_attachment, download_name, conditional, etag, last_modified, max_age, None)


def _send(
    file: IO[bytes] | None,
    path: str | None,
    mimetype: str | None,
    as_attachment: bool,
    download_name: str | None,
    conditional: bool,
    etag: bool | str,
    last_modified: datetime | int | float | None,
    max_age: MaxAge,
    variant: tuple[str, str] | None,
    vary: bool = False,
    cache_control: str | None = None,
) -> Response:
    """The body of :func:`send_file`; ``variant`` is ``(coding, path)`` of a precompressed file to send."""
    if isinstance(etag, str):
        check_value("ETag", etag)
    # PERF: with the defaults, the headers a path's name decides (type,
    # disposition, coding, Vary) are the same at every request for it.
    key = (path, variant, vary) if file is None and mimetype is None and download_name is None and not as_attachment else None
    named = _named_headers.get(key) if key is not None else None
    if named is not None:
        mimetype, cached_headers = named
        headers = list(cached_headers)
    else:
        mimetype, headers = _headers_for_name(path, mimetype, as_attachment, download_name, variant, vary, key)
    return _send_with(file, path, mimetype, headers, conditional, etag, last_modified, max_age, variant, cache_control)


# (path, variant, vary) -> (mimetype, headers) of a file sent by path with the defaults.
_named_headers: dict[tuple[str | None, tuple[str, str] | None, bool], tuple[str, tuple[tuple[str, str], ...]]] = {}


def _headers_for_name(
    path: str | None,
    mimetype: str | None,
    as_attachment: bool,
    download_name: str | None,
    variant: tuple[str, str] | None,
    vary: bool,
    key: tuple[str | None, tuple[str, str] | None, bool] | None,
) -> tuple[str, list[tuple[str, str]]]:
    """The Content-Type and the headers the file's name decides; kept in :data:`_named_headers` under ``key`` if given.

    Raises:
        TypeError: no name to guess a type from, or an attachment without a name.
    """
    if download_name is None and path is not None:
        download_name = os.path.basename(path)
    headers: list[tuple[str, str]] = []
    if mimetype is not None:
        check_value("Content-Type", mimetype)
    if mimetype is None:
        if download_name is None:
            raise TypeError(
                "cannot guess the MIME type of a file object: pass mimetype= or download_name=, or pass a path"
            )
        mimetype, encoding = _guess_type(download_name)
        if mimetype is None:
            mimetype = "application/octet-stream"
        # An attachment keeps its encoding: a saved .tar.gz stays compressed.
        if encoding is not None and not as_attachment and variant is None:
            headers.append(("Content-Encoding", encoding))
    if download_name is not None:
        headers.append(("Content-Disposition", _content_disposition("attachment" if as_attachment else "inline", download_name)))
    elif as_attachment:
        raise TypeError("as_attachment=True needs a file name: pass download_name= or a path")
    if variant is not None:
        headers.append(("Content-Encoding", variant[0]))
    if vary:
        headers.append(("Vary", "Accept-Encoding"))
    if key is not None:
        if len(_named_headers) > 4096:
            _named_headers.clear()
        _named_headers[key] = (mimetype, tuple(headers))
    return mimetype, headers


def _send_with(
    file: IO[bytes] | None,
    path: str | None,
    mimetype: str,
    headers: list[tuple[str, str]],
    conditional: bool,
    etag: bool | str,
    last_modified: datetime | int | float | None,
    max_age: MaxAge,
    variant: tuple[str, str] | None,
    cache_control: str | None,
) -> Response:
    """Open the file (or its variant) and answer it, or answer with X-Sendfile."""
    source = variant[1] if variant is not None else path
    ctx = _cv_request.get()
    app: Any = ctx.app
    config = app.config
    if source is not None and config.get("USE_X_SENDFILE", False):
        sendfile_response = _x_sendfile(source, mimetype, headers, config)
        if sendfile_response is not None:
            return sendfile_response

    extent: tuple[int, int | None, float | None, bool] | None = None
    if file is None:
        assert source is not None
        raw, st = RawFile.open(source)
        opened: IO[bytes] = raw  # type: ignore[assignment]  # a RawIOBase is a binary file
        if stat.S_ISREG(st.st_mode):
            extent = (0, st.st_size, st.st_mtime, True)
    else:
        opened = file
    try:
        return _respond(
            ctx.request.environ, opened, extent, source, mimetype, headers, conditional, etag, last_modified, max_age, cache_control
        )
    except BaseException:
        opened.close()
        raise


def _respond(
    environ: dict[str, Any],
    file: IO[bytes],
    extent: tuple[int, int | None, float | None, bool] | None,
    path: str | None,
    mimetype: str,
    headers: list[tuple[str, str]],
    conditional: bool,
    etag: bool | str,
    last_modified: datetime | int | float | None,
    max_age: MaxAge,
    cache_control: str | None,
) -> Response:
    # ``extent``: known when sluice opened the file (and fstat'ed it).
    start, size, mtime, regular = extent if extent is not None else _extent(file)
    if last_modified is None and mtime is not None:
        modified: int | None = int(mtime)
    elif isinstance(last_modified, datetime):
        modified = int((last_modified if last_modified.tzinfo else last_modified.replace(tzinfo=timezone.utc)).timestamp())
    elif last_modified is not None:
        modified = int(last_modified)
    else:
        modified = None
    tag: str | None = None
    if isinstance(etag, str):
        tag = etag if etag.startswith(('"', 'W/"')) else f'"{etag}"'
    elif etag and path is not None and mtime is not None:
        tag = _file_tag(path, mtime, size)
    if tag is not None:
        headers.append(("ETag", tag))
    if modified is not None:
        headers.append(("Last-Modified", _date(modified)))
    if cache_control is not None:
        headers.append(("Cache-Control", cache_control))
    else:
        if callable(max_age):
            max_age = max_age(path)
        if isinstance(max_age, timedelta):
            max_age = int(max_age.total_seconds())
        if max_age is None:
            headers.append(("Cache-Control", "no-cache"))
        else:
            headers.append(("Cache-Control", f"public, max-age={max_age}" if max_age > 0 else f"no-cache, max-age={max_age}"))
            headers.append(("Expires", _date(int(time.time()) + max_age)))

    method = environ.get("REQUEST_METHOD", "GET")
    if conditional:
        code = evaluate_preconditions(environ, tag, modified)
        if code is not None:
            file.close()
            return _bodiless(code, headers, mimetype)
    if size is None:
        # An unseekable file: streamed to its end, no length, no ranges.
        return _response(FileBody(file, [(start, 1 << 62)]), 200, headers, mimetype)
    if conditional:
        # Ranges are answered only for conditional sends (as Flask), so only they advertise them.
        headers.append(("Accept-Ranges", "bytes"))
    ranges = None
    range_header = environ.get("HTTP_RANGE")
    if conditional and range_header and method in ("GET", "HEAD") and _if_range_holds(environ, tag, modified):
        ranges = parse_ranges(range_header, size)
    if ranges is not None and not ranges:
        file.close()
        # An error like any other (its page, errorhandler(416)), with the
        # Content-Range RFC 9110 §15.5.17 asks for.
        raise RangeNotSatisfiable(
            description=f"The file is {size} bytes; ask for a range inside it.",
            headers=[("Content-Range", f"bytes */{size}")],
        )
    if method == "HEAD":
        file.close()
    if ranges and len(ranges) == 1 and ranges[0] != (0, size):
        first, stop = ranges[0]
        headers.append(("Content-Range", f"bytes {first}-{stop - 1}/{size}"))
        headers.append(("Content-Length", str(stop - first)))
        return _response(FileBody(file, [(start + first, stop - first)], regular), 206, headers, mimetype)
    if ranges and 1 < len(ranges) <= MAX_RANGES:
        content_type, parts = _multipart(ranges, size, start, mimetype)
        length = sum(len(part) if isinstance(part, bytes) else part[1] for part in parts)
        # No request may make the body larger than the file (issue 8).
        if length < size:
            headers.append(("Content-Length", str(length)))
            return _response(FileBody(file, parts, regular), 206, headers, None, content_type)
    headers.append(("Content-Length", str(size)))
    return _response(FileBody(file, [(start, size)], regular), 200, headers, mimetype)


@lru_cache(maxsize=1024)
def _file_tag(path: str, mtime: float, size: int | None) -> str:
    """The ETag of a file: its modification time, size and a checksum of its path."""
    check = zlib.adler32(path.encode("utf-8", "surrogateescape")) & 0xFFFFFFFF
    return f'"{int(mtime * 1e6):x}-{(size or 0):x}-{check:x}"'


def _extent(file: IO[bytes]) -> tuple[int, int | None, float | None, bool]:
    """``(start, length, mtime, regular)`` of a file from its position: length None when unseekable."""
    mtime: float | None = None
    try:
        st = os.fstat(file.fileno())
    except (AttributeError, OSError, ValueError):
        st = None
    if st is not None and stat.S_ISREG(st.st_mode):
        mtime = st.st_mtime
        start = file.tell()
        return start, max(st.st_size - start, 0), mtime, True
    try:
        if not file.seekable():
            return 0, None, None, False
        start = file.tell()
        end = file.seek(0, io.SEEK_END)
        file.seek(start)
    except (AttributeError, OSError, ValueError):
        return 0, None, None, False
    return start, max(end - start, 0), mtime, False


def _multipart(ranges: list[tuple[int, int]], size: int, start: int, mimetype: str) -> tuple[str, list[Part]]:
    """The ``Content-Type`` and parts of a ``multipart/byteranges`` body (RFC 9110 §14.6)."""
    boundary = secrets.token_hex(12)
    content_type = _with_charset(mimetype)
    parts: list[Part] = []
    for index, (first, stop) in enumerate(ranges):
        lead = "" if index == 0 else "\r\n"
        head = f"{lead}--{boundary}\r\nContent-Type: {content_type}\r\nContent-Range: bytes {first}-{stop - 1}/{size}\r\n\r\n"
        parts.append(head.encode("latin-1"))
        parts.append((start + first, stop - first))
    parts.append(f"\r\n--{boundary}--\r\n".encode("latin-1"))
    return f"multipart/byteranges; boundary={boundary}", parts


def _with_charset(mimetype: str) -> str:
    return f"{mimetype}; charset=utf-8" if mimetype.startswith("text/") else mimetype


def _response(
    body: FileBody, code: int, headers: list[tuple[str, str]], mimetype: str | None, content_type: str | None = None
) -> Response:
    response = Response(body, status=code, mimetype=mimetype, content_type=content_type)
    # PERF: every value was built here or checked on entry (_send), so the
    # pairs join the response's own checked list as they are, before anyone
    # asked for ``headers`` (benchmarks/static_files.py).
    own = response._headers
    if isinstance(own, list):
        own += headers
    else:
        response.headers.extend(headers)
    return response


def _bodiless(code: int, headers: list[tuple[str, str]], mimetype: str) -> Response:
    if code == 304:
        has_etag = any(name == "ETag" for name, _ in headers)
        kept = [
            (name, value)
            for name, value in headers
            if name.lower() not in _DROP_ON_304 and not (has_etag and name == "Last-Modified")
        ]
        response = Response(b"", status=304, headers=Headers(kept))
        response.headers.remove("Content-Type")
        response.headers.remove("Content-Length")
        return response
    return _text(412, [pair for pair in headers if pair[0] in ("ETag", "Last-Modified")], "Precondition Failed: the file changed since you fetched it; fetch it again.\n")


def _text(code: int, headers: list[tuple[str, str]], message: str) -> Response:
    return Response(message, status=code, headers=Headers(headers), mimetype="text/plain")


# -- conditional requests --------------------------------------------------------


def evaluate_preconditions(environ: dict[str, Any], etag: str | None, modified: int | None) -> int | None:
    """Evaluate the request's preconditions in RFC 9110 §13.2.2 order.

    Args:
        environ: the request's environ.
        etag: the representation's entity-tag, or None.
        modified: its modification time in Unix seconds, or None.

    Returns:
        412 or 304 when a precondition fails, else None (answer normally).
    """
    method = environ.get("REQUEST_METHOD", "GET")
    if_match = environ.get("HTTP_IF_MATCH")
    if if_match is not None:
        # §13.1.1: strong comparison; "*" holds for a current representation.
        tags = _etag_list(if_match)
        if tags != ["*"] and (etag is None or etag.startswith("W/") or etag not in tags):
            return 412
    else:
        since = environ.get("HTTP_IF_UNMODIFIED_SINCE")
        if since is not None and modified is not None:
            date = _parse_date(since)
            if date is not None and modified > date:
                return 412
    if_none_match = environ.get("HTTP_IF_NONE_MATCH")
    if if_none_match is not None:
        # §13.1.2: weak comparison; "*" matches any current representation.
        tags = _etag_list(if_none_match)
        if tags == ["*"] or (etag is not None and _opaque(etag) in {_opaque(tag) for tag in tags}):
            return 304 if method in ("GET", "HEAD") else 412
    elif method in ("GET", "HEAD"):
        since = environ.get("HTTP_IF_MODIFIED_SINCE")
        if since is not None and modified is not None:
            date = _parse_date(since)
            if date is not None and modified <= date:
                return 304
    return None


def _if_range_holds(environ: dict[str, Any], etag: str | None, modified: int | None) -> bool:
    """True when there is no ``If-Range``, or it matches (RFC 9110 §13.1.5): a strong ETag or the exact date."""
    value = environ.get("HTTP_IF_RANGE")
    if value is None:
        return True
    value = value.strip()
    if value.startswith(('"', "W/")):
        return etag is not None and not etag.startswith("W/") and not value.startswith("W/") and value == etag
    date = _parse_date(value)
    return date is not None and modified is not None and date == modified


# -- X-Sendfile ------------------------------------------------------------------


def _x_sendfile(path: str, mimetype: str, headers: list[tuple[str, str]], config: Any) -> Response | None:
    """The response that lets the front server send ``path`` (``USE_X_SENDFILE``), or None to send it here."""
    name = config.get("X_SENDFILE_HEADER", "X-Sendfile")
    full = os.path.abspath(path)
    if name.lower() == "x-accel-redirect":
        prefix = config.get("X_ACCEL_PREFIX", None) or ""
        value = prefix.rstrip("/") + quote(full)
    else:
        value = full
        if not value.isascii() or not value.isprintable():
            return None  # not expressible as a header value: send the body ourselves
    try:
        st = os.stat(path)
    except OSError:
        raise NotFound() from None
    headers.append(("Last-Modified", _date(int(st.st_mtime))))
    headers.append((name, value))
    return Response(b"", status=200, headers=Headers(headers), mimetype=mimetype)


# -- send_from_directory ---------------------------------------------------------


def send_from_directory(directory: str | os.PathLike[str], path: str | os.PathLike[str], **kwargs: Any) -> Response:
    """Send the file ``path`` below ``directory``; 404 for any path that could leave it.

    Args:
        directory: the root directory (relative to the app's ``root_path``).
        path: the client's path below it (e.g. a URL ``<path:filename>``).
        **kwargs: passed to :func:`send_file`.

    Returns:
        The file response.

    Raises:
        NotFound: the path escapes the directory (``..``, absolute, NUL,
            backslash, a drive letter, a symlink out of the root) or is not
            a regular file.
    """
    root = os.path.join(current_app.root_path, os.fspath(directory))
    full = _checked_path(root, os.fspath(path))
    return send_file(full, **kwargs)


def _checked_path(root: str, path: str) -> str:
    """``path`` joined under ``root`` if it is a regular file inside it (symlinks resolved), else 404."""
    full = safe_join(root, path)
    if full is None:
        raise NotFound()
    # PERF: one lstat per segment below the root; the real path is computed
    # only when a segment is a symlink (benchmarks/static_files.py). The
    # segments' paths are prefixes of ``full`` (no join call per segment).
    current = full[: len(full) - len(path)]
    try:
        for segment in path.split("/"):
            current += segment
            mode = os.lstat(current).st_mode
            if stat.S_ISLNK(mode):
                if not _is_inside(root, full) or not os.path.isfile(full):
                    raise NotFound()
                return full
            current += "/"
    except (OSError, ValueError):
        raise NotFound() from None
    if not stat.S_ISREG(mode):
        raise NotFound()
    return full


# -- static files ----------------------------------------------------------------


class StaticView:
    """The view that serves a static folder: ``view(filename)``.

    Honours ``SEND_FILE_MAX_AGE_DEFAULT``; serves ``name.br``/``name.gz``
    beside a file when the client accepts that coding; with
    ``STATIC_URL_VERSIONING``, a request whose ``v`` argument is the file's
    current hash is cacheable for a year.

    Args:
        folder_getter: returns the static folder (absolute, or relative to
            the app's ``root_path``), or None when there is none.
    """

    def __init__(self, folder_getter: Callable[[], str | None]) -> None:
        self.folder_getter = folder_getter
        self.__name__ = "static"
        # (root_path, folder) -> the joined path, for the last pair seen.
        self._joined: tuple[str, str, str] = ("", "", "")

    def folder(self) -> str:
        """The static folder's path.

        Raises:
            NotFound: no static folder is configured.
        """
        return self._folder(current_app.root_path)

    def _folder(self, root_path: str) -> str:
        folder = self.folder_getter()
        if folder is None:
            raise NotFound()
        joined = self._joined
        if joined[0] != root_path or joined[1] != folder:
            joined = self._joined = (root_path, folder, os.path.join(root_path, folder))
        return joined[2]

    def __call__(self, filename: str) -> Response:
        """Serve ``filename`` from the static folder.

        Raises:
            NotFound: as :func:`send_from_directory`.
        """
        ctx = _request_ctx()
        app: Any = ctx.app
        root = self._folder(app.root_path)
        full = _checked_path(root, filename)
        request = ctx.request
        config = app.config
        max_age = config.get("SEND_FILE_MAX_AGE_DEFAULT", None)
        cache_control = None
        if config.get("STATIC_URL_VERSIONING", False):
            version = request.args.get("v")
            if version is not None and version == file_version(full):
                cache_control = IMMUTABLE
        variant, vary = _choose_variant(root, full, request.environ.get("HTTP_ACCEPT_ENCODING"))
        return _send(None, full, None, False, None, True, True, None, max_age, variant, vary, cache_control)


def make_static_view(folder_getter: Callable[[], str | None]) -> StaticView:
    """Return the view for a static folder (registered as ``<static_url_path>/<path:filename>``).

    Args:
        folder_getter: returns the folder, e.g. ``lambda: app.static_folder``.
    """
    return StaticView(folder_getter)


def _accepted(accept_encoding: str | None) -> dict[str, float]:
    """The codings of ``Accept-Encoding`` with their q-values (RFC 9110 §12.5.3)."""
    codings: dict[str, float] = {}
    if not accept_encoding:
        return codings
    for item in accept_encoding.split(","):
        name, _, params = item.partition(";")
        name = name.strip().lower()
        if not name:
            continue
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value.strip())
                except ValueError:
                    q = 0.0
        codings[name] = q
    return codings


def _choose_variant(root: str, full: str, accept_encoding: str | None) -> tuple[tuple[str, str] | None, bool]:
    """The precompressed variant to send, and whether any exists (then ``Vary`` is sent).

    A variant is held to the file's own rule: a regular file, or a symlink
    whose target is a regular file inside ``root``.
    """
    existing: list[tuple[str, str]] = []
    for coding, suffix in _VARIANTS:
        variant_path = full + suffix
        try:
            mode = os.lstat(variant_path).st_mode
        except (OSError, ValueError):
            continue
        if stat.S_ISREG(mode) or (
            stat.S_ISLNK(mode) and _is_inside(root, variant_path) and os.path.isfile(variant_path)
        ):
            existing.append((coding, variant_path))
    if not existing:
        return None, False
    accepted = _accepted(accept_encoding)
    best: tuple[str, str] | None = None
    best_q = 0.0
    for coding, variant_path in existing:
        q = accepted.get(coding, accepted.get("*", 0.0))
        if q > best_q:
            best, best_q = (coding, variant_path), q
    return best, True


_versions: dict[str, tuple[int, int, str]] = {}


def file_version(path: str) -> str:
    """A short hash of a file's content, cached by path, mtime and size.

    Args:
        path: the file.

    Returns:
        12 hex digits of the content's SHA-256.
    """
    st = os.stat(path)
    cached = _versions.get(path)
    if cached is not None and cached[0] == st.st_mtime_ns and cached[1] == st.st_size:
        return cached[2]
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(65536), b""):
            digest.update(block)
    version = digest.hexdigest()[:12]
    if len(_versions) > 4096:
        _versions.clear()
    _versions[path] = (st.st_mtime_ns, st.st_size, version)
    return version


def static_url_version(app: Any, endpoint: str, values: dict[str, Any]) -> str | None:
    """The ``v`` query value of a static URL under ``STATIC_URL_VERSIONING``, or None.

    Args:
        app: the app.
        endpoint: the endpoint being built (a :class:`StaticView`'s).
        values: the URL values; ``filename`` names the file.

    Returns:
        The file's version, or None when the endpoint is not a static view
        or the file does not exist.
    """
    view = app.view_functions.get(endpoint)
    filename = values.get("filename")
    if not isinstance(view, StaticView) or not isinstance(filename, str):
        return None
    try:
        full = _checked_path(view.folder(), filename)
        return file_version(full)
    except (NotFound, OSError):
        return None
