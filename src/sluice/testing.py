"""TestClient: call a WSGI app through the full WSGI interface, no sockets.

Design: each call builds a fresh PEP 3333 ``environ`` (the same keys the
server sets), calls the app with a recording ``start_response``, consumes
the iterable and calls its ``close()``, exactly as a server does, so hooks
that run at close time run before the call returns. The client keeps a
cookie jar across calls (``Set-Cookie`` in, ``Cookie`` out, with expiry and
path), can follow redirects, and works with any WSGI app, not only sluice's.
The API follows Flask 3's test client (Werkzeug's ``Client``): inside
``with client:`` the last request's context stays active after the call
(sluice's app reports it through ``environ["sluice.preserve_context"]``,
and the client pushes it again once the body was closed), and
``session_transaction()`` edits the session the next request sends.
Redirects are resolved against the request URL per RFC 3986 §5 and
followed only into the app (the same host), as Werkzeug does.
"""

from __future__ import annotations

import io
import json as jsonlib
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Mapping
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from dataclasses import replace
from datetime import datetime
from datetime import timedelta
from datetime import timezone
from types import TracebackType
from typing import TYPE_CHECKING
from typing import Any
from typing import Literal
from typing import Self
from typing import cast
from typing import overload
from urllib.parse import unquote_to_bytes
from urllib.parse import urldefrag
from urllib.parse import urlencode
from urllib.parse import urljoin
from urllib.parse import urlsplit

from sluice.cookiejar import Cookie
from sluice.cookiejar import CookieJar
from sluice.cookiejar import host_name
from sluice.cookiejar import parse_set_cookie
from sluice.sessions import NullSession
from sluice.sessions import Session
from sluice.wrappers.datastructures import Headers
from sluice.wrappers.http import dump_cookie
from sluice.wrappers.request import Request
from sluice.wrappers.response import call_wsgi_app

if TYPE_CHECKING:
    from sluice.ctx import RequestContext

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
#: What ``headers=`` accepts: a mapping, ``(name, value)`` pairs or Headers.
HeadersArg = Mapping[str, str] | Iterable[tuple[str, str]] | Headers
#: What ``query_string=`` accepts: the encoded string, or a mapping or pairs
#: to encode (a list value repeats the key).
QueryArg = str | Mapping[str, Any] | Sequence[tuple[str, Any]]

_MAX_REDIRECTS = 20
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# The request headers that describe a body; a redirect that drops the body
# drops them too.
_BODY_HEADERS = frozenset({"content-type", "content-length", "transfer-encoding"})


