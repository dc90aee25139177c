"""Parse the request headers that Flask apps read as objects: Authorization, User-Agent, ETags, Range, Cache-Control.

Design: each ``parse_*`` function takes the raw header value (or None) and
returns a small read-only object, or None where Werkzeug gives None. A
client's malformed header never raises: it gives None (``Authorization``,
``Range``) or an empty object (``If-None-Match``, ``Cache-Control``), so a
bad header cannot turn a request into a 500. :class:`~sluice.wrappers.request.Request`
calls these only when the attribute is first read.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator

# RFC 9110 §5.6.2 token; §11.2 token68; §5.6.4 quoted-string (with quoted-pair).
_TOKEN_RE = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_TOKEN68_RE = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
_QUOTED_PAIR_RE = re.compile(r"\\(.)", re.DOTALL)
# One element of a comma-separated list (RFC 9110 §5.6.1): commas inside a
# quoted string do not split; an unterminated quote runs to the end.
_LIST_ITEM_RE = re.compile(r'(?:"(?:[^"\\]|\\.)*(?:"|$)|[^,"])+', re.DOTALL)
# One ``name=value`` (or bare ``name``) element of a parameter list.
_PARAM_RE = re.compile(r'\s*([^\s=,"]+)\s*(?:=\s*("(?:[^"\\]|\\.)*"|[^\s,"]*)\s*)?$', re.DOTALL)
# RFC 9110 §8.8.3 entity-tag: an optional weakness prefix and an opaque quoted tag.
_ETAG_RE = re.compile(r'([Ww]/)?"([^"]*)"')
# A tag some clients send without quotes (Werkzeug accepts it as strong).
_BARE_ETAG_RE = re.compile(r'[\x21\x23-\x7e\x80-\xff]+')


def _split_list(value: str) -> list[str]:
    """The stripped, non-empty elements of a comma-separated header value."""
    return [item.strip() for item in _LIST_ITEM_RE.findall(value) if item.strip()]


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return _QUOTED_PAIR_RE.sub(r"\1", value[1:-1])
    return value


def _parse_params(value: str) -> dict[str, str | None] | None:
    """``name=value`` elements as a dict (a bare name maps to None); None when an element is malformed.

    Names are lowercased; quoted values are unquoted; a repeated name keeps its last value.
    """
    params: dict[str, str | None] = {}
    for item in _split_list(value):
        match = _PARAM_RE.match(item)
        if match is None or not _TOKEN_RE.fullmatch(match.group(1)):
            return None
        raw = match.group(2)
        params[match.group(1).lower()] = None if raw is None else _unquote(raw)
    return params


def _is_digits(value: str) -> bool:
    return value.isascii() and value.isdigit()


# -- Authorization ---------------------------------------------------------------


class Authorization:
    """The credentials of an ``Authorization`` header (RFC 9110 §11.6.2).

    ``Basic`` credentials (RFC 7617) are decoded into the ``username`` and
    ``password`` parameters; a scheme whose credentials are a token68, as
    ``Bearer`` (RFC 6750), has them in :attr:`token`; other schemes
    (``Digest``) have their auth-params in :attr:`parameters`, which also
    read as attributes (``auth.realm``; None when absent), as in Werkzeug.

    Args:
        auth_type: the scheme, lowercased (``"basic"``, ``"bearer"``).
        parameters: the auth-params (for Basic: ``username`` and ``password``).
        token: the token68, or None.

    Attributes:
        type: the scheme, lowercased.
        parameters: the auth-params by lowercased name.
        token: the token68 credentials (``Bearer``), or None.
    """

    def __init__(self, auth_type: str, parameters: dict[str, str] | None = None, token: str | None = None) -> None:
        self.type = auth_type
        self.parameters: dict[str, str] = dict(parameters or {})
        self.token = token

    @property
    def username(self) -> str | None:
        """The user name (Basic, Digest), or None."""
        return self.parameters.get("username")

    @property
    def password(self) -> str | None:
        """The password (Basic), or None."""
        return self.parameters.get("password")

    def __getattr__(self, name: str) -> str | None:
        # Only called for names the class does not define: a Digest
        # parameter such as ``realm`` or ``nonce``.
        if name.startswith("__"):
            raise AttributeError(name)
        # Through __dict__: before __init__ ran (copy, pickle) there is none.
        parameters: dict[str, str] = self.__dict__.get("parameters", {})
        return parameters.get(name)

    def get(self, key: str, default: str | None = None) -> str | None:
        """Return the parameter ``key``, or ``default``."""
        return self.parameters.get(key, default)

    def __getitem__(self, key: str) -> str:
        return self.parameters[key]

    def __contains__(self, key: object) -> bool:
        return key in self.parameters

    def __repr__(self) -> str:
        # NOTE: never the credentials themselves: reprs end up in logs.
        return f"<Authorization {self.type} {sorted(self.parameters)!r}{' token' if self.token else ''}>"


def parse_authorization(value: str | None) -> Authorization | None:
    """Parse an ``Authorization`` header.

    Args:
        value: the raw header value, or None.

    Returns:
        The credentials, or None when the header is absent or malformed:
        Basic credentials that are not base64 of UTF-8 ``user:password``, a
        Bearer header without a token68, or auth-params that do not parse.
    """
    if not value:
        return None
    scheme, _, credentials = value.strip().partition(" ")
    credentials = credentials.strip()
    if not _TOKEN_RE.fullmatch(scheme):
        return None
    auth_type = scheme.lower()
    if auth_type == "basic":
        try:
            decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        username, colon, password = decoded.partition(":")
        if not colon:
            return None  # RFC 7617 §2: user-pass = user-id ":" password
        return Authorization(auth_type, {"username": username, "password": password})
    if _TOKEN68_RE.fullmatch(credentials):
        return Authorization(auth_type, token=credentials)
    if auth_type == "bearer":
        return None  # RFC 6750 §2.1: Bearer takes a b64token
    params = _parse_params(credentials)
    if params is None or any(item is None for item in params.values()):
        return None
    return Authorization(auth_type, {key: item for key, item in params.items() if item is not None})


# -- User-Agent ------------------------------------------------------------------


class UserAgent:
    """The ``User-Agent`` header as Werkzeug 3 exposes it: the string, not a guess at the browser.

    Werkzeug 3 no longer parses the string (its ``browser``, ``platform``,
    ``version`` and ``language`` are None unless a parser subclass fills
    them); sluice keeps those four names, always None, so code reading them
    does not fail. Use a dedicated library (``ua-parser``) to identify
    browsers.

    Args:
        string: the raw header value (``""`` when absent).

    Attributes:
        string: the raw header value.
    """

    __slots__ = ("string",)

    platform: str | None = None
    browser: str | None = None
    version: str | None = None
    language: str | None = None

    def __init__(self, string: str) -> None:
        self.string = string

    def __str__(self) -> str:
        return self.string

    def __bool__(self) -> bool:
        """True when the client sent a non-empty ``User-Agent``.

        NOTE: Werkzeug's is true only when its parser recognised a browser,
        which Werkzeug 3 never does by itself; "was one sent" is the test
        code written for the older parser meant.
        """
        return bool(self.string)

    def __repr__(self) -> str:
        return f"<UserAgent {self.string!r}>"


# -- entity tags -----------------------------------------------------------------


class ETags:
    """The entity-tags of an ``If-None-Match`` or ``If-Match`` header (RFC 9110 §13.1.1-2).

    ``tag in etags`` and :meth:`contains` use the strong comparison (weak
    tags never match); :meth:`contains_weak` the weak one that
    ``If-None-Match`` calls for. A ``*`` header matches every tag. Tags are
    given without quotes (``"abc"``, not ``'"abc"'``). An absent or
    malformed header gives an empty ETags, which is false and matches nothing.

    Args:
        strong: the strong tags, unquoted.
        weak: the weak tags, unquoted and without ``W/``.
        star_tag: the header was ``*``.
    """

    __slots__ = ("_strong", "_weak", "star_tag")

    def __init__(self, strong: tuple[str, ...] = (), weak: tuple[str, ...] = (), star_tag: bool = False) -> None:
        self._strong = strong
        self._weak = weak
        #: True when the header was ``*`` (any current representation).
        self.star_tag = star_tag

    def is_strong(self, etag: str) -> bool:
        """True when ``etag`` is one of the strong tags."""
        return etag in self._strong

    def is_weak(self, etag: str) -> bool:
        """True when ``etag`` is one of the weak tags."""
        return etag in self._weak

    def contains(self, etag: str) -> bool:
        """True when ``etag`` matches by strong comparison (or the header is ``*``)."""
        return self.star_tag or etag in self._strong

    def contains_weak(self, etag: str) -> bool:
        """True when ``etag`` matches by weak comparison: a strong or weak tag (or ``*``)."""
        return self.star_tag or etag in self._strong or etag in self._weak

    def contains_raw(self, etag: str) -> bool:
        """True when a quoted tag as a header writes it (``'W/"x"'`` or ``'"x"'``) matches.

        A weak one is compared weakly, a strong one strongly; an unquoted
        string is taken as a strong tag.
        """
        match = _ETAG_RE.fullmatch(etag.strip())
        if match is None:
            return self.contains(etag)
        if match.group(1):
            return self.contains_weak(match.group(2))
        return self.contains(match.group(2))

    def as_set(self, include_weak: bool = False) -> set[str]:
        """The tags as a set: the strong ones, and the weak ones too when ``include_weak``."""
        tags = set(self._strong)
        if include_weak:
            tags.update(self._weak)
        return tags

    def __contains__(self, etag: object) -> bool:
        return isinstance(etag, str) and self.contains(etag)

    def __iter__(self) -> Iterator[str]:
        """Iterate over the strong tags."""
        return iter(self._strong)

    def __len__(self) -> int:
        """The number of strong tags."""
        return len(self._strong)

    def __bool__(self) -> bool:
        return bool(self.star_tag or self._strong or self._weak)

    def __repr__(self) -> str:
        if self.star_tag:
            return "<ETags *>"
        tags = [f'"{tag}"' for tag in self._strong] + [f'W/"{tag}"' for tag in self._weak]
        return f"<ETags {', '.join(tags)}>"


def parse_etags(value: str | None) -> ETags:
    """Parse an ``If-None-Match``/``If-Match`` header.

    A list element that is not an entity-tag is skipped (one that only
    lacks its quotes is read as a strong tag, as Werkzeug does).

    Args:
        value: the raw header value, or None.
    """
    if not value:
        return ETags()
    if value.strip() == "*":
        return ETags(star_tag=True)
    strong: list[str] = []
    weak: list[str] = []
    for item in _split_list(value):
        match = _ETAG_RE.fullmatch(item)
        if match is not None:
            (weak if match.group(1) else strong).append(match.group(2))
        elif _BARE_ETAG_RE.fullmatch(item) and not item.startswith(("W/", "w/")):
            strong.append(item)
    return ETags(tuple(strong), tuple(weak))


# -- Range -----------------------------------------------------------------------


class Range:
    """A parsed ``Range`` header (RFC 9110 §14.2), before it meets a representation.

    Args:
        units: the range unit, lowercased (``"bytes"``).
        ranges: ``(start, stop)`` pairs with ``stop`` exclusive; ``(start,
            None)`` for ``start-`` and ``(-length, None)`` for a suffix
            range ``-length``. In the client's order.

    Attributes:
        units: the range unit.
        ranges: the ``(start, stop)`` pairs.
    """

    __slots__ = ("units", "ranges")

    def __init__(self, units: str, ranges: list[tuple[int, int | None]]) -> None:
        self.units = units
        self.ranges = ranges

    def to_header(self) -> str:
        """Return the ranges as a ``Range`` header value writes them (``bytes=0-1,-5``)."""
        specs = []
        for start, stop in self.ranges:
            if start < 0:
                specs.append(str(start))
            else:
                specs.append(f"{start}-{'' if stop is None else stop - 1}")
        return f"{self.units}={','.join(specs)}"

    def __repr__(self) -> str:
        return f"<Range {self.to_header()!r}>"


def parse_range(value: str | None) -> Range | None:
    """Parse a ``Range`` header.

    Empty list elements are skipped (RFC 9110 §5.6.1). Ranges keep the
    client's order and may overlap: whether they are satisfiable depends
    on the representation, which is the sender's to decide (``send_file``
    does).

    Args:
        value: the raw header value, or None.

    Returns:
        The ranges, or None when the header is absent or malformed: no
        ``unit=``, a range that is not ``first-last``, ``first-`` or
        ``-suffix`` in ASCII digits, ``last`` before ``first``, a ``-0``
        suffix, or no range at all.
    """
    if not value:
        return None
    units, sep, specs = value.partition("=")
    units = units.strip().lower()
    if not sep or not _TOKEN_RE.fullmatch(units):
        return None
    ranges: list[tuple[int, int | None]] = []
    for spec in specs.split(","):
        spec = spec.strip(" \t")
        if not spec:
            continue
        first, dash, last = spec.partition("-")
        if not dash or not (first or last) or not all(_is_digits(part) for part in (first, last) if part):
            return None
        try:
            if not first:
                suffix = int(last)
                if suffix == 0:
                    return None  # selects nothing, and (0, None) would mean "all"
                ranges.append((-suffix, None))
            elif not last:
                ranges.append((int(first), None))
            else:
                start, stop = int(first), int(last) + 1
                if stop <= start:
                    return None
                ranges.append((start, stop))
        except ValueError:
            return None  # more digits than int() converts (sys.get_int_max_str_digits)
    return Range(units, ranges) if ranges else None


# -- Cache-Control ---------------------------------------------------------------


def _delta_seconds(value: str | None) -> int | None:
    """RFC 9111 §1.2.2 delta-seconds, or None when ``value`` is not one."""
    if value is None or not _is_digits(value):
        return None
    try:
        return int(value)
    except ValueError:
        return None


class RequestCacheControl:
    """The directives of a request's ``Cache-Control`` header (RFC 9111 §5.2.1).

    Directive names are case-insensitive (§5.2); a repeated directive keeps
    its last value. A numeric directive whose argument is not
    delta-seconds reads as None. An absent header gives an empty, false
    object.

    Args:
        directives: lowercased directive names and their unquoted arguments
            (None for a directive without one).
    """

    __slots__ = ("_directives",)

    def __init__(self, directives: dict[str, str | None] | None = None) -> None:
        self._directives = dict(directives or {})

    @property
    def no_cache(self) -> bool:
        """``no-cache``: the client wants a response validated with the origin server."""
        return "no-cache" in self._directives

    @property
    def no_store(self) -> bool:
        """``no-store``: nothing of the request or response may be stored."""
        return "no-store" in self._directives

    @property
    def no_transform(self) -> bool:
        """``no-transform``: intermediaries must not transform the content."""
        return "no-transform" in self._directives

    @property
    def only_if_cached(self) -> bool:
        """``only-if-cached``: answer from a cache or with a 504."""
        return "only-if-cached" in self._directives

    @property
    def max_age(self) -> int | None:
        """``max-age``: the oldest response (seconds) the client accepts, or None."""
        return _delta_seconds(self._directives.get("max-age"))

    @property
    def min_fresh(self) -> int | None:
        """``min-fresh``: seconds a response must stay fresh for, or None."""
        return _delta_seconds(self._directives.get("min-fresh"))

    @property
    def max_stale(self) -> int | bool | None:
        """``max-stale``: seconds past expiry the client accepts; True without a limit; None when absent or malformed."""
        if "max-stale" not in self._directives:
            return None
        argument = self._directives["max-stale"]
        if argument is None:
            return True
        return _delta_seconds(argument)

    def get(self, name: str, default: str | None = None) -> str | None:
        """Return the argument of directive ``name`` (any case), or ``default``."""
        return self._directives.get(name.lower(), default)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._directives

    def __bool__(self) -> bool:
        return bool(self._directives)

    def __repr__(self) -> str:
        parts = [name if arg is None else f"{name}={arg}" for name, arg in self._directives.items()]
        return f"<RequestCacheControl {', '.join(parts)}>"


def parse_cache_control(value: str | None) -> RequestCacheControl:
    """Parse a request's ``Cache-Control`` header; an element that is not ``token[=argument]`` is skipped.

    Args:
        value: the raw header value, or None.
    """
    directives: dict[str, str | None] = {}
    for item in _split_list(value or ""):
        parsed = _parse_params(item)
        if parsed:
            directives.update(parsed)
    return RequestCacheControl(directives)
