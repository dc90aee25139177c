"""URL converters: the regex a rule variable matches and its Python <-> URL mapping.

Design: a converter follows the Werkzeug/Flask contract, so converters written
for Flask port over: a class whose ``regex`` attribute is the pattern one
variable matches (it must not contain capturing groups; use ``(?:...)``),
with ``to_python(value) -> object`` and ``to_url(value) -> str``. It is
instantiated once per rule variable with the map and the arguments written in
the rule (``<int(min=1):id>`` -> ``IntegerConverter(map, min=1)``);
:func:`parse_converter_args` reads those arguments with ``ast.literal_eval``,
one argument at a time, so nothing in a rule string is executed. ``weight``
orders rules: among dynamic rules, a lower weight at the same position is
tried first (``int`` before ``string`` before ``path``).
"""

from __future__ import annotations

import ast
import re
import uuid
from typing import TYPE_CHECKING
from typing import Any
from urllib.parse import quote

from sluice.errors import RoutingError
from sluice.routing.errors import ValidationError

if TYPE_CHECKING:
    from sluice.routing.router import Map

# RFC 3986 §3.3: a path segment may hold unreserved characters, sub-delims,
# ":" and "@" unencoded; everything else (including "/", "?", "#") is encoded.
_SEGMENT_SAFE = "!$&'()*+,;=:@"


class BaseConverter:
    """Base of every converter: matches one non-empty path segment, as text.

    Args:
        map: the :class:`~sluice.routing.Map` the rule belongs to.
        *args: positional arguments written in the rule.
        **kwargs: keyword arguments written in the rule.
    """

    regex = "[^/]+"
    weight = 100

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        self.map = map

    def to_python(self, value: str) -> Any:
        """Return the Python value for the matched URL text.

        Args:
            value: the text the converter's regex matched.

        Returns:
            The value passed to the view (here: the text unchanged).

        Raises:
            ValidationError: the text is not acceptable; the rule does not match.
        """
        return value

    def to_url(self, value: Any) -> str:
        """Return the URL text for a value, percent-encoded (RFC 3986).

        Args:
            value: the value given to ``build``/``url_for``.

        Returns:
            The encoded path text.

        Raises:
            ValidationError: the value cannot be written by this converter.
        """
        return quote(str(value), safe=_SEGMENT_SAFE)


class StringConverter(BaseConverter):
    """``string`` (the default): one segment without ``/``.

    Args:
        map: the map the rule belongs to.
        minlength: the fewest characters accepted (default 1).
        maxlength: the most characters accepted (default unlimited).
        length: an exact length; overrides ``minlength`` and ``maxlength``.
    """

    def __init__(self, map: Map, minlength: int = 1, maxlength: int | None = None, length: int | None = None) -> None:
        super().__init__(map)
        if length is not None:
            self.regex = f"[^/]{{{int(length)}}}"
        else:
            upper = "" if maxlength is None else str(int(maxlength))
            self.regex = f"[^/]{{{int(minlength)},{upper}}}"


class PathConverter(BaseConverter):
    """``path``: like ``string`` but also accepts ``/``; sorted after the others."""

    regex = "[^/].*?"
    weight = 200

    def to_url(self, value: Any) -> str:
        """Return the URL text for a value, percent-encoded but keeping ``/``.

        Args:
            value: the path to write.

        Returns:
            The encoded path text.
        """
        return quote(str(value), safe=_SEGMENT_SAFE + "/")


class _NumberConverter(BaseConverter):
    """Shared checks of ``int`` and ``float``: bounds and sign."""

    weight = 50
    _digits = "[0-9]+"

    def __init__(self, map: Map, min: float | None = None, max: float | None = None, signed: bool = False) -> None:
        super().__init__(map)
        self.min = min
        self.max = max
        self.signed = signed
        self.regex = ("-?" if signed else "") + self._digits

    def _check(self, number: float) -> None:
        if (self.min is not None and number < self.min) or (self.max is not None and number > self.max):
            raise ValidationError(f"{number} is outside [{self.min}, {self.max}]")


class IntegerConverter(_NumberConverter):
    """``int``: ASCII digits, optionally signed, fixed-width and bounded.

    Args:
        map: the map the rule belongs to.
        fixed_digits: exact number of digits; ``to_url`` zero-pads to it.
        min: smallest accepted value.
        max: largest accepted value.
        signed: accept a leading ``-``.
    """

    def __init__(
        self,
        map: Map,
        fixed_digits: int = 0,
        min: int | None = None,
        max: int | None = None,
        signed: bool = False,
    ) -> None:
        if fixed_digits:
            self._digits = f"[0-9]{{{int(fixed_digits)}}}"
        super().__init__(map, min, max, signed)
        self.fixed_digits = fixed_digits

    def to_python(self, value: str) -> int:
        """Return the integer; reject it when out of bounds.

        Args:
            value: the matched digits.

        Returns:
            The integer.

        Raises:
            ValidationError: the value is below ``min`` or above ``max``.
        """
        number = int(value)
        if self.min is not None or self.max is not None:
            self._check(number)
        return number

    def to_url(self, value: Any) -> str:
        """Return the digits of ``value``, zero-padded to ``fixed_digits``.

        Args:
            value: an integer.

        Returns:
            The decimal text.
        """
        text = str(int(value))
        if self.fixed_digits:
            text = text.zfill(self.fixed_digits)
        return text


