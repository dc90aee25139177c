"""What the app hands the server, and how closing it ends the request.

Design: a request lives until the server calls ``close()`` on the body it
got (PEP 3333), so a streaming body still sees ``request``. Both bodies the
pipeline returns, a :class:`RequestBody` around a Response's iterable and a
:class:`DirectBody` for a value answered without a Response, end the request
through one function, :func:`end_request`: teardown with the request's
unhandled exception, finished callbacks, uploads closed, ``response_closed``.

The encoding of plain return values lives here too (:func:`encode_plain`,
:func:`json_text`), shared by ``make_response``, the direct answer and
``jsonify``, so the three cannot differ.
"""

from __future__ import annotations

import calendar
import json
from collections.abc import Iterator
from collections.abc import Mapping
from datetime import date
from datetime import datetime
from datetime import timezone
from typing import Any

from sluice import signals
from sluice.ctx import RequestContext
from sluice.wrappers.http import http_date
from sluice.wrappers.response import ClosingIterator
from sluice.wrappers.response import Response
from sluice.wrappers.response import _content_type_for

_response_closed = signals.response_closed

JSON_TYPE = _content_type_for("application/json")


def json_default(value: Any) -> Any:
    """What JSON gets for a value it has no type for, as Flask's encoder gives it.

    A ``date`` or ``datetime`` is an HTTP date (a naive one taken as UTC), a
    ``Decimal`` or ``UUID`` its string, a dataclass its fields, an object with
    ``__html__`` that markup.

    Raises:
        TypeError: any other value; the message names its type.
    """
    if isinstance(value, date):
        if isinstance(value, datetime):
            moment = value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)
            return http_date(int(moment.timestamp()))
        return http_date(calendar.timegm(value.timetuple()))
    # Imported here: only a value JSON has no type for gets this far, and
    # these modules would add milliseconds to every app's start.
    from decimal import Decimal
    from uuid import UUID

    if isinstance(value, (Decimal, UUID)):
        return str(value)
    if hasattr(type(value), "__dataclass_fields__"):
        import dataclasses

        return dataclasses.asdict(value)
    html = getattr(value, "__html__", None)
    if html is not None:
        return str(html())
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def json_text(value: Any, config: Mapping[str, Any]) -> str:
    """``value`` as compact JSON, keys sorted unless ``config["JSON_SORT_KEYS"]`` is false.

    Dates, decimals, UUIDs, dataclasses and markup are encoded as
    :func:`json_default` says.

    Raises:
        TypeError: a value JSON cannot encode.
        ValueError: a circular reference.
    """
    return json.dumps(
        value, sort_keys=config.get("JSON_SORT_KEYS", True), separators=(",", ":"), default=json_default
    )


#: ``Response.default_mimetype`` as last seen, and its Content-Type.
_text_type = ("", "")


def _remember_text_type() -> tuple[str, str]:
    global _text_type
    mimetype = Response.default_mimetype
    _text_type = (mimetype, _content_type_for(mimetype))
    return _text_type


def encode_plain(rv: Any, config: Mapping[str, Any]) -> tuple[bytes, str] | None:
    """The body and Content-Type of a view's ``str``, ``bytes``, ``dict`` or ``list``.

    A str or bytes gets ``Response.default_mimetype``, read per call as
    Flask reads it per response.

    Returns:
        ``(body, content_type)``, or None when a dict or list cannot be
        encoded as JSON (``make_response`` then raises the error).
    """
    kind = type(rv)
    if kind is str or kind is bytes:
        # PERF: an identity check, not the cached _content_type_for() call
        # (about 600 instructions less per request; RESULTS.md).
        text_type = _text_type
        if Response.default_mimetype is not text_type[0]:
            text_type = _remember_text_type()
        return (rv.encode("utf-8") if kind is str else rv), text_type[1]
    try:
        text = json_text(rv, config)
    except (TypeError, ValueError):
        return None
    return text.encode("utf-8"), JSON_TYPE


def end_request(ctx: RequestContext, body: RequestBody | DirectBody) -> None:
    """End the request once the server closed its body.

    The request context is popped (teardown hooks, which get the request's
    unhandled exception, ``ctx.error``), the finished callbacks run, upload
    files are closed and ``response_closed`` is sent with the body's
    response, each even if an earlier step raised.
    """
    ctx.handed_off = False  # hooks below may push contexts of their own
    request = ctx.request
    # The test client's ``with client:`` keeps the last request's context:
    # it is told about the context here and pushes it again once closed.
    environ = request.environ
    if "sluice.preserve_context" in environ:  # PERF: an operator, not a method call
        environ["sluice.preserve_context"](ctx)
    try:
        ctx.pop(ctx.error)
    finally:
        # The teardown had the error; dropping it breaks the cycle
        # context -> exception -> traceback -> frames -> context.
        if ctx.error is not None:
            ctx.error = None
        try:
            for callback in request.finished_callbacks:
                callback(request)
        finally:
            # PERF: Request.close() only closes uploads; no call when there are
            # none, unless the app's request class overrides it.
            if request._form_data is not None or ctx.app._request_close:
                request.close()
            if _response_closed.receivers:
                _response_closed.send(ctx.app, response=body.closed_response())


class RequestBody(ClosingIterator):
    """The iterable handed to the server; ``close()`` also ends the request.

    The body's own closing (its ``close()``, the response's
    ``call_on_close`` callbacks) comes first, then :func:`end_request`. An
    exception raised while a streamed body is produced is kept as the
    request's error, so teardown hooks receive it.
    """

    __slots__ = ("_state",)

    _state: tuple[RequestContext, Response]

    def __iter__(self) -> Iterator[bytes]:
        chunks = self._chunks
        if type(chunks) is list or type(chunks) is tuple:
            return iter(chunks)
        return self._recording(iter(chunks))

    def _recording(self, chunks: Iterator[bytes]) -> Iterator[bytes]:
        try:
            yield from chunks
        except Exception as exc:
            self._state[0].error = exc
            raise

    def close(self) -> None:
        if self._closed:
            return
        ctx = self._state[0]
        ctx.handed_off = False  # call_on_close callbacks may push contexts of their own
        try:
            if self._callbacks or type(self._body) is not list:
                ClosingIterator.close(self)
            else:
                self._closed = True  # PERF: nothing to close but the request
        finally:
            end_request(ctx, self)

    def closed_response(self) -> Response:
        """The response that was sent."""
        return self._state[1]


class DirectBody:
    """The body of a response that wsgi_app answered without a Response: one chunk, none for HEAD.

    Not a list: some servers (granian) never call ``close()`` on a list.
    ``close()`` ends the request (:func:`end_request`).
    """

    __slots__ = ("_chunks", "_ctx", "_content_type", "_data")

    # Set by wsgi_app (PERF: no __init__ call).
    _chunks: tuple[bytes, ...]  # (data,), or () for HEAD
    _ctx: RequestContext | None  # None once closed
    _content_type: str
    _data: bytes

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._chunks)

    def close(self) -> None:
        ctx = self._ctx
        if ctx is not None:
            self._ctx = None
            end_request(ctx, self)

    def closed_response(self) -> Response:
        """A Response equal to what was sent, for ``response_closed`` receivers."""
        return Response(self._data, content_type=self._content_type)
