"""URL rules: parse a rule string into static text and typed variables.

Design: a :class:`Rule` is parsed once, at construction, into a list of
parts (static text, or a variable with its converter name and arguments), and
rejects bad syntax there. It is *bound* to a map by ``Map.add``, which
instantiates the converters from ``map.converters`` (unknown names fail
then, with the list of known ones) and compiles the rule's own regex. The
router combines the bound rules; a rule on its own can match one path and
build one URL, which is what the router's slow paths (405, redirect, build)
use.

Order among dynamic rules (``match_key``), following Werkzeug: rules with
more parts first (a part is a static path segment or a variable), then,
part by part, static text before a variable (longer text first), then
converters by weight (``int``/``float``/``uuid``/``any`` 50, ``string`` 100,
``path`` 200); ties keep registration order.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from collections.abc import Mapping
from typing import TYPE_CHECKING
from typing import Any
from typing import NamedTuple

from sluice.errors import RoutingError
from sluice.routing.converters import BaseConverter
from sluice.routing.converters import parse_converter_args

if TYPE_CHECKING:
    from sluice.routing.router import Map

_VARIABLE_RE = re.compile(
    r"""
    <
    (?:
        (?P<converter>[A-Za-z_][A-Za-z0-9_]*)
        (?:\((?P<args>[^)]*)\))?
        :
    )?
    (?P<name>[A-Za-z_][A-Za-z0-9_]*)
    >
    """,
    re.VERBOSE,
)
_SYNTAX_HELP = "write variables as <name>, <converter:name> or <converter(args):name>"


class Variable(NamedTuple):
    """A ``<converter(args):name>`` part of a rule, before binding.

    Attributes:
        name: the view argument it fills.
        converter: the converter name (``default`` when none was written).
        args: positional converter arguments.
        kwargs: keyword converter arguments.
    """

    name: str
    converter: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]


class Rule:
    """One URL pattern, its endpoint and its methods.

    Args:
        rule: the pattern, starting with ``/``, e.g. ``/users/<int:id>``.
        endpoint: the name ``build``/``url_for`` refers to.
        methods: the HTTP methods it accepts (default ``GET``). Upper-cased;
            ``HEAD`` is added when ``GET`` is present, and ``OPTIONS`` is
            always added (answered by the framework unless listed here).
        strict_slashes: when the rule ends with ``/``, a URL without it is
            redirected (308); when false, the URL matches with or without
            its trailing slash.
        defaults: values passed to the view in addition to the URL's
            variables; ``build`` uses this rule only when the given values
            agree with them.

    Raises:
        RoutingError: the rule does not start with ``/``, has malformed
            ``<...>``, repeats a variable name, or lists no method.
    """

    def __init__(
        self,
        rule: str,
        endpoint: str,
        methods: Iterable[str] | None = None,
        strict_slashes: bool = True,
        defaults: Mapping[str, Any] | None = None,
    ) -> None:
        if not rule.startswith("/"):
            raise RoutingError(f"rule {rule!r} must start with '/'; write {'/' + rule!r}")
        self.rule = rule
        self.endpoint = endpoint
        self.strict_slashes = strict_slashes
        self.defaults: dict[str, Any] = dict(defaults or {})
        given = {method.upper() for method in (methods if methods is not None else ("GET",))}
        if isinstance(methods, str) or not given:
            raise RoutingError(f"rule {rule!r}: methods must be a non-empty list, e.g. methods=['GET', 'POST']")
        #: True when the framework, not the view, answers OPTIONS.
        self.provide_automatic_options = "OPTIONS" not in given
        if "GET" in given:
            given.add("HEAD")
        given.add("OPTIONS")
        self.methods: frozenset[str] = frozenset(given)
        self.parts: list[str | Variable] = _parse(rule)
        self.arguments: frozenset[str] = frozenset(part.name for part in self.parts if isinstance(part, Variable))
        self.is_static = not self.arguments
        self.converters: dict[str, BaseConverter] = {}
        self.map: Map | None = None
        self.regex: re.Pattern[str] | None = None
        #: The endpoint's hook plan, set by the app when it freezes.
        self._plan: Any = None

    def __repr__(self) -> str:
        return f"<Rule {self.rule!r} ({', '.join(sorted(self.methods))}) -> {self.endpoint}>"

    def bind(self, map: Map) -> None:
        """Instantiate the converters from ``map.converters`` and compile the regex.

        Args:
            map: the map that takes the rule.

        Raises:
            RoutingError: the rule is already bound, a converter is unknown,
                rejects its arguments, or has a regex with capturing groups.
        """
        if self.map is not None:
            raise RoutingError(f"rule {self.rule!r} already belongs to a map; create a new Rule for each map")
        converters: dict[str, BaseConverter] = {}
        for part in self.parts:
            if isinstance(part, Variable):
                converters[part.name] = _make_converter(map, part, self.rule)
        self.converters = converters
        self.map = map
        self.regex = re.compile(self.pattern)

    @property
    def pattern(self) -> str:
        """The regex source matching this rule's paths, one group per variable, in order."""
        pieces = [
            re.escape(part) if isinstance(part, str) else f"({self.converters[part.name].regex})" for part in self.parts
        ]
        if not self.strict_slashes:
            if self.rule.endswith("/") and isinstance(self.parts[-1], str):
                pieces[-1] = re.escape(self.parts[-1][:-1])
            pieces.append("/?")
        return "".join(pieces)

    @property
    def static_paths(self) -> list[str]:
        """For a static rule, the paths it matches: its own, then the slash twin if not strict."""
        if not self.strict_slashes and self.rule != "/":
            twin = self.rule[:-1] if self.rule.endswith("/") else self.rule + "/"
            return [self.rule, twin]
        return [self.rule]

    @property
    def match_key(self) -> tuple[int, tuple[tuple[int, int], ...]]:
        """Sort key among dynamic rules; smaller is tried first (see module docstring)."""
        weights: list[tuple[int, int]] = []
        for part in self.parts:
            if isinstance(part, str):
                weights.extend((0, -len(segment)) for segment in part.split("/") if segment)
            else:
                weights.append((1, self.converters[part.name].weight))
        return -len(weights), tuple(weights)

    def match(self, path: str) -> dict[str, Any] | None:
        """Return the view arguments when ``path`` matches this rule, else None.

        Args:
            path: the decoded URL path.

        Returns:
            The defaults updated with the converted variables, or None.

        Raises:
            ValidationError: a converter rejected its value.
            RoutingError: the rule is not bound to a map yet.
        """
        if self.regex is None:
            raise RoutingError(f"rule {self.rule!r} is not in a map; add it with Map.add() first")
        found = self.regex.fullmatch(path)
        if found is None:
            return None
        values = dict(self.defaults)
        for (name, converter), text in zip(self.converters.items(), found.groups()):
            values[name] = converter.to_python(text)
        return values

    def is_buildable(self, values: Mapping[str, Any], method: str | None) -> bool:
        """Tell whether ``build`` can use this rule for ``values`` and ``method``.

        Args:
            values: the values given to build.
            method: the method the URL is for, or None for any.

        Returns:
            True when the method fits, every variable has a value and the
            given values agree with the rule's defaults.
        """
        if method is not None and method.upper() not in self.methods:
            return False
        if any(name in values and values[name] != value for name, value in self.defaults.items()):
            return False
        return all(values.get(name) is not None or name in self.defaults for name in self.arguments)

    def build_path(self, values: Mapping[str, Any]) -> str:
        """Return the path of this rule with ``values`` written by the converters.

        Args:
            values: a value for each variable (defaults fill the gaps).

        Returns:
            The percent-encoded path.

        Raises:
            KeyError: a variable has no value.
            ValidationError: a converter cannot write its value.
        """
        pieces: list[str] = []
        for part in self.parts:
            if isinstance(part, str):
                pieces.append(part)
            else:
                value = values[part.name] if values.get(part.name) is not None else self.defaults[part.name]
                pieces.append(self.converters[part.name].to_url(value))
        return "".join(pieces)