class TestResponse:
    """What a client observed: status, headers and the body bytes (as Werkzeug's ``TestResponse``).

    Args:
        status: the status line value, e.g. ``"200 OK"``.
        headers: the response headers as sent.
        data: the whole body.
        request: the request that got this response.
        history: the redirect responses before this one (``follow_redirects``).

    Attributes:
        status: the status line value, e.g. ``"200 OK"``.
        status_code: the status as an int.
        headers: the response headers as :class:`~sluice.wrappers.datastructures.Headers`
            (case-insensitive ``headers["Content-Type"]``, ``get``, ``getlist``;
            iterating gives the ``(name, value)`` pairs in the order sent).
        data: the whole body.
        request: the request that got this response (its body readable
            again), or None when the response was built by hand.
        history: the responses that redirected to this one, oldest first;
            empty unless redirects were followed.
    """

    __test__ = False  # not a pytest test class

    def __init__(
        self,
        status: str,
        headers: list[tuple[str, str]],
        data: bytes,
        request: Request | None = None,
        history: tuple[TestResponse, ...] = (),
    ) -> None:
        self.status = status
        self.status_code = int(status[:3])
        self.headers = Headers.from_checked(list(headers))
        self.data = data
        self.request = request
        self.history = history

    def close(self) -> None:
        """Nothing to release: the client read the whole body and closed the app's iterable already."""

    def __enter__(self) -> TestResponse:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def header(self, name: str, default: str | None = None) -> str | None:
        """Return the first value of header ``name`` (case-insensitive)."""
        return self.headers.get(name, default)

    def header_list(self, name: str) -> list[str]:
        """Return every value of header ``name``."""
        return self.headers.getlist(name)

    @overload
    def get_data(self, as_text: Literal[False] = False) -> bytes: ...
    @overload
    def get_data(self, as_text: Literal[True]) -> str: ...
    def get_data(self, as_text: bool = False) -> bytes | str:
        """Return the body: bytes, or with ``as_text`` the text decoded as UTF-8.

        Raises:
            UnicodeDecodeError: ``as_text`` and the body is not UTF-8.
        """
        return self.data.decode("utf-8") if as_text else self.data

    @property
    def text(self) -> str:
        """The body decoded as UTF-8 (``UnicodeDecodeError`` when it is not)."""
        return self.data.decode("utf-8")

    @property
    def content_type(self) -> str | None:
        """The ``Content-Type`` header with its parameters, or None."""
        return self.headers.get("Content-Type")

    @property
    def mimetype(self) -> str | None:
        """The content type without parameters (``"text/html"``), or None."""
        content_type = self.headers.get("Content-Type")
        return content_type.partition(";")[0].strip() if content_type else None

    @property
    def is_json(self) -> bool:
        """True when the mimetype is ``application/json`` or ``application/*+json``."""
        mimetype = self.mimetype
        return mimetype is not None and (
            mimetype == "application/json" or (mimetype.startswith("application/") and mimetype.endswith("+json"))
        )

    @property
    def location(self) -> str | None:
        """The ``Location`` header as the app sent it (a relative URL stays relative)."""
        return self.headers.get("Location")

    @property
    def json(self) -> Any:
        """The body parsed as JSON, or None when the mimetype is not JSON (see :meth:`get_json`).

        Raises:
            ValueError: the mimetype says JSON but the body is not.
        """
        return self.get_json()

    def get_json(self, force: bool = False, silent: bool = False) -> Any:
        """Parse the body as JSON, as Werkzeug's ``Response.get_json`` does.

        Args:
            force: parse whatever the mimetype (else a non-JSON mimetype,
                see :attr:`is_json`, gives None).
            silent: return None instead of raising when the body is not JSON.

        Raises:
            ValueError: the body is not JSON (and not ``silent``).
        """
        if not (force or self.is_json):
            return None
        try:
            return jsonlib.loads(self.data)
        except ValueError:
            if not silent:
                raise
            return None

    def __repr__(self) -> str:
        return f"<TestResponse {self.status} {len(self.data)} bytes>"


@dataclass(frozen=True)
class _Target:
    """One request to send, encoded: a redirect is sent as a changed copy."""

    method: str
    scheme: str
    host: str  # the Host header: name and optional port
    script_root: str  # SCRIPT_NAME, no trailing slash
    path: str  # PATH_INFO as in the URL (percent-encoded or not)
    query: str
    headers: tuple[tuple[str, str], ...]
    body: bytes | None  # None: no body and no Content-Length
    content_type: str | None
    environ_base: Mapping[str, Any]
    environ_overrides: Mapping[str, Any]

    @property
    def url(self) -> str:
        """The request URL, the base that a relative ``Location`` resolves against."""
        query = f"?{self.query}" if self.query else ""
        return f"{self.scheme}://{self.host}{self.script_root}{self.path}{query}"


