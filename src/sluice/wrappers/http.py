"""Parse and format the header values the wrappers need: options, Accept, cookies, dates.

Design: each parser is tolerant where browsers are sloppy (cookies, Accept)
and returns plain data; nothing here touches a request or response object,
so :mod:`sluice.wrappers.request` and :mod:`sluice.wrappers.response` call
these functions only when a property is first read or a cookie is set.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from datetime import timedelta
from datetime import timezone
from email.utils import formatdate
from urllib.parse import unquote_to_bytes

# RFC 9110 §5.6.2 token; §5.6.4 quoted-string (with quoted-pair).
_TOKEN = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_OPTION_RE = re.compile(
    r"""\s*;\s*(?P<key>[^\s;=]+)\s*(?:=\s*(?P<value>"(?:[^"\\]|\\.)*"|[^;]*?))?\s*(?=;|$)""",
    re.DOTALL,
)
_TOKEN_RE = re.compile(_TOKEN)
_QUOTED_PAIR_RE = re.compile(r"\\(.)", re.DOTALL)


def _unquote_header_value(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return _QUOTED_PAIR_RE.sub(r"\1", value[1:-1])
    return value


def parse_options_header(value: str | None) -> tuple[str, dict[str, str]]:
    """Split a header like ``Content-Type`` into its value and parameters.

    Parameter names are lowercased. RFC 2231 extended parameters
    (``filename*=UTF-8''%e2%82%ac.txt``) are decoded and win over the plain
    form of the same name.

    Args:
        value: the raw header value, or None.

    Returns:
        The lowercased main value (``""`` when absent) and the parameters.
    """
    if not value:
        return "", {}
    main, sep, rest = value.partition(";")
    params: dict[str, str] = {}
    extended: dict[str, str] = {}
    if sep:
        for match in _OPTION_RE.finditer(";" + rest):
            key = match.group("key").lower()
            raw = match.group("value") or ""
            if key.endswith("*"):
                charset, _, encoded = raw.partition("'")
                _, _, encoded = encoded.partition("'")
                try:
                    extended[key[:-1]] = unquote_to_bytes(encoded).decode(charset or "utf-8")
                except (LookupError, UnicodeDecodeError):
                    continue
            else:
                params[key] = _unquote_header_value(raw)
    params.update(extended)
    return main.strip().lower(), params


class MIMEAccept:
    """The parsed ``Accept`` header: media ranges ordered by quality, best first.

    Iteration yields ``(media_range, quality)`` pairs. Entries with a
    malformed ``q`` are skipped; those with ``q=0`` are kept (last), since
    they mark a type as "not acceptable" (RFC 9110 §12.4.2) even when a
    wider range would accept it.

    Args:
        value: the raw ``Accept`` header, or None (which accepts anything).
    """

    __slots__ = ("_ranges", "provided")

    def __init__(self, value: str | None) -> None:
        self.provided = bool(value and value.strip())
        ranges: list[tuple[str, float]] = []
        for item in (value or "").split(","):
            media, params = parse_options_header(item)
            if not media:
                continue
            quality = 1.0
            if "q" in params:
                try:
                    quality = float(params["q"])
                except ValueError:
                    continue
                if not 0.0 <= quality <= 1.0:
                    continue
            if "/" not in media:
                media = "*/*" if media == "*" else media + "/*"
            ranges.append((media, quality))
        # Stable sort: equal qualities keep the client's order.
        ranges.sort(key=lambda pair: pair[1], reverse=True)
        self._ranges = ranges

    def __iter__(self) -> Iterator[tuple[str, float]]:
        return iter(self._ranges)

    def __len__(self) -> int:
        return len(self._ranges)

    def __contains__(self, mimetype: object) -> bool:
        return isinstance(mimetype, str) and self.quality(mimetype) > 0

    def __repr__(self) -> str:
        return f"<MIMEAccept {self._ranges!r}>"

    def _match(self, mimetype: str) -> tuple[float, int]:
        """Return the quality and specificity of the most specific range matching ``mimetype``."""
        if not self.provided:
            return 1.0, 0
        kind, _, sub = mimetype.lower().partition("/")
        best = (0.0, -1)
        for media, quality in self._ranges:
            rkind, _, rsub = media.partition("/")
            if rkind == "*" and rsub == "*":
                specificity = 0
            elif rkind == kind and rsub == "*":
                specificity = 1
            elif rkind == kind and rsub == sub:
                specificity = 2
            else:
                continue
            # RFC 9110 §12.5.1: the most specific matching range decides the quality.
            if specificity > best[1]:
                best = (quality, specificity)
        return best

    def quality(self, mimetype: str) -> float:
        """Return how much the client accepts ``mimetype``, from 0 (not at all) to 1.

        Args:
            mimetype: a concrete media type such as ``"application/json"``.
        """
        return self._match(mimetype)[0]

    def best_match(self, offered: list[str], default: str | None = None) -> str | None:
        """Pick the offered media type the client prefers.

        Ties in quality go to the more specific client range, then to the
        earlier entry of ``offered``, so list the server's favourite first.

        Args:
            offered: the media types the server can produce.
            default: returned when the client accepts none of them.

        Returns:
            One of ``offered``, or ``default``.
        """
        best: str | None = default
        best_key = (0.0, -1)
        for mimetype in offered:
            key = self._match(mimetype)
            if key[0] > 0 and key > best_key:
                best, best_key = mimetype, key
        return best

    @property
    def best(self) -> str | None:
        """The client's favourite media range, or None when none was sent."""
        return self._ranges[0][0] if self._ranges else None

    @property
    def accept_json(self) -> bool:
        """True when ``application/json`` is acceptable at all."""
        return self.quality("application/json") > 0

    @property
    def accept_html(self) -> bool:
        """True when ``text/html`` is acceptable at all."""
        return self.quality("text/html") > 0


# RFC 6265 §4.1.1: cookie-octet, the bytes a value may hold without quoting.
_COOKIE_OCTETS = frozenset(chr(c) for c in range(0x21, 0x7F)) - set('",;\\')
_COOKIE_ESCAPE_RE = re.compile(r"\\([0-3][0-7]{2}|.)", re.DOTALL)


def _unescape_cookie(match: re.Match[str]) -> str:
    escaped = match.group(1)
    if len(escaped) == 3:
        return chr(int(escaped, 8))
    return escaped


def parse_cookie(header: str | None) -> list[tuple[str, str]]:
    """Parse a ``Cookie`` request header into ``(name, value)`` pairs, in order.

    Tolerant as browsers are (RFC 6265 §5.4 and practice): pairs are split on
    ``;``, blanks are stripped, pairs without ``=`` or with an empty name
    are skipped, quoted values are unquoted (``\\"``, ``\\\\`` and the
    ``\\ooo`` octal escapes Python's ``http.cookies`` writes), and the bytes
    are decoded as UTF-8 with replacement.

    Args:
        header: the raw header, or None.

    Returns:
        The pairs; a name may repeat (the first is the most specific path).
    """
    if not header:
        return []
    pairs: list[tuple[str, str]] = []
    for chunk in header.split(";"):
        name, sep, value = chunk.partition("=")
        name = name.strip()
        if not sep or not name:
            continue
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = _COOKIE_ESCAPE_RE.sub(_unescape_cookie, value[1:-1])
        # WSGI gives latin-1 decoded bytes; browsers send UTF-8.
        try:
            value = value.encode("latin-1").decode("utf-8", "replace")
            name = name.encode("latin-1").decode("utf-8", "replace")
        except UnicodeEncodeError:
            pass
        pairs.append((name, value))
    return pairs


def quote_cookie_value(value: str) -> str:
    """Return ``value`` as it may appear after ``name=`` in ``Set-Cookie``.

    A value made only of RFC 6265 cookie-octets is sent as is. Any other is
    sent as a quoted string in which ``"`` and ``\\`` are backslash-escaped
    and other bytes (controls, ``,``, ``;``, space, UTF-8) are ``\\ooo``
    octal escapes, the form :func:`parse_cookie` (and Werkzeug, and
    ``http.cookies``) read back.

    Args:
        value: the cookie value.
    """
    if all(char in _COOKIE_OCTETS for char in value):
        return value
    out = ['"']
    for byte in value.encode("utf-8"):
        char = chr(byte)
        if char in _COOKIE_OCTETS:
            out.append(char)
        elif char in '"\\':
            out.append("\\" + char)
        else:
            out.append(f"\\{byte:03o}")
    out.append('"')
    return "".join(out)


def http_date(value: datetime | int | float) -> str:
    """Format a moment as an IMF-fixdate (RFC 9110 §5.6.7), e.g. ``Sun, 06 Nov 1994 08:49:37 GMT``.

    Args:
        value: an aware datetime, a naive one taken as UTC, or a Unix timestamp.
    """
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        value = value.timestamp()
    return formatdate(value, usegmt=True)


_SAMESITE = {"strict": "Strict", "lax": "Lax", "none": "None"}
_ATTRIBUTE_BAD_RE = re.compile(r"[\x00-\x1f\x7f;]")


def dump_cookie(
    key: str,
    value: str = "",
    max_age: int | timedelta | None = None,
    expires: datetime | int | float | str | None = None,
    path: str | None = "/",
    domain: str | None = None,
    secure: bool = False,
    httponly: bool = False,
    samesite: str | None = None,
    partitioned: bool = False,
) -> str:
    """Build a ``Set-Cookie`` header value (RFC 6265 §4.1).

    Args:
        key: the cookie name, an RFC 9110 token.
        value: the value; quoted as :func:`quote_cookie_value` says.
        max_age: lifetime in seconds (or a timedelta); also sets ``Expires``
            when ``expires`` is not given, for old clients.
        expires: a datetime, a Unix timestamp, or a preformatted date string.
        path: the ``Path`` attribute, or None for none.
        domain: the ``Domain`` attribute.
        secure: send only over HTTPS.
        httponly: hide from JavaScript.
        samesite: ``"Strict"``, ``"Lax"`` or ``"None"`` (any case).
        partitioned: CHIPS partitioned cookie; requires ``secure``.

    Returns:
        The header value.

    Raises:
        ValueError: the name is not a token, an attribute holds a control
            character or ``;``, ``samesite`` is not one of the three values,
            or ``SameSite=None`` / ``partitioned`` is used without ``secure``.
    """
    if not _TOKEN_RE.fullmatch(key):
        raise ValueError(f"cookie name {key!r} is not an RFC 9110 token; use letters, digits and !#$%&'*+-.^_`|~")
    parts = [f"{key}={quote_cookie_value(value)}"]
    if domain is not None:
        _check_attribute("domain", domain)
        parts.append(f"Domain={domain}")
    if expires is None and max_age is not None:
        seconds = max_age if isinstance(max_age, int) else int(max_age.total_seconds())
        expires = datetime.now(timezone.utc).timestamp() + seconds
    if expires is not None:
        if isinstance(expires, str):
            _check_attribute("expires", expires)
            parts.append(f"Expires={expires}")
        else:
            parts.append(f"Expires={http_date(expires)}")
    if max_age is not None:
        seconds = max_age if isinstance(max_age, int) else int(max_age.total_seconds())
        parts.append(f"Max-Age={seconds}")
    if secure:
        parts.append("Secure")
    if httponly:
        parts.append("HttpOnly")
    if path is not None:
        _check_attribute("path", path)
        parts.append(f"Path={path}")
    if samesite is not None:
        normalized = _SAMESITE.get(samesite.lower())
        if normalized is None:
            raise ValueError(f"samesite must be 'Strict', 'Lax' or 'None', not {samesite!r}")
        if normalized == "None" and not secure:
            raise ValueError("SameSite=None cookies are rejected by browsers unless Secure; pass secure=True")
        parts.append(f"SameSite={normalized}")
    if partitioned:
        if not secure:
            raise ValueError("partitioned cookies must be Secure; pass secure=True")
        parts.append("Partitioned")
    return "; ".join(parts)


def _check_attribute(name: str, value: str) -> None:
    if _ATTRIBUTE_BAD_RE.search(value):
        raise ValueError(f"cookie {name} {value!r} contains ';' or a control character; remove it")