def _parse(rule: str) -> list[str | Variable]:
    parts: list[str | Variable] = []
    names: set[str] = set()
    pos = 0
    while pos < len(rule):
        start = rule.find("<", pos)
        text = rule[pos:] if start < 0 else rule[pos:start]
        if ">" in text:
            raise RoutingError(f"rule {rule!r}: unexpected '>' at column {pos + text.index('>')}; {_SYNTAX_HELP}")
        if text:
            parts.append(text)
        if start < 0:
            break
        found = _VARIABLE_RE.match(rule, start)
        if found is None:
            raise RoutingError(f"rule {rule!r}: malformed variable at column {start}; {_SYNTAX_HELP}")
        name = found["name"]
        if name in names:
            raise RoutingError(f"rule {rule!r}: variable {name!r} appears twice; give each variable its own name")
        names.add(name)
        args: tuple[Any, ...] = ()
        kwargs: dict[str, Any] = {}
        if found["args"] is not None:
            args, kwargs = parse_converter_args(found["args"])
        parts.append(Variable(name, found["converter"] or "default", args, kwargs))
        pos = found.end()
    return parts


def _make_converter(map: Map, part: Variable, rule: str) -> BaseConverter:
    try:
        cls = map.converters[part.converter]
    except KeyError:
        known = ", ".join(sorted(map.converters))
        raise RoutingError(
            f"rule {rule!r}: unknown converter {part.converter!r}; use one of {known}, "
            f"or register it first with map.converters[{part.converter!r}] = YourConverter"
        ) from None
    try:
        converter = cls(map, *part.args, **part.kwargs)
    except TypeError as exc:
        raise RoutingError(f"rule {rule!r}: converter {part.converter!r} rejects its arguments: {exc}") from None
    if re.compile(converter.regex).groups:
        raise RoutingError(
            f"rule {rule!r}: the regex of converter {part.converter!r} has capturing groups; use (?:...) instead"
        )
    return converter