class TestClient:
    """Send requests to a WSGI app in process.

    Use ``with client:`` to keep the last request's context active after
    each call (sluice apps only), so the test can read ``request``,
    ``session`` and ``g``; the block's end pops it.

    Args:
        app: any WSGI application.
        base_url: scheme and host the requests appear to go to, and an
            optional path: the app's mount point (``SCRIPT_NAME``).
        environ_base: environ keys for every request, which the keys the
            client builds (and ``headers=``) override.
        allow_subdomain_redirects: follow redirects to subdomains of the
            request's host (always: to the same host).
    """

    __test__ = False  # not a pytest test class

    def __init__(
        self,
        app: WSGIApp,
        base_url: str = "http://localhost",
        environ_base: Mapping[str, Any] | None = None,
        allow_subdomain_redirects: bool = False,
    ) -> None:
        self.app = app
        self.scheme, self.host, self.script_root = _split_base_url(base_url)
        self.environ_base = dict(environ_base or {})
        self.allow_subdomain_redirects = allow_subdomain_redirects
        self._jar = CookieJar()
        self._preserving = False
        self._preserved: list[RequestContext] = []

    # -- with client: keep the last request's context ------------------------------

    def __enter__(self) -> Self:
        """Keep each request's context active after the call, until the next request or the block's end.

        Raises:
            RuntimeError: the client is already inside a ``with`` block.
        """
        if self._preserving:
            raise RuntimeError(
                "Cannot nest client invocations: this TestClient is already in a 'with client:' block; "
                "use that block, or a second client"
            )
        self._preserving = True
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._preserving = False
        self._pop_preserved()

    def _pop_preserved(self) -> None:
        """Pop the contexts kept from the previous request (their teardown already ran)."""
        while self._preserved:
            self._preserved.pop().pop(None)

    # -- cookies ---------------------------------------------------------------

    def set_cookie(
        self,
        key: str,
        value: str = "",
        *,
        domain: str = "localhost",
        origin_only: bool = True,
        path: str = "/",
        max_age: int | timedelta | None = None,
        expires: datetime | int | float | str | None = None,
        secure: bool = False,
        httponly: bool = False,
        samesite: str | None = None,
    ) -> None:
        """Put a cookie in the jar, as if a response from ``domain`` had set it (Werkzeug 3's signature).

        A ``max_age`` of 0 or an ``expires`` in the past removes it instead.

        Args:
            key: the cookie name.
            value: the value (the app reads it back unchanged).
            domain: the host the cookie belongs to.
            origin_only: send it to ``domain`` only; False also sends it to
                subdomains.
            path: the path it is sent for (and below).
            max_age: lifetime in seconds (or a timedelta).
            expires: expiry as a datetime, a Unix timestamp or an HTTP-date.
            secure: the ``Secure`` flag (recorded, not enforced).
            httponly: the ``HttpOnly`` flag.
            samesite: ``"Strict"``, ``"Lax"`` or ``"None"``.

        Raises:
            ValueError: the name or an attribute is not valid in ``Set-Cookie``
                (see :func:`~sluice.wrappers.http.dump_cookie`).
        """
        header = dump_cookie(key, value, max_age, expires, path, domain, secure, httponly, samesite)
        cookie = parse_set_cookie(header, host_name(domain), path, datetime.now(timezone.utc))
        if cookie is not None:
            self._jar.set(replace(cookie, origin_only=origin_only))

    def get_cookie(self, key: str, domain: str = "localhost", path: str = "/") -> Cookie | None:
        """Return the cookie named ``key`` stored for ``domain`` and ``path``, or None (also once expired).

        ``.value`` is the value as sent (quoted when it needed quotes) and
        ``.decoded_value`` the value the app reads, as in Werkzeug 3.
        """
        return self._jar.get(key, domain, path)

    def delete_cookie(self, key: str, *, domain: str = "localhost", path: str = "/") -> None:
        """Remove the cookie named ``key`` for ``domain`` and ``path`` from the jar."""
        self._jar.delete(key, domain, path)

    @contextmanager
    def session_transaction(self, path: str = "/", **kwargs: Any) -> Iterator[Session]:
        """Open the session the next request would send, and store it in the jar at the block's end.

        ::

            with client.session_transaction() as session:
                session["user_id"] = 42
            client.get("/profile")  # sees user_id 42

        The session is opened through ``app.session_interface`` for a
        request built from the client's cookies, and saved into the cookie
        jar when the block ends without an exception (a session changed
        nowhere writes nothing). The client's app must be the sluice
        :class:`~sluice.App` itself, not a WSGI wrapper around it.

        Args:
            path: the path of the request the session is opened for.
            kwargs: the other arguments of :meth:`build_environ`
                (``headers``, ``base_url``...).

        Raises:
            TypeError: the client's app is not a sluice App.
            RuntimeError: the app opened no session: it has no secret key,
                or its session interface returned None.
        """
        app = cast(Any, self.app)
        interface = getattr(app, "session_interface", None)
        if interface is None or not hasattr(app, "request_context"):
            raise TypeError(
                f"session_transaction() needs a sluice App with a session_interface, not {app!r}; "
                "make the client with app.test_client() or TestClient(app) on the App itself"
            )
        ctx = app.request_context(self.build_environ(path, **kwargs))
        with ctx:
            session = interface.open_session(app, ctx.request)
        if session is None or isinstance(session, NullSession):
            raise RuntimeError(
                "Session backend did not open a session. Set app.secret_key (config['SECRET_KEY']) "
                "for the default signed-cookie session, or check that the session interface's "
                "open_session() returns a session for this request"
            )
        yield session
        response = app.response_class()
        with ctx:
            interface.save_session(app, session, response)
        environ = ctx.request.environ
        self._jar.receive(
            response.headers.items(), environ["HTTP_HOST"], environ["SCRIPT_NAME"] + environ["PATH_INFO"]
        )

    # -- requests --------------------------------------------------------------

    def open(
        self,
        path: str = "/",
        method: str = "GET",
        *,
        query_string: QueryArg | None = None,
        headers: HeadersArg | None = None,
        data: bytes | str | Mapping[str, Any] | None = None,
        json: Any = None,
        content_type: str | None = None,
        follow_redirects: bool = False,
        base_url: str | None = None,
        environ_base: Mapping[str, Any] | None = None,
        environ_overrides: Mapping[str, Any] | None = None,
    ) -> TestResponse:
        """Send one request (and follow redirects if asked).

        Args:
            path: the path (relative to the base URL's path), optionally
                with ``?query``; or an absolute ``http(s)://`` URL, whose
                scheme and host replace the base URL's.
            method: the request method.
            query_string: a string, or a mapping or pairs to encode (a list
                value repeats the key).
            headers: request headers: a mapping, pairs or Headers.
            data: a body: bytes, str (UTF-8) or a mapping sent as a form
                (see :meth:`build_environ` for files).
            json: a value sent as an ``application/json`` body.
            content_type: the body's Content-Type (overrides the default).
            follow_redirects: follow 301/302/303/307/308 responses that have
                a ``Location``, resolved against the request URL (RFC 3986
                §5); 301/302/303 turn the request into a GET without a body
                (HEAD stays HEAD), 307/308 resend method and body.
            base_url: scheme, host and mount path for this request.
            environ_base: environ keys for this request, over the client's.
            environ_overrides: environ keys that replace the built ones.

        Returns:
            The final :class:`TestResponse`; ``history`` holds the redirects.

        Raises:
            ValueError: both ``data`` and ``json`` given, a query both in
                ``path`` and ``query_string``, or more than 20 redirects.
            RuntimeError: a redirect to another host (or to a subdomain,
                unless ``allow_subdomain_redirects``).
        """
        target = self._target(
            path, method, query_string, headers, data, json, content_type, base_url, environ_base, environ_overrides
        )
        response = self._send(target)
        history: list[TestResponse] = []
        while follow_redirects and response.status_code in _REDIRECT_STATUSES and response.location is not None:
            if len(history) >= _MAX_REDIRECTS:
                raise ValueError(f"more than {_MAX_REDIRECTS} redirects; last Location: {response.location}")
            history.append(response)
            target = self._redirect_target(target, response.status_code, response.location)
            response = self._send(target)
            response.history = tuple(history)
        return response

    def _redirect_target(self, target: _Target, status_code: int, location: str) -> _Target:
        """The request that follows a redirect from ``target`` to ``location``.

        Raises:
            RuntimeError: ``location`` is on another host (or a subdomain,
                unless ``allow_subdomain_redirects``).
        """
        # RFC 3986 §5.2: resolve against the request URL (dot segments
        # removed, "?q" keeps the path, "//host/x" keeps the scheme); the
        # fragment is not sent (§3.5).
        url = urldefrag(urljoin(target.url, location)).url
        parts = urlsplit(url)
        to_name = parts.hostname or ""
        from_name = urlsplit(target.url).hostname or ""
        if to_name != from_name:
            if not to_name.endswith("." + from_name):
                raise RuntimeError(
                    f"not following the redirect to {location!r} from {target.url}: the test client sends requests "
                    "only to the app on its own host; check response.location instead"
                )
            if not self.allow_subdomain_redirects:
                raise RuntimeError(
                    f"not following the redirect to subdomain {parts.netloc!r} from {target.url}: "
                    "pass allow_subdomain_redirects=True to TestClient to follow it"
                )
        path = parts.path
        script_root = target.script_root
        if script_root and (path == script_root or path.startswith(script_root + "/")):
            path = path[len(script_root) :]
        else:
            script_root = ""
        changes: dict[str, Any] = {
            "scheme": parts.scheme,
            "host": parts.netloc,
            "script_root": script_root,
            "path": path,
            "query": parts.query,
        }
        if status_code not in (307, 308):
            # RFC 9110 §15.4.2-4: user agents turn a redirected POST into a
            # GET; as Werkzeug, every method but HEAD becomes a GET.
            changes["method"] = "HEAD" if target.method == "HEAD" else "GET"
            changes["body"] = changes["content_type"] = None
            changes["headers"] = tuple(pair for pair in target.headers if pair[0].lower() not in _BODY_HEADERS)
        return replace(target, **changes)

    def _send(self, target: _Target) -> TestResponse:
        """Call the app with the environ of ``target``; inside ``with client:``, keep its context after."""
        environ = self._environ(target)
        self._pop_preserved()
        reported: list[RequestContext] = []
        if self._preserving:

            def preserve(ctx: RequestContext) -> None:
                # Called by the app while the request's contexts are still
                # active, right before the request context's last pop.
                ctx.preserve()
                reported.append(ctx)

            environ["sluice.preserve_context"] = preserve
        status, response_headers, body = call_wsgi_app(self.app, environ)
        # The body was closed, so the request ended and its teardown ran;
        # its context is pushed again for the test to inspect.
        for ctx in reported:
            ctx.push_preserved()
            self._preserved.append(ctx)
        self._jar.receive(response_headers, target.host, target.script_root + (target.path or "/"))
        request = Request({**environ, "wsgi.input": io.BytesIO(target.body or b"")})
        return TestResponse(status, response_headers, body, request)

    def _target(
        self,
        path: str,
        method: str,
        query_string: QueryArg | None,
        headers: HeadersArg | None,
        data: bytes | str | Mapping[str, Any] | None,
        json: Any,
        content_type: str | None,
        base_url: str | None,
        environ_base: Mapping[str, Any] | None,
        environ_overrides: Mapping[str, Any] | None,
    ) -> _Target:
        """Encode the arguments of one request.

        Raises:
            ValueError: both ``data`` and ``json``, or a query in ``path`` and ``query_string``.
            TypeError: a badly formed file in ``data``.
        """
        if data is not None and json is not None:
            raise ValueError("pass either data= or json=, not both")
        parts = urlsplit(path)
        if parts.scheme in ("http", "https"):
            # An absolute URL (as Flask's client takes it); "//x" stays a path.
            scheme, host, script_root = _split_base_url(f"{parts.scheme}://{parts.netloc}")
            raw_path, query = parts.path, parts.query
        else:
            scheme, host, script_root = _split_base_url(base_url) if base_url else (self.scheme, self.host, self.script_root)
            raw_path, _, query = path.partition("?")
        if query_string is not None:
            if query:
                raise ValueError(f"the query is given twice: in path {path!r} and as query_string=")
            query = query_string if isinstance(query_string, str) else urlencode(query_string, doseq=True)
        body: bytes | None = None
        if json is not None:
            body = jsonlib.dumps(json).encode()
            content_type = content_type or "application/json"
        elif isinstance(data, Mapping):
            multipart = _encode_multipart(data, content_type)
            if multipart is not None:
                body, content_type = multipart
            else:
                body = urlencode(data, doseq=True).encode()
                content_type = content_type or "application/x-www-form-urlencoded"
        elif isinstance(data, str):
            body = data.encode()
        elif data is not None:
            body = bytes(data)
        pairs = headers.items() if isinstance(headers, (Mapping, Headers)) else (headers or ())
        return _Target(
            method=method.upper(),
            scheme=scheme,
            host=host,
            script_root=script_root,
            path=raw_path,
            query=query,
            headers=tuple(pairs),
            body=body,
            content_type=content_type,
            environ_base={**self.environ_base, **(environ_base or {})},
            environ_overrides=dict(environ_overrides or {}),
        )

    def _environ(self, target: _Target) -> dict[str, Any]:
        """The environ a server would build for ``target``."""
        body = target.body
        server = urlsplit(f"//{target.host}")
        environ: dict[str, Any] = {"REMOTE_ADDR": "127.0.0.1", **target.environ_base}
        environ.update(
            {
                "REQUEST_METHOD": target.method,
                "SCRIPT_NAME": _wsgi_path(target.script_root),
                "PATH_INFO": _wsgi_path(target.path),
                "QUERY_STRING": target.query,
                "SERVER_NAME": server.hostname or "localhost",
                "SERVER_PORT": str(server.port or (443 if target.scheme == "https" else 80)),
                "SERVER_PROTOCOL": "HTTP/1.1",
                "HTTP_HOST": target.host,
                "wsgi.version": (1, 0),
                "wsgi.url_scheme": target.scheme,
                "wsgi.input": io.BytesIO(body or b""),
                "wsgi.errors": io.StringIO(),
                "wsgi.multithread": False,
                "wsgi.multiprocess": False,
                "wsgi.run_once": False,
                "wsgi.input_terminated": True,
            }
        )
        if body is not None:
            environ["CONTENT_LENGTH"] = str(len(body))
        if target.content_type:
            environ["CONTENT_TYPE"] = target.content_type
        fields: dict[str, str] = {}
        for name, value in target.headers:
            key = name.upper().replace("-", "_")
            if key not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                key = "HTTP_" + key
            # Repeated fields join with a comma (RFC 9110 §5.3); Host and the
            # body's type and length replace.
            if key in fields and key not in ("HTTP_HOST", "CONTENT_TYPE", "CONTENT_LENGTH"):
                fields[key] = f"{fields[key]}, {value}"
            else:
                fields[key] = value
        environ.update(fields)
        if "HTTP_COOKIE" not in environ:
            cookie = self._jar.header(target.host, target.script_root + (target.path or "/"))
            if cookie:
                environ["HTTP_COOKIE"] = cookie
        environ.update(target.environ_overrides)
        return environ

    def build_environ(
        self,
        path: str = "/",
        method: str = "GET",
        query_string: QueryArg | None = None,
        headers: HeadersArg | None = None,
        data: bytes | str | Mapping[str, Any] | None = None,
        json: Any = None,
        content_type: str | None = None,
        *,
        base_url: str | None = None,
        environ_base: Mapping[str, Any] | None = None,
        environ_overrides: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Return the environ a server would build for this request (arguments as :meth:`open`).

        A ``data`` mapping is sent as ``application/x-www-form-urlencoded``,
        or as ``multipart/form-data`` when a value is a file or when
        ``content_type`` says ``multipart/form-data``, as Werkzeug's test
        client does. A file is an object with ``read`` (its ``name`` gives
        the filename, else the filename is empty), or a tuple ``(file,
        filename)`` or ``(file, filename, content_type)`` whose file may also
        be bytes; a list of them sends several files in one field. Without a
        content type, one is guessed from the filename.

        The cookie jar's cookies for the path go in ``Cookie`` unless
        ``headers`` or ``environ_base`` give one.

        Raises:
            ValueError: both ``data`` and ``json``, or a query in ``path`` and ``query_string``.
            TypeError: a file tuple is not ``(file, filename[, content_type])``.
        """
        return self._environ(
            self._target(
                path, method, query_string, headers, data, json, content_type, base_url, environ_base, environ_overrides
            )
        )

    def get(self, path: str = "/", **kwargs: Any) -> TestResponse:
        """Send a GET request (see :meth:`open`)."""
        return self.open(path, "GET", **kwargs)

    def post(self, path: str = "/", **kwargs: Any) -> TestResponse:
        """Send a POST request (see :meth:`open`)."""
        return self.open(path, "POST", **kwargs)

    def put(self, path: str = "/", **kwargs: Any) -> TestResponse:
        """Send a PUT request (see :meth:`open`)."""
        return self.open(path, "PUT", **kwargs)

    def patch(self, path: str = "/", **kwargs: Any) -> TestResponse:
        """Send a PATCH request (see :meth:`open`)."""
        return self.open(path, "PATCH", **kwargs)

    def delete(self, path: str = "/", **kwargs: Any) -> TestResponse:
        """Send a DELETE request (see :meth:`open`)."""
        return self.open(path, "DELETE", **kwargs)

    def head(self, path: str = "/", **kwargs: Any) -> TestResponse:
        """Send a HEAD request (see :meth:`open`)."""
        return self.open(path, "HEAD", **kwargs)

    def options(self, path: str = "/", **kwargs: Any) -> TestResponse:
        """Send an OPTIONS request (see :meth:`open`)."""
        return self.open(path, "OPTIONS", **kwargs)


def _split_base_url(base_url: str) -> tuple[str, str, str]:
    """``(scheme, host, script root)`` of a base URL such as ``https://example.com:8443/app/``."""
    parts = urlsplit(base_url)
    return parts.scheme or "http", parts.netloc or "localhost", parts.path.rstrip("/")


def _wsgi_path(path: str) -> str:
    """``SCRIPT_NAME``/``PATH_INFO`` for a URL path: percent-decoded bytes as latin-1 (PEP 3333).

    A character outside ASCII (an IRI, RFC 3987) counts as its UTF-8
    bytes, as a browser sends it: ``"/café"`` and ``"/caf%C3%A9"`` are one path.
    """
    return unquote_to_bytes(path).decode("latin-1")


def _is_file_value(value: object) -> bool:
    return isinstance(value, tuple) or hasattr(value, "read")


def _encode_multipart(data: Mapping[str, Any], content_type: str | None) -> tuple[bytes, str] | None:
    """Encode a form with files as ``multipart/form-data`` (RFC 7578); None when it has no file.

    Field values are sent as UTF-8 text (bytes as they are); a file's bytes
    are read from its object (or given as bytes), its filename is the
    tuple's or the object's ``name``, and its type the tuple's or one
    guessed from the filename.

    Raises:
        TypeError: a file tuple is not ``(file, filename[, content_type])``.
    """
    # Imported here: only multipart test requests need them.
    import mimetypes
    import os
    import secrets

    items = [(key, value) for key, values in data.items() for value in (values if isinstance(values, list) else [values])]
    is_multipart = content_type is not None and content_type.split(";")[0].strip().lower() == "multipart/form-data"
    if not is_multipart and not any(_is_file_value(value) for _, value in items):
        return None

    def quote(text: str) -> str:
        # The HTML form encoding of a name or filename inside quotes.
        return text.replace("\r", "%0D").replace("\n", "%0A").replace('"', "%22")

    parts: list[tuple[bytes, bytes]] = []  # (header block, content)
    for key, value in items:
        if not _is_file_value(value):
            field = bytes(value) if isinstance(value, (bytes, bytearray)) else str(value).encode()
            parts.append((f'Content-Disposition: form-data; name="{quote(key)}"'.encode(), field))
            continue
        if isinstance(value, tuple):
            if not 1 <= len(value) <= 3 or not (hasattr(value[0], "read") or isinstance(value[0], (bytes, bytearray))):
                raise TypeError(
                    f"data[{key!r}]: give a file as (file, filename) or (file, filename, content_type), "
                    f"the file an object with read() or bytes; got {value!r}"
                )
            file, filename, file_type = (*value, None, None)[:3]
        else:
            file, filename, file_type = value, None, None
        if filename is None:
            filename = os.path.basename(str(getattr(file, "name", "") or ""))
        if file_type is None:
            file_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"
        raw = file if isinstance(file, (bytes, bytearray)) else file.read()
        content: bytes = raw.encode() if isinstance(raw, str) else bytes(raw)
        file_head = f'Content-Disposition: form-data; name="{quote(key)}"; filename="{quote(filename)}"\r\nContent-Type: {file_type}'
        parts.append((file_head.encode(), content))
    for _ in range(10):
        boundary = "----sluice-test-" + secrets.token_hex(16)
        delimiter = b"\r\n--" + boundary.encode()
        if not any(delimiter in body or body.startswith(delimiter[2:]) for _, body in parts):
            break
    out = bytearray()
    for part_head, body in parts:
        out += b"--" + boundary.encode() + b"\r\n" + part_head + b"\r\n\r\n" + body + b"\r\n"
    out += b"--" + boundary.encode() + b"--\r\n"
    return bytes(out), f"multipart/form-data; boundary={boundary}"
