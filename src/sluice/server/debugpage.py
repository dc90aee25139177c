"""The development server's error pages: an unhandled exception, and an app that failed to load.

Design: ``sluice run`` wraps the app in :class:`DebugMiddleware`, and,
when the app's code cannot be imported, serves :class:`LoadErrorApp`
instead of it until the code is fixed. Both answer ``500``. The traceback
page (file, line, function and the source around each frame of every
exception in the chain; no console, nothing to execute) goes only to a
client on the loopback interface (``127.0.0.0/8``, ``::1``); any other
peer gets a plain 500, because a traceback shows code, paths and data. A
proxy on this machine makes every visitor look local: never put ``sluice
run`` behind one that is reachable from elsewhere. ``sluice serve`` never
uses this module.

An exception is turned into the page while nothing was sent: when the app
raises, or its body raises before its first non-empty chunk (the server
sends the head with that chunk, PEP 3333). Later, the exception goes on to
the server, which logs it and closes the connection. List bodies and
``wsgi.file_wrapper`` bodies pass through untouched (so files still go
out with ``sendfile``). Every exception turned into a page is logged to
the error log, as the server would have.
"""

from __future__ import annotations

import html
import linecache
import logging
import os
import sysconfig
import traceback
from collections.abc import Iterable
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sluice.server.wsgi import StartResponse
from sluice.server.wsgi import WSGIApp
from sluice.trust import TrustedProxies

log = logging.getLogger("sluice.error")

Environ = dict[str, Any]

_CONTEXT_LINES = 2
# Frames from these folders are not the app's: the standard library, installed packages, sluice.
_LIBRARY_PATHS = tuple(
    {path for name in ("stdlib", "purelib", "platlib") if (path := sysconfig.get_paths().get(name))}
    | {str(Path(__file__).resolve().parent.parent) + os.sep}
)


# The loopback networks, matched as --trusted-proxies entries are (v4-mapped included).
_LOOPBACK = TrustedProxies(("127.0.0.0/8", "::1/128"))


def from_loopback(environ: Environ) -> bool:
    """True when the request's peer is on the loopback interface (a unix-socket peer is not)."""
    return (environ.get("REMOTE_ADDR") or "") in _LOOPBACK


def _plain_500(start_response: StartResponse, exc_info: Any = None) -> list[bytes]:
    body = b"<!doctype html>\n<title>500 Internal Server Error</title>\n<h1>Internal Server Error</h1>\n"
    headers = [
        ("Content-Type", "text/html; charset=utf-8"),
        ("Content-Length", str(len(body))),
        ("Cache-Control", "no-store"),
    ]
    start_response("500 Internal Server Error", headers, exc_info)
    return [body]


def _page_500(start_response: StartResponse, page: str, exc_info: Any = None) -> list[bytes]:
    body = page.encode("utf-8", "replace")
    headers = [
        ("Content-Type", "text/html; charset=utf-8"),
        ("Content-Length", str(len(body))),
        ("Cache-Control", "no-store"),
        ("X-Content-Type-Options", "nosniff"),
    ]
    start_response("500 Internal Server Error", headers, exc_info)
    return [body]


# -- rendering -------------------------------------------------------------------------


def _is_library(filename: str) -> bool:
    return filename.startswith("<") or filename.startswith(_LIBRARY_PATHS)


def _source(filename: str, lineno: int | None) -> str:
    if not lineno:
        return ""
    rows = []
    for number in range(max(1, lineno - _CONTEXT_LINES), lineno + _CONTEXT_LINES + 1):
        text = linecache.getline(filename, number)
        if not text:
            continue
        mark = ' class="here"' if number == lineno else ""
        rows.append(f'<span{mark}><span class="n">{number:>5}</span> {html.escape(text.rstrip())}</span>')
    return "<pre>" + "\n".join(rows) + "</pre>" if rows else ""


