"""The test client's cookie jar: ``Set-Cookie`` in, ``Cookie`` out, as a browser keeps them (RFC 6265).

Design: a cookie is stored under ``(domain, path, name)`` as a
:class:`Cookie` with the fields of Werkzeug 3's test ``Cookie``, so a Flask
test reading ``client.get_cookie("sid").value`` or ``.expires`` works
unchanged. Parsing follows RFC 6265 §5.2-5.3 where Werkzeug is looser: a
``Domain`` the request host does not domain-match, or a header without
``name=``, is ignored, and a ``Max-Age`` of 0 or less deletes. A cookie
without ``Domain`` is sent back to its host only (``origin_only``); one
with it also to subdomains. The ``Secure`` flag is recorded but not
enforced, as in Werkzeug's client, so a test over ``http://localhost``
still sends a secure session cookie. Expired cookies are dropped when read.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta
from datetime import timezone
from urllib.parse import urlsplit

from sluice.wrappers.http import parse_cookie
from sluice.wrappers.http import parse_date


@dataclass(frozen=True)
class Cookie:
    """One cookie in the jar, with the fields of Werkzeug 3's ``werkzeug.test.Cookie``.

    Attributes:
        key: the name as sent in ``Set-Cookie``.
        value: the value as sent, quotes and escapes included (``'"a b"'``).
        decoded_key: the name as the app reads it back from ``request.cookies``.
        decoded_value: the value as the app reads it back (``"a b"``).
        expires: when the cookie expires (from ``Max-Age`` when given, else
            ``Expires``), aware; None for a session cookie.
        max_age: the ``Max-Age`` in seconds, or None.
        domain: the host, or the ``Domain`` attribute (lowercased, no leading dot).
        origin_only: True when sent to ``domain`` only; False when also to its subdomains.
        path: the path the cookie is sent for (and below).
        secure: the ``Secure`` flag.
        http_only: the ``HttpOnly`` flag.
        same_site: the ``SameSite`` attribute as sent, or None.
    """

    key: str
    value: str
    decoded_key: str
    decoded_value: str
    expires: datetime | None
    max_age: int | None
    domain: str
    origin_only: bool
    path: str
    secure: bool
    http_only: bool
    same_site: str | None

    def is_expired(self, now: datetime) -> bool:
        """True when the cookie's expiry is at or before ``now``."""
        return self.expires is not None and self.expires <= now

    def matches(self, host: str, path: str) -> bool:
        """True when a request to ``host`` (a name, no port) and ``path`` carries this cookie.

        RFC 6265 §5.1.3 domain-match (the host itself, or below it unless
        ``origin_only``) and §5.1.4 path-match (the path itself, or below it).
        """
        if host != self.domain and (self.origin_only or not host.endswith("." + self.domain)):
            return False
        if path == self.path:
            return True
        return path.startswith(self.path) and (self.path.endswith("/") or path[len(self.path)] == "/")


def host_name(host: str) -> str:
    """The lowercased name of a ``Host`` value, without port or IPv6 brackets."""
    return urlsplit(f"//{host}").hostname or host.lower()


def _default_path(request_path: str) -> str:
    # RFC 6265 §5.1.4: the request path up to, not including, its last "/".
    if not request_path.startswith("/") or request_path.count("/") == 1:
        return "/"
    return request_path[: request_path.rindex("/")]