class FloatConverter(_NumberConverter):
    """``float``: ``digits.digits``, optionally signed and bounded.

    Args:
        map: the map the rule belongs to.
        min: smallest accepted value.
        max: largest accepted value.
        signed: accept a leading ``-``.
    """

    _digits = r"[0-9]+\.[0-9]+"

    def to_python(self, value: str) -> float:
        """Return the float; reject it when out of bounds.

        Args:
            value: the matched text.

        Returns:
            The float.

        Raises:
            ValidationError: the value is below ``min`` or above ``max``.
        """
        number = float(value)
        self._check(number)
        return number

    def to_url(self, value: Any) -> str:
        """Return the decimal text of ``value``.

        Args:
            value: a number.

        Returns:
            The text, as ``repr(float(value))`` writes it.
        """
        return repr(float(value))


class UUIDConverter(BaseConverter):
    """``uuid``: the canonical 8-4-4-4-12 hex form; the view gets a :class:`uuid.UUID`."""

    regex = "[A-Fa-f0-9]{8}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{12}"
    weight = 50

    def to_python(self, value: str) -> uuid.UUID:
        """Return the UUID.

        Args:
            value: the matched text.

        Returns:
            The UUID.
        """
        return uuid.UUID(value)

    def to_url(self, value: Any) -> str:
        """Return the canonical lower-case text of the UUID.

        Args:
            value: a UUID or its text.

        Returns:
            The text.
        """
        return str(value)


class AnyConverter(BaseConverter):
    """``any(a, b, c)``: exactly one of the listed words.

    Args:
        map: the map the rule belongs to.
        *items: the accepted words.

    Raises:
        RoutingError: no word was given.
    """

    weight = 50

    def __init__(self, map: Map, *items: str) -> None:
        super().__init__(map)
        if not items:
            raise RoutingError("any() needs at least one word, e.g. <any(about, help):page>")
        self.items = tuple(str(item) for item in items)
        self.regex = "(?:" + "|".join(re.escape(item) for item in self.items) + ")"

    def to_url(self, value: Any) -> str:
        """Return ``value`` when it is one of the words.

        Args:
            value: one of the words.

        Returns:
            The encoded word.

        Raises:
            ValidationError: the value is not one of the words.
        """
        if str(value) not in self.items:
            raise ValidationError(f"{value!r} is not one of {', '.join(self.items)}")
        return super().to_url(value)


#: The converters every map starts with, by the name used in rules.
DEFAULT_CONVERTERS: dict[str, type[BaseConverter]] = {
    "default": StringConverter,
    "string": StringConverter,
    "path": PathConverter,
    "int": IntegerConverter,
    "float": FloatConverter,
    "uuid": UUIDConverter,
    "any": AnyConverter,
}


def parse_converter_args(text: str) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """Parse the arguments written in a rule, e.g. ``signed=True, min=0``.

    Each argument is a Python literal read with ``ast.literal_eval``; a bare
    word (``about`` in ``any(about, help)``) is taken as a string, as in
    Flask. Nothing is evaluated.

    Args:
        text: what stands between the parentheses.

    Returns:
        The positional and keyword arguments.

    Raises:
        RoutingError: the text is not a list of literals.
    """
    try:
        call = ast.parse(f"f({text})", mode="eval").body
    except SyntaxError:
        raise RoutingError(f"converter arguments ({text}) are not valid; write literals, e.g. (min=1, max=10)") from None
    if not isinstance(call, ast.Call) or any(isinstance(arg, ast.Starred) for arg in call.args):
        raise RoutingError(f"converter arguments ({text}) are not valid; write literals, e.g. (min=1, max=10)")
    args = tuple(_literal(node, text) for node in call.args)
    kwargs: dict[str, Any] = {}
    for keyword in call.keywords:
        if keyword.arg is None:
            raise RoutingError(f"converter arguments ({text}) cannot use **; name each argument")
        kwargs[keyword.arg] = _literal(keyword.value, text)
    return args, kwargs


def _literal(node: ast.expr, text: str) -> Any:
    if isinstance(node, ast.Name):
        return node.id
    try:
        return ast.literal_eval(node)
    except ValueError:
        raise RoutingError(
            f"converter argument {ast.unparse(node)!r} in ({text}) is not a literal; "
            "use numbers, quoted strings, True/False or bare words"
        ) from None