def _chain(exc: BaseException) -> list[tuple[BaseException, str]]:
    """The exceptions to show, oldest first, each with how the next one relates to it."""
    seen: set[int] = set()
    chain: list[tuple[BaseException, str]] = []
    current: BaseException | None = exc
    note = ""
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        chain.append((current, note))
        if current.__cause__ is not None:
            note = "The above exception was the direct cause of the following exception:"
            current = current.__cause__
        elif current.__context__ is not None and not current.__suppress_context__:
            note = "During handling of the above exception, another exception occurred:"
            current = current.__context__
        else:
            current = None
    chain.reverse()
    # Each note belongs before the exception that follows the one it was read from.
    notes = [note for _, note in chain]
    return [(item, notes[i - 1] if i else "") for i, (item, _) in enumerate(chain)]


def _exception_html(exc: BaseException) -> str:
    parts = []
    frames = traceback.extract_tb(exc.__traceback__)
    parts.append('<ol class="frames">')
    for frame in frames:
        cls = "lib" if _is_library(frame.filename) else "app"
        where = f"{html.escape(frame.filename)}, line {frame.lineno}, in {html.escape(frame.name)}"
        parts.append(f'<li class="{cls}"><div class="where">{where}</div>{_source(frame.filename, frame.lineno)}</li>')
    if isinstance(exc, SyntaxError) and exc.filename:
        where = f"{html.escape(str(exc.filename))}, line {exc.lineno}"
        parts.append(f'<li class="app"><div class="where">{where}</div>{_source(str(exc.filename), exc.lineno)}</li>')
    parts.append("</ol>")
    name = html.escape(type(exc).__qualname__)
    message = html.escape(str(exc))
    return "".join(parts) + f'<p class="exc"><b>{name}</b>: {message}</p>'


def where(exc: BaseException) -> tuple[str, int] | None:
    """The file and line to blame: a syntax error's own, else the innermost frame of code (not importlib's)."""
    innermost = _chain(exc)[0][0]
    for candidate in (innermost, exc):
        if isinstance(candidate, SyntaxError) and candidate.filename and candidate.lineno:
            return str(candidate.filename), candidate.lineno
    frames = [f for f in traceback.extract_tb(innermost.__traceback__) if f.lineno and not f.filename.startswith("<")]
    # The innermost line of the app's own code; else (the error is all in libraries) the innermost line.
    for frame in reversed(frames):
        if not _is_library(frame.filename):
            return frame.filename, frame.lineno or 0
    return (frames[-1].filename, frames[-1].lineno or 0) if frames else None


_STYLE = """
body{font:15px/1.45 system-ui,sans-serif;margin:0;color:#222;background:#fafafa}
header{background:#8b1a1a;color:#fff;padding:1em 1.5em}
header h1{font-size:1.3em;margin:0 0 .3em}
header p{margin:0;opacity:.9}
main{padding:1em 1.5em}
.where{font-family:ui-monospace,monospace;font-size:.9em;margin:.8em 0 .2em}
.app .where{font-weight:bold}
.lib{opacity:.6}
pre{background:#fff;border:1px solid #ddd;padding:.4em .6em;margin:0;overflow-x:auto;font-size:.85em}
.here{background:#ffe3e3;display:inline-block;width:100%}
.n{color:#999}
.exc{font-family:ui-monospace,monospace;background:#fff3f3;border-left:4px solid #8b1a1a;padding:.5em .8em}
.note{font-style:italic;margin-top:1.5em}
textarea{width:100%;height:12em;font-family:ui-monospace,monospace;font-size:.8em}
footer{color:#666;font-size:.85em;padding:0 1.5em 1.5em}
"""


def render_page(title: str, subtitle: str, exc: BaseException) -> str:
    """The whole traceback page for ``exc`` (every exception of its chain), as HTML."""
    sections = []
    for item, note in _chain(exc):
        if note:
            sections.append(f'<p class="note">{html.escape(note)}</p>')
        sections.append(_exception_html(item))
    text = "".join(traceback.format_exception(exc))
    return (
        "<!doctype html>\n<html lang=en><head><meta charset=utf-8>"
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>"
        f"<header><h1>{html.escape(title)}</h1><p>{html.escape(subtitle)}</p></header>"
        f"<main><h2>Traceback <small>(most recent call last)</small></h2>{''.join(sections)}"
        f"<h2>As text</h2><textarea readonly>{html.escape(text)}</textarea></main>"
        "<footer>sluice run shows this page because it runs in debug mode and the request came from this "
        "machine. Other clients get a plain 500; sluice serve never shows it.</footer></body></html>\n"
    )