def parse_set_cookie(header: str, host: str, request_path: str, now: datetime) -> Cookie | None:
    """Read one ``Set-Cookie`` value received for a request to ``host`` and ``request_path``.

    Args:
        header: the ``Set-Cookie`` field value.
        host: the request's host name (no port).
        request_path: the request's path, for the default ``Path``.
        now: the moment of receipt, for ``Max-Age``.

    Returns:
        The cookie (possibly already expired: a deletion), or None when the
        header must be ignored (RFC 6265 §5.2-5.3): no ``name=``, an empty
        name, or a ``Domain`` that ``host`` does not domain-match.
    """
    pair, _, attributes = header.partition(";")
    key, eq, value = pair.partition("=")
    key, value = key.strip(), value.strip()
    decoded = parse_cookie(f"{key}={value}")
    if not eq or not key or not decoded:
        return None
    expires: datetime | None = None
    max_age: int | None = None
    domain: str | None = None
    path: str | None = None
    secure = http_only = False
    same_site: str | None = None
    for attribute in attributes.split(";"):
        name, _, argument = attribute.partition("=")
        name, argument = name.strip().lower(), argument.strip()
        if name == "expires":
            expires = parse_date(argument) or expires
        elif name == "max-age" and argument.isascii() and argument.lstrip("-").isdigit():
            try:
                max_age = int(argument)
            except ValueError:
                pass  # "--1", or more digits than int() converts: not a Max-Age
        elif name == "domain" and argument.strip("."):
            domain = argument.lstrip(".").lower()
        elif name == "path":
            path = argument if argument.startswith("/") else None
        elif name == "secure":
            secure = True
        elif name == "httponly":
            http_only = True
        elif name == "samesite":
            same_site = argument
    if domain is not None and host != domain and not host.endswith("." + domain):
        return None
    if max_age is not None and max_age <= 0:
        expires = now  # §5.2.2: zero or less is already past (a deletion)
    elif max_age is not None:
        try:
            expires = now + timedelta(seconds=max_age)  # §5.3: Max-Age wins over Expires
        except OverflowError:
            expires = None  # past the year 9999: it outlives any test
    return Cookie(
        key=key,
        value=value,
        decoded_key=decoded[0][0],
        decoded_value=decoded[0][1],
        expires=expires,
        max_age=max_age,
        domain=host if domain is None else domain,
        origin_only=domain is None,
        path=_default_path(request_path) if path is None else path,
        secure=secure,
        http_only=http_only,
        same_site=same_site,
    )


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


class CookieJar:
    """The cookies a test client keeps, by ``(domain, path, name)``.

    Args:
        clock: returns the current moment, aware (a test passes a fake one).
    """

    def __init__(self, clock: Callable[[], datetime] = _utc_now) -> None:
        self._cookies: dict[tuple[str, str, str], Cookie] = {}
        self._clock = clock

    def get(self, key: str, domain: str, path: str) -> Cookie | None:
        """Return the unexpired cookie stored as ``key`` for ``domain`` (any case) and ``path``, or None."""
        storage_key = (domain.lstrip(".").lower(), path, key)
        cookie = self._cookies.get(storage_key)
        if cookie is not None and cookie.is_expired(self._clock()):
            del self._cookies[storage_key]
            return None
        return cookie

    def set(self, cookie: Cookie) -> None:
        """Store ``cookie`` over any of the same name, domain and path; an expired one deletes it."""
        storage_key = (cookie.domain, cookie.path, cookie.decoded_key)
        if cookie.is_expired(self._clock()):
            self._cookies.pop(storage_key, None)
        else:
            self._cookies[storage_key] = cookie

    def delete(self, key: str, domain: str, path: str) -> None:
        """Remove the cookie stored as ``key`` for ``domain`` (any case) and ``path``, if any."""
        self._cookies.pop((domain.lstrip(".").lower(), path, key), None)

    def receive(self, headers: Iterable[tuple[str, str]], host: str, request_path: str) -> None:
        """Store the cookies of a response's ``Set-Cookie`` fields (others are skipped).

        Args:
            headers: the response's ``(name, value)`` header pairs.
            host: the request's ``Host`` (a port is ignored).
            request_path: the request's path, for the default ``Path``.
        """
        name = host_name(host)
        now = self._clock()
        for key, value in headers:
            if key.lower() == "set-cookie":
                cookie = parse_set_cookie(value, name, request_path, now)
                if cookie is not None:
                    self.set(cookie)

    def header(self, host: str, path: str) -> str | None:
        """The ``Cookie`` value for a request to ``host`` and ``path``, or None when no cookie applies.

        Longer paths go first (RFC 6265 §5.4), so ``request.cookies[name]``
        is the most specific cookie; expired cookies are dropped.
        """
        name = host_name(host)
        now = self._clock()
        for storage_key, cookie in list(self._cookies.items()):
            if cookie.is_expired(now):
                del self._cookies[storage_key]
        sent = sorted(
            (cookie for cookie in self._cookies.values() if cookie.matches(name, path)),
            key=lambda cookie: len(cookie.path),
            reverse=True,
        )
        return "; ".join(f"{cookie.key}={cookie.value}" for cookie in sent) or None
