"""TestClient: call a WSGI app through the full WSGI interface, no sockets.

Design: each call builds a fresh PEP 3333 ``environ`` (the same keys the
server sets), calls the app with a recording ``start_response``, consumes
the iterable and calls its ``close()``, exactly as a server does, so hooks
that run at close time run before the call returns. The client keeps a
cookie jar across calls (``Set-Cookie`` in, ``Cookie`` out, with expiry and
path), can follow redirects, and works with any WSGI app, not only sluice's.
"""

from __future__ import annotations

import io
import json as jsonlib
import time
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlencode
from urllib.parse import urljoin
from urllib.parse import unquote
from urllib.parse import urlsplit

from sluice.wrappers.datastructures import Headers
from sluice.wrappers.response import call_wsgi_app

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

_MAX_REDIRECTS = 20


class TestResponse:
    """What a client observed: status, headers and the body bytes.

    Attributes:
        status: the status line value, e.g. ``"200 OK"``.
        status_code: the status as an int.
        headers: the response headers as :class:`~sluice.wrappers.datastructures.Headers`
            (case-insensitive ``headers["Content-Type"]``, ``getlist``; iterating
            gives the ``(name, value)`` pairs in the order sent).
        data: the whole body.
        history: earlier responses when redirects were followed.
    """

    __test__ = False  # not a pytest test class

    def __init__(self, status: str, headers: list[tuple[str, str]], data: bytes) -> None:
        self.status = status
        self.status_code = int(status[:3])
        self.headers = Headers.from_checked(list(headers))
        self.data = data
        self.history: list[TestResponse] = []

    def header(self, name: str, default: str | None = None) -> str | None:
        """Return the first value of header ``name`` (case-insensitive)."""
        return self.headers.get(name, default)

    def header_list(self, name: str) -> list[str]:
        """Return every value of header ``name``."""
        return self.headers.getlist(name)

    @property
    def text(self) -> str:
        """The body decoded as UTF-8 (with replacement characters)."""
        return self.data.decode("utf-8", "replace")

    @property
    def location(self) -> str | None:
        """The ``Location`` header."""
        return self.header("Location")

    def get_json(self) -> Any:
        """Parse the body as JSON.

        Raises:
            ValueError: the body is not JSON.
        """
        return jsonlib.loads(self.data)

    def __repr__(self) -> str:
        return f"<TestResponse {self.status} {len(self.data)} bytes>"


class _Cookie:
    __slots__ = ("name", "value", "domain", "path", "expires")

    def __init__(self, name: str, value: str, domain: str, path: str, expires: float | None) -> None:
        self.name = name
        self.value = value
        self.domain = domain
        self.path = path
        self.expires = expires