def _request_line(environ: Environ) -> str:
    path = (environ.get("SCRIPT_NAME") or "") + (environ.get("PATH_INFO") or "")
    query = environ.get("QUERY_STRING")
    path_text = path.encode("latin-1", "replace").decode("utf-8", "replace")
    return f"{environ.get('REQUEST_METHOD', '')} {path_text}{'?' + query if query else ''}"


# -- the middleware --------------------------------------------------------------------


class DebugMiddleware:
    """Answer an unhandled exception with the traceback page (loopback peers) or a plain 500.

    Args:
        app: the WSGI app (in debug mode, so that it lets its exceptions out).
    """

    def __init__(self, app: WSGIApp) -> None:
        self.app = app

    def __getattr__(self, name: str) -> Any:
        # The server asks the app about itself (e.g. streams_request_body).
        return getattr(self.app, name)

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        try:
            body = self.app(environ, start_response)
        except Exception as exc:
            return self.error_response(environ, start_response, exc)
        if isinstance(body, (list, tuple)):
            return body
        wrapper = environ.get("wsgi.file_wrapper")
        if isinstance(wrapper, type) and isinstance(body, wrapper):
            return body
        return _Guarded(self, body, environ, start_response)

    def error_response(self, environ: Environ, start_response: StartResponse, exc: BaseException) -> list[bytes]:
        """Log ``exc`` and answer it: the page to a loopback peer, else a plain 500."""
        request = _request_line(environ)
        log.error("Exception on %s", request, exc_info=exc)
        exc_info = (type(exc), exc, exc.__traceback__)
        if not from_loopback(environ):
            return _plain_500(start_response, exc_info)
        title = f"{type(exc).__qualname__}: {exc}"
        return _page_500(start_response, render_page(title, request, exc), exc_info)


class _Guarded:
    """A body that becomes the error page if it raises before its first non-empty chunk."""

    def __init__(self, owner: DebugMiddleware, body: Iterable[bytes], environ: Environ, start_response: StartResponse) -> None:
        self.owner = owner
        self.body = body
        self.environ = environ
        self.start_response = start_response

    def __iter__(self) -> Iterator[bytes]:
        sent = False
        try:
            for chunk in self.body:
                if chunk:
                    sent = True
                yield chunk
        except Exception as exc:
            if sent:
                raise
            self._close_body()
            yield from self.owner.error_response(self.environ, self.start_response, exc)

    def _close_body(self) -> None:
        close = getattr(self.body, "close", None)
        self.body = ()
        if close is not None:
            try:
                close()
            except Exception:
                log.exception("closing the failed response body raised")

    def close(self) -> None:
        close = getattr(self.body, "close", None)
        if close is not None:
            close()


class LoadErrorApp:
    """Stands in for an app whose code failed to load: every request gets the error as a 500 page.

    Args:
        exc: the loading error (its ``__cause__`` chain leads to the app's exception).
    """

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc
        self.location = where(exc)

    def summary(self) -> str:
        """One line: the exception and the file and line it points at."""
        innermost = _chain(self.exc)[0][0]
        text = f"{type(innermost).__qualname__}: {innermost}"
        if self.location is not None and not isinstance(innermost, SyntaxError):
            text += f" ({self.location[0]}, line {self.location[1]})"
        return text

    def __call__(self, environ: Environ, start_response: StartResponse) -> list[bytes]:
        if not from_loopback(environ):
            return _plain_500(start_response)
        subtitle = "The app could not be loaded; fix the code and save: the server reloads it."
        if self.location is not None:
            subtitle = f"{self.location[0]}, line {self.location[1]}. " + subtitle
        return _page_500(start_response, render_page(f"Cannot load the app: {self.summary()}", subtitle, self.exc))
