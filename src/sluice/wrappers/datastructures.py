"""Containers of the wrappers: ``Headers``, ``MultiDict``, ``ImmutableList`` and uploaded ``FileStorage``.

Design: ``Headers`` keeps one list of ``(name, value)`` pairs in arrival
order, because HTTP fields are ordered and may repeat (``Set-Cookie``), and
looks names up case-insensitively by scanning it; real messages have a few
dozen fields, where a scan beats keeping a second index in sync. Values are
checked when they enter, so a response can never carry a CR/LF injection.
``MultiDict`` keeps a ``dict`` of lists: the first value answers ``[]`` and
``get``, ``getlist`` returns all. Both use ``__slots__``.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Mapping
from os import PathLike
from typing import IO
from typing import Any
from typing import Generic
from typing import NoReturn
from typing import TypeVar
from typing import overload

from sluice.errors import BadRequest

_T = TypeVar("_T")
_D = TypeVar("_D")
_V = TypeVar("_V")

# RFC 9110 §5.5: a field value holds no CTL other than HTAB; CR, LF and NUL
# would also split or truncate the message (response splitting).
_BAD_VALUE_RE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_NAME_RE = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


def check_value(name: str, value: object) -> str:
    """Return a header value as str, refusing control characters (response splitting).

    Raises:
        TypeError: the value is neither str nor int.
        ValueError: the value holds CR, LF, NUL or another control character.
    """
    if not isinstance(value, str):
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        raise TypeError(f"header {name!r} value must be str or int, not {type(value).__name__}")
    if _BAD_VALUE_RE.search(value):
        raise ValueError(
            f"header {name!r} value {value!r} contains a control character (CR, LF, NUL or another); "
            "remove it, or encode the value (e.g. percent-encoding)"
        )
    return value


def _check_name(name: object) -> str:
    if not isinstance(name, str) or not _NAME_RE.fullmatch(name):
        raise ValueError(f"header name {name!r} is not an RFC 9110 token (letters, digits, !#$%&'*+-.^_`|~)")
    return name


class Headers:
    """Case-insensitive, multi-valued, ordered HTTP header fields.

    Iterating yields ``(name, value)`` pairs (as Werkzeug does); ``keys()``
    and ``values()`` give one side. ``h["X"] = v`` replaces every ``X``.

    Args:
        defaults: pairs, a mapping (a list value adds each item), or Headers.

    Raises:
        ValueError: a name is not a token or a value holds a control character.
    """

    __slots__ = ("_list",)

    def __init__(
        self,
        defaults: Headers | Mapping[str, str | int | list[str]] | Iterable[tuple[str, str | int]] | None = None,
    ) -> None:
        self._list: list[tuple[str, str]] = []
        if defaults is not None:
            self.extend(defaults)

    @classmethod
    def from_environ(cls, environ: Mapping[str, Any]) -> Headers:
        """Collect the request headers of a WSGI environ.

        ``HTTP_*`` keys plus ``CONTENT_TYPE`` and ``CONTENT_LENGTH`` (when not
        empty) become title-cased names: ``HTTP_X_REQUEST_ID`` gives
        ``X-Request-Id``. Values are taken as the server gave them.

        Args:
            environ: a PEP 3333 environ.

        Returns:
            A new Headers (of ``cls``).
        """
        headers = cls.__new__(cls)
        pairs: list[tuple[str, str]] = []
        for key, value in environ.items():
            if key.startswith("HTTP_"):
                if key in ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"):
                    continue
                pairs.append((key[5:].replace("_", "-").title(), value))
            elif key in ("CONTENT_TYPE", "CONTENT_LENGTH") and value:
                pairs.append((key.replace("_", "-").title(), value))
        headers._list = pairs
        return headers

    @classmethod
    def from_checked(cls, pairs: list[tuple[str, str]]) -> Headers:
        """Wrap ``pairs`` (taken, not copied) whose names and values the caller already checked.

        PERF: for the framework's own headers on every response; anything
        that comes from user code goes through :meth:`add` or :meth:`set`.
        """
        headers = cls.__new__(cls)
        headers._list = pairs
        return headers

    def extend(
        self, other: Headers | Mapping[str, str | int | list[str]] | Iterable[tuple[str, str | int]]
    ) -> None:
        """Add every field of ``other``, keeping existing ones.

        Args:
            other: pairs, a mapping (a list value adds each item), or Headers.
        """
        if isinstance(other, Mapping):
            for name, value in other.items():
                if isinstance(value, list):
                    for item in value:
                        self.add(name, item)
                else:
                    self.add(name, value)
        else:
            for name, value in other:
                self.add(name, value)

    def __getitem__(self, name: str) -> str:
        lowered = name.lower()
        for key, value in self._list:
            if key.lower() == lowered:
                return value
        raise KeyError(name)

    @overload
    def get(self, name: str) -> str | None: ...
    @overload
    def get(self, name: str, default: _D) -> str | _D: ...
    @overload
    def get(self, name: str, *, type: Callable[[str], _T]) -> _T | None: ...
    @overload
    def get(self, name: str, default: _D, type: Callable[[str], _T]) -> _T | _D: ...
    def get(self, name: str, default: object = None, type: Callable[[str], object] | None = None) -> object:
        """Return the first value of ``name``, or ``default``.

        Args:
            name: the field name, any case.
            default: returned when the field is missing or ``type`` fails.
            type: a converter such as ``int``; a ``ValueError`` or
                ``TypeError`` it raises gives ``default``.
        """
        try:
            value = self[name]
        except KeyError:
            return default
        if type is None:
            return value
        try:
            return type(value)
        except (ValueError, TypeError):
            return default

    def getlist(self, name: str) -> list[str]:
        """Return every value of ``name`` in order (an empty list when missing)."""
        lowered = name.lower()
        return [value for key, value in self._list if key.lower() == lowered]

    def add(self, name: str, value: str | int) -> None:
        """Append a field, keeping existing fields of the same name.

        Raises:
            ValueError: the name is not a token or the value holds a control character.
        """
        self._list.append((_check_name(name), check_value(name, value)))

    def set(self, name: str, value: str | int) -> None:
        """Replace every field ``name`` by one, kept at the position of the first.

        Raises:
            ValueError: the name is not a token or the value holds a control character.
        """
        item = (_check_name(name), check_value(name, value))
        lowered = name.lower()
        out: list[tuple[str, str]] = []
        placed = False
        for pair in self._list:
            if pair[0].lower() == lowered:
                if not placed:
                    out.append(item)
                    placed = True
            else:
                out.append(pair)
        if not placed:
            out.append(item)
        self._list = out

    def setdefault(self, name: str, value: str | int) -> str:
        """Return the first value of ``name``, adding ``value`` first if missing.

        Raises:
            ValueError: the value to add is invalid.
        """
        try:
            return self[name]
        except KeyError:
            self.add(name, value)
            return self._list[-1][1]

    def remove(self, name: str) -> None:
        """Remove every field ``name``; a missing name is not an error."""
        lowered = name.lower()
        self._list = [pair for pair in self._list if pair[0].lower() != lowered]

    def __setitem__(self, name: str, value: str | int) -> None:
        self.set(name, value)

    def __delitem__(self, name: str) -> None:
        if name not in self:
            raise KeyError(name)
        self.remove(name)

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        lowered = name.lower()
        return any(key.lower() == lowered for key, _ in self._list)

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(list(self._list))

    def __len__(self) -> int:
        return len(self._list)

    def __bool__(self) -> bool:
        return bool(self._list)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Headers):
            return self._list == other._list
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def items(self) -> list[tuple[str, str]]:
        """Return all ``(name, value)`` pairs in order."""
        return list(self._list)

    def keys(self) -> list[str]:
        """Return the names in order, repeated as often as they occur."""
        return [key for key, _ in self._list]

    def values(self) -> list[str]:
        """Return the values in order."""
        return [value for _, value in self._list]

    def to_wsgi_list(self) -> list[tuple[str, str]]:
        """Return a fresh list of pairs for ``start_response``."""
        return list(self._list)

    def copy(self) -> Headers:
        """Return a mutable copy."""
        new = Headers.__new__(Headers)
        new._list = list(self._list)
        return new

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._list!r})"

    def __str__(self) -> str:
        return "".join(f"{key}: {value}\r\n" for key, value in self._list) + "\r\n"


class ImmutableHeaders(Headers):
    """A read-only ``Headers``, as ``Request.headers`` returns; copy() gives a mutable one."""

    __slots__ = ()

    def _readonly(self, *args: object, **kwargs: object) -> NoReturn:
        raise TypeError("request headers are read-only; use headers.copy() to get a mutable Headers")

    add = set = setdefault = remove = extend = _readonly
    __setitem__ = __delitem__ = _readonly


class ImmutableList(list[_T]):
    """A list that refuses changes, as ``Request.access_route`` returns (Werkzeug's name and repr).

    It is hashable, like a tuple of its items; ``list(...)`` gives a mutable copy.
    """

    __slots__ = ()

    def _immutable(self, *args: object, **kwargs: object) -> NoReturn:
        raise TypeError(f"{type(self).__name__!r} objects are immutable; use list(...) to get a mutable copy")

    append = extend = insert = pop = remove = clear = sort = reverse = _immutable
    __setitem__ = __delitem__ = __iadd__ = __imul__ = _immutable

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(tuple(self))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({list.__repr__(self)})"


class BadRequestKeyError(BadRequest, KeyError):
    """400: a view read a missing key of ``request.args``, ``form``, ``files`` or ``cookies``.

    It is a ``KeyError`` too, so ``except KeyError`` keeps working.

    Args:
        key: the missing key.
    """

    def __init__(self, key: str) -> None:
        super().__init__(f"The request has no field {key!r}; the client must send it.")
        self.key = key

    def __str__(self) -> str:
        return f"{self.code} {self.name}: {self.description}"


class MultiDict(Generic[_V]):
    """A mapping where a key may hold several values, in insertion order.

    ``md[key]`` and ``get`` return the first value; ``getlist`` all of them.
    A missing key raises :class:`BadRequestKeyError` (a ``KeyError`` that
    answers 400 if a view lets it escape).

    Args:
        pairs: ``(key, value)`` pairs, or a mapping (a list value adds each item).
    """

    __slots__ = ("_data",)

    def __init__(self, pairs: Mapping[str, _V | list[_V]] | Iterable[tuple[str, _V]] | None = None) -> None:
        self._data: dict[str, list[_V]] = {}
        if pairs is None:
            return
        if isinstance(pairs, Mapping):
            for key, value in pairs.items():
                if isinstance(value, list):
                    self._data.setdefault(key, []).extend(value)
                else:
                    self._data.setdefault(key, []).append(value)
        else:
            for key, item in pairs:
                self._data.setdefault(key, []).append(item)

    def __getitem__(self, key: str) -> _V:
        try:
            return self._data[key][0]
        except (KeyError, IndexError):
            raise BadRequestKeyError(key) from None

    def __setitem__(self, key: str, value: _V) -> None:
        self._data[key] = [value]

    def __delitem__(self, key: str) -> None:
        del self._data[key]

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, MultiDict):
            return self._data == other._data
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({list(self.items(multi=True))!r})"

    @overload
    def get(self, key: str) -> _V | None: ...
    @overload
    def get(self, key: str, default: _D) -> _V | _D: ...
    @overload
    def get(self, key: str, *, type: Callable[[_V], _T]) -> _T | None: ...
    @overload
    def get(self, key: str, default: _D, type: Callable[[_V], _T]) -> _T | _D: ...
    def get(self, key: str, default: object = None, type: Callable[[_V], object] | None = None) -> object:
        """Return the first value of ``key``, or ``default``.

        Args:
            key: the key.
            default: returned when the key is missing or ``type`` fails.
            type: a converter such as ``int``; a ``ValueError`` or
                ``TypeError`` it raises gives ``default``.
        """
        values = self._data.get(key)
        if not values:
            return default
        if type is None:
            return values[0]
        try:
            return type(values[0])
        except (ValueError, TypeError):
            return default

    @overload
    def getlist(self, key: str) -> list[_V]: ...
    @overload
    def getlist(self, key: str, type: Callable[[_V], _T]) -> list[_T]: ...
    def getlist(self, key: str, type: Callable[[_V], object] | None = None) -> list[Any]:
        """Return every value of ``key`` (empty when missing).

        Args:
            key: the key.
            type: a converter; values it rejects with ``ValueError`` or
                ``TypeError`` are left out.
        """
        values = self._data.get(key, [])
        if type is None:
            return list(values)
        out: list[object] = []
        for value in values:
            try:
                out.append(type(value))
            except (ValueError, TypeError):
                continue
        return out

    def add(self, key: str, value: _V) -> None:
        """Append ``value`` to the values of ``key``."""
        self._data.setdefault(key, []).append(value)

    def setlist(self, key: str, values: Iterable[_V]) -> None:
        """Replace the values of ``key``."""
        self._data[key] = list(values)

    def keys(self) -> list[str]:
        """Return the keys in insertion order."""
        return list(self._data)

    def values(self) -> list[_V]:
        """Return the first value of each key."""
        return [values[0] for values in self._data.values() if values]

    def items(self, multi: bool = False) -> list[tuple[str, _V]]:
        """Return ``(key, value)`` pairs.

        Args:
            multi: every value of every key, instead of the first of each.
        """
        if multi:
            return [(key, value) for key, values in self._data.items() for value in values]
        return [(key, values[0]) for key, values in self._data.items() if values]

    def lists(self) -> list[tuple[str, list[_V]]]:
        """Return ``(key, values)`` pairs."""
        return [(key, list(values)) for key, values in self._data.items()]

    @overload
    def to_dict(self) -> dict[str, _V]: ...
    @overload
    def to_dict(self, flat: bool) -> dict[str, _V] | dict[str, list[_V]]: ...
    def to_dict(self, flat: bool = True) -> dict[str, _V] | dict[str, list[_V]]:
        """Return a plain dict.

        Args:
            flat: keep the first value of each key; if False, map each key
                to the list of its values.
        """
        if flat:
            return {key: values[0] for key, values in self._data.items() if values}
        return {key: list(values) for key, values in self._data.items()}

    def copy(self) -> MultiDict[_V]:
        """Return a shallow copy."""
        new: MultiDict[_V] = MultiDict()
        new._data = {key: list(values) for key, values in self._data.items()}
        return new


class FileStorage:
    """An uploaded file of a ``multipart/form-data`` body.

    It reads like a binary file (``read``, ``readline``, ``seek``, ``tell``,
    iteration over lines), so it can be handed to code that expects one.

    Args:
        stream: the file's bytes, positioned at the start.
        filename: the name the client gave, as sent (never trust it as a path).
        name: the form field name.
        content_type: the part's ``Content-Type``.
        headers: all headers of the part.
    """

    __slots__ = ("stream", "filename", "name", "content_type", "headers")

    def __init__(
        self,
        stream: IO[bytes],
        filename: str | None = None,
        name: str | None = None,
        content_type: str | None = None,
        headers: Headers | None = None,
    ) -> None:
        self.stream = stream
        self.filename = filename
        self.name = name
        self.content_type = content_type
        self.headers = headers if headers is not None else Headers()

    @property
    def mimetype(self) -> str:
        """The lowercased media type of ``content_type``, without parameters."""
        return (self.content_type or "").partition(";")[0].strip().lower()

    def read(self, size: int = -1) -> bytes:
        """Read up to ``size`` bytes (all when negative) from the stream."""
        return self.stream.read(size)

    def readline(self, size: int = -1) -> bytes:
        """Read one line (up to and including ``\\n``), at most ``size`` bytes."""
        return self.stream.readline(size)

    def seek(self, offset: int, whence: int = 0) -> int:
        """Move the stream position (``seek(0)`` to read or save again); return the new position."""
        return self.stream.seek(offset, whence)

    def tell(self) -> int:
        """Return the stream position."""
        return self.stream.tell()

    def __iter__(self) -> Iterator[bytes]:
        """Iterate over the lines of the stream (what ``csv`` or line readers expect)."""
        return iter(self.stream)

    def save(self, dst: str | PathLike[str] | IO[bytes], buffer_size: int = 64 * 1024) -> None:
        """Copy the file to a path or an open binary file.

        The stream is read from its current position, so save once or seek
        back first.

        Args:
            dst: a filesystem path (created or truncated) or a writable binary file.
            buffer_size: bytes copied per step.

        Raises:
            OSError: the destination cannot be written.
        """
        if isinstance(dst, (str, PathLike)):
            with open(dst, "wb") as out:
                shutil.copyfileobj(self.stream, out, buffer_size)
        else:
            shutil.copyfileobj(self.stream, dst, buffer_size)

    def close(self) -> None:
        """Close the stream (and delete its temporary file)."""
        self.stream.close()

    def __bool__(self) -> bool:
        return bool(self.filename)

    def __repr__(self) -> str:
        return f"<FileStorage {self.filename!r} ({self.content_type!r})>"