class TestClient:
    """Send requests to a WSGI app in process.

    Args:
        app: any WSGI application.
        base_url: scheme and host the requests appear to go to.
        environ_base: extra environ keys for every request.
    """

    __test__ = False  # not a pytest test class

    def __init__(
        self,
        app: WSGIApp,
        base_url: str = "http://localhost",
        environ_base: Mapping[str, Any] | None = None,
    ) -> None:
        self.app = app
        parts = urlsplit(base_url)
        self.scheme = parts.scheme or "http"
        self.host = parts.netloc or "localhost"
        self.environ_base = dict(environ_base or {})
        self._cookies: dict[tuple[str, str, str], _Cookie] = {}

    # -- cookies ---------------------------------------------------------------

    def set_cookie(self, name: str, value: str, domain: str = "localhost", path: str = "/") -> None:
        """Put a cookie in the jar."""
        self._cookies[(domain, path, name)] = _Cookie(name, value, domain, path, None)

    def get_cookie(self, name: str, domain: str = "localhost", path: str = "/") -> str | None:
        """Return a cookie's value from the jar, or None."""
        cookie = self._cookies.get((domain, path, name))
        return cookie.value if cookie else None

    def delete_cookie(self, name: str, domain: str = "localhost", path: str = "/") -> None:
        """Remove a cookie from the jar."""
        self._cookies.pop((domain, path, name), None)

    def _cookie_header(self, path: str) -> str | None:
        now = time.time()
        pairs = []
        for key, cookie in list(self._cookies.items()):
            if cookie.expires is not None and cookie.expires <= now:
                del self._cookies[key]
                continue
            if path == cookie.path or path.startswith(cookie.path.rstrip("/") + "/") or cookie.path == "/":
                pairs.append(f"{cookie.name}={cookie.value}")
        return "; ".join(pairs) or None

    def _store_cookies(self, headers: list[tuple[str, str]]) -> None:
        domain = self.host.split(":")[0]
        for key, value in headers:
            if key.lower() != "set-cookie":
                continue
            jar: SimpleCookie = SimpleCookie()
            jar.load(value)
            for name, morsel in jar.items():
                path = morsel["path"] or "/"
                expires: float | None = None
                if morsel["max-age"]:
                    expires = time.time() + int(morsel["max-age"])
                elif morsel["expires"]:
                    expires = parsedate_to_datetime(morsel["expires"]).timestamp()
                if expires is not None and expires <= time.time():
                    self._cookies.pop((domain, path, name), None)
                    self._cookies.pop(("localhost", path, name), None)
                    continue
                cookie = _Cookie(name, morsel.value, domain, path, expires)
                self._cookies[(domain, path, name)] = cookie

    # -- requests --------------------------------------------------------------

    def open(
        self,
        path: str = "/",
        method: str = "GET",
        *,
        query_string: str | Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | list[tuple[str, str]] | None = None,
        data: bytes | str | Mapping[str, Any] | None = None,
        json: Any = None,
        content_type: str | None = None,
        follow_redirects: bool = False,
        environ_overrides: Mapping[str, Any] | None = None,
    ) -> TestResponse:
        """Send one request (and follow redirects if asked).

        Args:
            path: the path, optionally with ``?query``.
            method: the request method.
            query_string: a string or a mapping (lists repeat the key).
            headers: request headers.
            data: a body: bytes, str (UTF-8) or a mapping sent as a form.
            json: a value sent as an ``application/json`` body.
            content_type: the body's Content-Type (overrides the default).
            follow_redirects: follow 301/302/303/307/308 responses.
            environ_overrides: environ keys that replace the built ones.

        Returns:
            The final :class:`TestResponse`; ``history`` holds the redirects.

        Raises:
            ValueError: both ``data`` and ``json`` given, or too many redirects.
        """
        response = self._open_one(path, method, query_string, headers, data, json, content_type, environ_overrides)
        history: list[TestResponse] = []
        while follow_redirects and response.status_code in (301, 302, 303, 307, 308):
            if len(history) >= _MAX_REDIRECTS:
                raise ValueError(f"more than {_MAX_REDIRECTS} redirects; last Location: {response.location}")
            history.append(response)
            target = urljoin(f"{self.scheme}://{self.host}{path}", response.location or "/")
            parts = urlsplit(target)
            new_path = parts.path + (f"?{parts.query}" if parts.query else "")
            if response.status_code in (307, 308):
                response = self._open_one(new_path, method, None, headers, data, json, content_type, environ_overrides)
            else:
                new_method = "HEAD" if method == "HEAD" else "GET"
                response = self._open_one(new_path, new_method, None, headers, None, None, None, environ_overrides)
            path = new_path
        response.history = history
        return response

    def _open_one(
        self,
        path: str,
        method: str,
        query_string: str | Mapping[str, Any] | None,
        headers: Mapping[str, str] | list[tuple[str, str]] | None,
        data: bytes | str | Mapping[str, Any] | None,
        json: Any,
        content_type: str | None,
        environ_overrides: Mapping[str, Any] | None,
    ) -> TestResponse:
        environ = self.build_environ(path, method, query_string, headers, data, json, content_type)
        if environ_overrides:
            environ.update(environ_overrides)
        status, response_headers, body = call_wsgi_app(self.app, environ)
        self._store_cookies(response_headers)
        return TestResponse(status, response_headers, body)

    def build_environ(
        self,
        path: str = "/",
        method: str = "GET",
        query_string: str | Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | list[tuple[str, str]] | None = None,
        data: bytes | str | Mapping[str, Any] | None = None,
        json: Any = None,
        content_type: str | None = None,
    ) -> dict[str, Any]:
        """Return the environ a server would build for this request.

        A ``data`` mapping is sent as ``application/x-www-form-urlencoded``,
        or as ``multipart/form-data`` when a value is a file (an object with
        ``read``, or a tuple ``(file, filename)`` or ``(file, filename,
        content_type)``; a list of them for several files in one field) or
        when ``content_type`` says ``multipart/form-data``, as Werkzeug's
        test client does.
        """
        if data is not None and json is not None:
            raise ValueError("pass either data= or json=, not both")
        raw_path, _, query = path.partition("?")
        if query_string is not None:
            query = query_string if isinstance(query_string, str) else urlencode(query_string, doseq=True)
        body = b""
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
            body = data
        host, _, port = self.host.partition(":")
        environ: dict[str, Any] = {
            "REQUEST_METHOD": method.upper(),
            "SCRIPT_NAME": "",
            "PATH_INFO": unquote(raw_path, encoding="latin-1"),
            "QUERY_STRING": query,
            "SERVER_NAME": host,
            "SERVER_PORT": port or ("443" if self.scheme == "https" else "80"),
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_HOST": self.host,
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": self.scheme,
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": io.StringIO(),
            "wsgi.multithread": False,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            "wsgi.input_terminated": True,
        }
        if body or data is not None or json is not None:
            environ["CONTENT_LENGTH"] = str(len(body))
        if content_type:
            environ["CONTENT_TYPE"] = content_type
        items = headers.items() if isinstance(headers, Mapping) else (headers or [])
        for name, value in items:
            key = name.upper().replace("-", "_")
            if key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                environ[key] = value
            else:
                key = "HTTP_" + key
                environ[key] = f"{environ[key]}, {value}" if key in environ and key != "HTTP_HOST" else value
        cookie = self._cookie_header(raw_path or "/")
        if cookie and "HTTP_COOKIE" not in environ:
            environ["HTTP_COOKIE"] = cookie
        environ.update(self.environ_base)
        return environ

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


def _is_file_value(value: object) -> bool:
    return isinstance(value, tuple) or hasattr(value, "read")


def _encode_multipart(data: Mapping[str, Any], content_type: str | None) -> tuple[bytes, str] | None:
    """Encode a form with files as ``multipart/form-data`` (RFC 7578); None when it has no file.

    Field values are sent as UTF-8 text; a file's bytes are read from its
    object, its filename is the tuple's or the object's ``name``, and its
    type the tuple's or one guessed from the filename.

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
            text = value if isinstance(value, str) else str(value)
            parts.append((f'Content-Disposition: form-data; name="{quote(key)}"'.encode(), text.encode()))
            continue
        if isinstance(value, tuple):
            if not 1 <= len(value) <= 3 or not hasattr(value[0], "read"):
                raise TypeError(
                    f"data[{key!r}]: give a file as (file, filename) or (file, filename, content_type), got {value!r}"
                )
            file, filename, file_type = (*value, None, None)[:3]
        else:
            file, filename, file_type = value, None, None
        if filename is None:
            filename = os.path.basename(str(getattr(file, "name", "") or ""))
        if file_type is None:
            file_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"
        raw = file.read()
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
