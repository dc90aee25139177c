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
from email.utils import parsedate_to_datetime
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


class Accept:
    """A parsed ``Accept``-style header: values ordered by quality, best first.

    Iteration yields ``(value, quality)`` pairs. Entries with a malformed or
    out-of-range ``q`` are skipped; those with ``q=0`` are kept (last),
    since they mark a value as "not acceptable" (RFC 9110 §12.4.2) even when
    a wider range would accept it. Subclasses say how a value is written
    and which offered values a range matches.

    Args:
        value: the raw header, or None (which accepts anything).
    """

    __slots__ = ("_ranges", "provided")

    def __init__(self, value: str | None) -> None:
        self.provided = bool(value and value.strip())
        ranges: list[tuple[str, float]] = []
        for item in (value or "").split(","):
            normalized = self._normalize(item.partition(";")[0].strip())
            if not normalized:
                continue
            quality = 1.0
            params = parse_options_header(item)[1]
            if "q" in params:
                try:
                    quality = float(params["q"])
                except ValueError:
                    continue
                if not 0.0 <= quality <= 1.0:
                    continue
            ranges.append((normalized, quality))
        # Stable sort: equal qualities keep the client's order.
        ranges.sort(key=lambda pair: pair[1], reverse=True)
        self._ranges = ranges

    @staticmethod
    def _normalize(value: str) -> str:
        """The form a range is kept in (empty: skip the entry)."""
        return value

    def _match(self, offered: str) -> tuple[float, int]:
        """Return the quality and specificity of the most specific range matching ``offered``.

        Specificity is -1 when no range matches; ``*`` alone matches
        anything with specificity 0.
        """
        if not self.provided:
            return 1.0, 0
        wanted = offered.lower()
        best = (0.0, -1)
        for value, quality in self._ranges:
            if value == "*":
                specificity = 0
            elif value.lower() == wanted:
                specificity = 1
            else:
                continue
            if specificity > best[1]:
                best = (quality, specificity)
        return best

    def __iter__(self) -> Iterator[tuple[str, float]]:
        return iter(self._ranges)

    def __len__(self) -> int:
        return len(self._ranges)

    def __contains__(self, offered: object) -> bool:
        return isinstance(offered, str) and self.quality(offered) > 0

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._ranges!r}>"

    def values(self) -> Iterator[str]:
        """Iterate over the values the client sent, best first (without qualities)."""
        return (value for value, _ in self._ranges)

    def quality(self, offered: str) -> float:
        """Return how much the client accepts ``offered``, from 0 (not at all) to 1.

        Args:
            offered: a concrete value such as ``"application/json"`` or ``"en-GB"``.
        """
        return self._match(offered)[0]

    def best_match(self, offered: list[str], default: str | None = None) -> str | None:
        """Pick the offered value the client prefers.

        Ties in quality go to the more specific client range, then to the
        earlier entry of ``offered``, so list the server's favourite first.

        Args:
            offered: the values the server can produce.
            default: returned when the client accepts none of them.

        Returns:
            One of ``offered``, or ``default``.
        """
        best: str | None = default
        best_key = (0.0, -1)
        for candidate in offered:
            key = self._match(candidate)
            if key[0] > 0 and key > best_key:
                best, best_key = candidate, key
        return best

    @property
    def best(self) -> str | None:
        """The client's favourite value, or None when none was sent."""
        return self._ranges[0][0] if self._ranges else None


class MIMEAccept(Accept):
    """The parsed ``Accept`` header: media ranges ordered by quality, best first.

    Media ranges are lowercased; ``text`` alone counts as ``text/*`` and
    ``*`` as ``*/*``. See :class:`Accept`.

    Args:
        value: the raw ``Accept`` header, or None (which accepts anything).
    """

    __slots__ = ()

    @staticmethod
    def _normalize(value: str) -> str:
        media = value.lower()
        if media and "/" not in media:
            media = "*/*" if media == "*" else media + "/*"
        return media

    def _match(self, offered: str) -> tuple[float, int]:
        if not self.provided:
            return 1.0, 0
        kind, _, sub = offered.lower().partition("/")
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

    @property
    def accept_json(self) -> bool:
        """True when ``application/json`` is acceptable at all."""
        return self.quality("application/json") > 0

    @property
    def accept_html(self) -> bool:
        """True when ``text/html`` is acceptable at all."""
        return self.quality("text/html") > 0


def _language_key(tag: str) -> str:
    # Tags compare case-insensitively (RFC 5646 §2.1.1); "_" is the locale
    # spelling of "-" (en_GB), which Werkzeug also accepts.
    return tag.lower().replace("_", "-")


class LanguageAccept(Accept):
    """The parsed ``Accept-Language`` header: language ranges ordered by quality, best first.

    Values keep the client's spelling (``en-US``). A range matches a tag
    as RFC 4647 §3.3.1 basic filtering says (RFC 9110 §12.5.4): ``en``
    matches ``en`` and ``en-GB``, ``*`` matches any tag; case and ``_``
    versus ``-`` do not matter. See :class:`Accept`.

    Args:
        value: the raw ``Accept-Language`` header, or None (which accepts anything).
    """

    __slots__ = ()

    def _match(self, offered: str) -> tuple[float, int]:
        if not self.provided:
            return 1.0, 0
        wanted = _language_key(offered)
        best = (0.0, -1)
        for value, quality in self._ranges:
            language_range = _language_key(value)
            if language_range == "*":
                specificity = 0
            elif wanted == language_range or wanted.startswith(language_range + "-"):
                # The longer matching range is the more specific one.
                specificity = language_range.count("-") + 1
            else:
                continue
            if specificity > best[1]:
                best = (quality, specificity)
        return best

    def best_match(self, offered: list[str], default: str | None = None) -> str | None:
        """Pick the offered language the client prefers, falling back to the primary language.

        An offer that a language range matches (see the class) takes the
        quality of the most specific such range, and ``q=0`` refuses it.
        An offer that none matches takes the best quality of a client range
        with the same primary subtag, so a client sending only ``en-US``
        still gets an offered ``en`` or ``en-GB`` (Safari sends region tags
        only; Werkzeug falls back likewise), ranked below a direct match of
        equal quality. Remaining ties go to the earlier offer.

        Args:
            offered: the language tags the server can produce.
            default: returned when the client accepts none of them.

        Returns:
            One of ``offered``, or ``default``.
        """
        primaries: dict[str, float] = {}
        for value, quality in self._ranges:
            primary = _language_key(value).partition("-")[0]
            if primary != "*":
                primaries[primary] = max(quality, primaries.get(primary, 0.0))
        best: str | None = default
        best_key = (0.0, -1)
        for candidate in offered:
            quality, specificity = self._match(candidate)
            if specificity > 0:
                key = (quality, specificity + 1)  # a language range matched: it decides
            else:
                fallback = primaries.get(_language_key(candidate).partition("-")[0], 0.0)
                key = max((quality, specificity), (fallback, 1))
            if key[0] > 0 and key > best_key:
                best, best_key = candidate, key
        return best


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


def parse_date(value: str | None) -> datetime | None:
    """Parse an HTTP-date (RFC 9110 §5.6.7) into an aware datetime, or None when it is not one.

    The IMF-fixdate and the obsolete RFC 850 and asctime forms are read; a
    date without a zone is taken as UTC. Anything else, including a date
    that does not exist (32 January) or out of datetime's range, gives None:
    a recipient ignores an invalid date (RFC 9110 §13.1.3).

    Args:
        value: the raw header value, or None.
    """
    if not value:
        return None
    try:
        moment = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment


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
