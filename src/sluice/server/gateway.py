"""PEP 3333 gateway: one request through the app, from its event to the bytes of its answer.

Design: :func:`handle_request` runs one WSGI call on a pool thread, on a
connection that thread owns. It builds ``environ`` (:mod:`sluice.server.wsgi`)
with a ``wsgi.input`` (:mod:`sluice.server.input`), calls the app, and hands
its answer to an :class:`~sluice.server.response.Exchange`, which frames and
sends it through the worker's transport (list bodies with their length,
files with ``sendfile``). The iterable's ``close()`` runs exactly once,
whatever happened; an app error before the head becomes a 500. The result
says whether the connection may carry another request.

The gateway layer (these four modules) imports nothing of the worker: no
sockets, loop or processes (tests/test_layering.py).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from threading import get_ident
from typing import IO

from sluice import requestid
from sluice.requestid import serving
from sluice.requestid import take_id
from sluice.errors import DeadlineExceeded
from sluice.errors import LocalProtocolError
from sluice.errors import RemoteProtocolError
from sluice.server.input import EMPTY_INPUT
from sluice.server.input import EmptyInput
from sluice.server.input import InputStream
from sluice.server.input import SpooledInput
from sluice.server.protocol import Connection
from sluice.server.protocol import Request
from sluice.server.protocol.writer import format_error
from sluice.server.response import JOIN_LIMIT
from sluice.server.response import Exchange
from sluice.server.response import ResponseError
from sluice.server.response import Transport
from sluice.server.response import clock
from sluice.server.response import total_length
from sluice.server.wsgi import FileWrapper
from sluice.server.wsgi import ServerInfo
from sluice.server.wsgi import WSGIApp
from sluice.server.wsgi import make_environ

error_log = logging.getLogger("sluice.error")

# A body the app left unread is drained up to this size to keep the connection.
MAX_DRAIN = 1024 * 1024


class Outcome:
    """What happened to one exchange, for the worker and the access log.

    Attributes:
        keep_alive: the connection may carry another request.
        status: the status code sent (0 if none was sent).
        bytes_sent: body bytes sent.
        body_complete: the whole request body was received.
        request_id: the request's id (:mod:`sluice.requestid`).
    """

    __slots__ = ("keep_alive", "status", "bytes_sent", "body_complete", "request_id")

    def __init__(
        self, keep_alive: bool, status: int, bytes_sent: int, body_complete: bool = True, request_id: str = ""
    ) -> None:
        self.keep_alive = keep_alive
        self.status = status
        self.bytes_sent = bytes_sent
        self.body_complete = body_complete
        self.request_id = request_id


def handle_request(
    app: WSGIApp,
    conn: Connection,
    request: Request,
    transport: Transport,
    info: ServerInfo,
    server_addr: tuple[str, int] | None,
    client_addr: tuple[str, int] | None,
    keep_alive: bool,
    body_done: bool,
    initial_body: bytes = b"",
    body_file: IO[bytes] | None = None,
    trusted: bool = False,
) -> Outcome:
    """Run the WSGI app for ``request`` and send its response.

    Args:
        app: the WSGI application.
        conn: the protocol connection (for the body).
        request: the request head.
        transport: the socket side.
        info: per-server values.
        server_addr: local address, ``None`` for unix sockets.
        client_addr: peer address, ``None`` for unix sockets.
        keep_alive: the server allows the connection to persist.
        body_done: the whole body was already received.
        initial_body: body bytes the loop received before the call.
        body_file: the whole body, received by the loop into a temporary
            file (then ``body_done`` is true and ``initial_body`` empty).
        trusted: the peer is a trusted proxy: its ``X-Request-ID`` or
            ``traceparent`` may name the request's id.

    Returns:
        The :class:`Outcome`.

    Raises:
        OSError: the client went away or a send timed out (the connection
            must be closed; ``close()`` of the iterable was already called).
        DeadlineExceeded: the worker gave up on the request (likewise).
    """
    stream: InputStream | SpooledInput | EmptyInput
    if body_file is not None:
        stream = SpooledInput(body_file)
    elif request.chunked or request.content_length:
        stream = InputStream(conn, transport, request.expect_continue, body_done, initial_body)
    else:
        stream = EMPTY_INPUT
    environ = make_environ(request, stream, info, server_addr, client_addr)
    if trusted and ("HTTP_X_REQUEST_ID" in environ or "HTTP_TRACEPARENT" in environ):
        request_id = requestid.choose(environ.get("HTTP_X_REQUEST_ID"), environ.get("HTTP_TRACEPARENT"))
    else:
        # PERF: requestid.new_id() inline: one frame less per request.
        try:
            request_id = take_id()
        except IndexError:
            request_id = requestid.make_batch()
    environ["sluice.request_id"] = request_id
    # Log records emitted on this thread until the exchange ends carry the id.
    thread = get_ident()
    serving[thread] = request_id
    try:
        exchange = Exchange(request, transport, info, keep_alive and request.keep_alive, stream, request_id)
        transport.exchange = exchange
        result: Iterable[bytes] | None = None
        try:
            result = app(environ, exchange.start_response)
            if exchange.status is None and type(result) in (list, tuple):
                raise LocalProtocolError("the app returned without calling start_response()")
            result_iter: Iterable[bytes] = result
            if (
                (type(result) is list or type(result) is tuple)
                and exchange.status is not None
                and not exchange.headers_sent
            ):
                # PERF: a buffered body goes out with its head in one write, its
                # length known (benchmarks/bench_hotpath.py). A large one is
                # never joined (copied) to its head: its known length frames it
                # and each item is sent as it is.
                total = None
                if len(result) == 1:
                    body = result[0]
                else:
                    total = total_length(result)  # raises for an item that is not bytes
                    body = b"".join(result) if len(result) <= 16 and total <= JOIN_LIMIT else None
                if type(body) is not bytes or not exchange.send_whole(body):
                    exchange.known_length = total if total is not None else total_length(result)
                    exchange.hold = True
                else:
                    if stream.is_complete:
                        return Outcome(exchange.keep_alive, exchange.code, exchange.bytes_sent, True, request_id)
                    result_iter = ()  # sent; the body left unread is dealt with below
            elif isinstance(result, FileWrapper) and exchange.status is not None:
                if exchange.send_file(result):
                    result_iter = ()
            for chunk in result_iter:
                if exchange.status is None:
                    raise LocalProtocolError("the app yielded body bytes before calling start_response()")
                exchange.send_body(chunk)
            if exchange.status is None:
                raise LocalProtocolError("the app returned without calling start_response()")
            exchange.finish()
        except (OSError, DeadlineExceeded):
            _close(result, request)
            raise
        except ResponseError:
            _close(result, request)
            return Outcome(False, _code(exchange), exchange.bytes_sent, stream.is_complete, request_id)
        except RemoteProtocolError as exc:
            # The body the app was reading was malformed: answer if we still can.
            _close(result, request)
            error_log.info("%s %s: bad request body: %s", request.method, request.target, exc)
            if not exchange.headers_sent:
                _send_error(transport, exc.status_hint, str(exc), request_id)
                return Outcome(False, exc.status_hint, 0, False, request_id)
            return Outcome(False, _code(exchange), exchange.bytes_sent, stream.is_complete, request_id)
        except Exception:
            _close(result, request)
            error_log.exception("error while handling %s %s", request.method, request.target)
            if not exchange.headers_sent:
                _send_error(transport, 500, "", request_id)
                return Outcome(False, 500, 0, stream.is_complete, request_id)
            return Outcome(False, _code(exchange), exchange.bytes_sent, stream.is_complete, request_id)
        _close(result, request)
        keep = exchange.keep_alive
        if keep and not stream.is_complete:
            if stream.continue_pending:
                # The client still holds the body back; it may send it later.
                keep = False
            else:
                try:
                    keep = stream.drain(MAX_DRAIN)
                except RemoteProtocolError:
                    keep = False
        return Outcome(keep, _code(exchange), exchange.bytes_sent, stream.is_complete, request_id)

    finally:
        serving[thread] = None


def _code(exchange: Exchange) -> int:
    """The status code that went out, 0 if no head was sent."""
    return exchange.code if exchange.headers_sent else 0


def _send_error(transport: Transport, code: int, message: str, request_id: str) -> None:
    try:
        transport.send(format_error(code, message, clock.date(), request_id=request_id))
    except OSError:
        pass


def _close(result: object, request: Request) -> None:
    if type(result) is list:
        return
    close = getattr(result, "close", None)
    if close is None:
        return
    try:
        close()
    except Exception:
        error_log.exception("error in close() of the response to %s %s", request.method, request.target)
