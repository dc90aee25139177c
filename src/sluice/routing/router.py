"""The URL map: holds the rules, matches a path and method, builds URLs back.

Design: ``freeze()`` compiles two structures so that a match costs little
whatever the number of rules. Static rules go into a dict ``path ->
{method: rule}``: a static match is two dict lookups, the same for the first
and the hundredth rule. Dynamic rules are sorted (see
:mod:`sluice.routing.rules`) and grouped by their literal first path segment
(``/users/<int:id>`` under ``users``; a rule with a variable in its first
segment goes into every group and a group of its own). Each group is joined
into ONE regex, an alternation of one branch per distinct rule pattern, each
branch ending with an empty marker group; a match looks the path's first
segment up, ``fullmatch`` tries that group's branches in order inside the
regex engine and ``lastindex`` (the marker) names the branch that matched.
That fast path
answers every request whose first matching branch has a rule for the method
and whose converters accept the values. Anything else (405, a converter
rejecting a value, OPTIONS on a path whose first rule lacks it) takes the slow
path, which walks the rules in order from that branch and collects the
allowed methods; a path matching nothing falls back only to the
strict-slashes check (path + ``/``). The map freezes itself on the first
``match``; adding a rule afterwards raises.

Paths are the decoded URL path (``PATH_INFO`` as text); the query string is
the caller's.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Mapping
from typing import Any
from typing import NamedTuple
from urllib.parse import quote
from urllib.parse import urlencode

from sluice.errors import BuildError
from sluice.errors import MethodNotAllowed
from sluice.errors import NotFound
from sluice.errors import RoutingError
from sluice.routing.converters import DEFAULT_CONVERTERS
from sluice.routing.converters import BaseConverter
from sluice.routing.converters import IntegerConverter
from sluice.routing.errors import RequestRedirect
from sluice.routing.errors import ValidationError
from sluice.routing.rules import Rule


def _to_python(converter: BaseConverter) -> Callable[[str], Any]:
    """``converter.to_python``, or the builtin that does the same for the stock text and unbounded int.

    PERF: a C call instead of a Python method per URL value (bench_router).
    """
    method = type(converter).to_python
    if method is BaseConverter.to_python:
        return str  # the text unchanged (str() of a str is the same object)
    if (
        method is IntegerConverter.to_python
        and isinstance(converter, IntegerConverter)
        and converter.min is None
        and converter.max is None
    ):
        return int  # the regex admits only [-]ASCII digits
    return converter.to_python


class _Branch:
    """One alternative of the dynamic regex: rules sharing a pattern, and their groups.

    ``plans`` holds, per rule, ``(name, to_python, group)`` for each URL
    variable (PERF: no per-request zip or attribute lookups, bench_router).
    """

    __slots__ = ("rules", "first", "plans")

    def __init__(self, first: int) -> None:
        self.rules: list[Rule] = []
        self.first = first  # index of rules[0] in the sorted dynamic rules
        self.plans: list[tuple[Rule, tuple[tuple[str, Callable[[str], Any], int], ...]]] = []


class _Alternation(NamedTuple):
    """One compiled regex over some dynamic rules, and its branches by marker group."""

    regex: re.Pattern[str] | None
    branches: dict[int, _Branch]


def _first_segment(rule: Rule) -> str | None:
    """The literal first path segment every path of ``rule`` has, or None (a variable in it)."""
    head = rule.parts[0]
    if not isinstance(head, str):
        return None
    end = head.find("/", 1)
    return head[1:end] if end > 0 else None


class Map:
    """The URL rules of an application, compiled for matching and building.

    Args:
        rules: rules to add right away, in priority order.

    Attributes:
        converters: converter classes by the name used in rules; register
            your own before adding rules that use them
            (``app.url_map.converters["name"] = Cls``).
    """

    def __init__(self, rules: Iterable[Rule] = ()) -> None:
        self.converters: dict[str, type[BaseConverter]] = dict(DEFAULT_CONVERTERS)
        self._rules: list[Rule] = []
        self._by_endpoint: dict[str, list[Rule]] = {}
        self._frozen = False
        self._static: dict[str, dict[str, Rule]] = {}
        self._dynamic: list[Rule] = []
        # Per first path segment: the regex of the dynamic rules that can match
        # under it and its branches by marker group; _any for other segments.
        self._by_segment: dict[str, _Alternation] = {}
        self._any: _Alternation = _Alternation(None, {})
        for rule in rules:
            self.add(rule)

    @property
    def is_frozen(self) -> bool:
        """True once the map was compiled; no rule can be added then."""
        return self._frozen

    def add(self, rule: Rule) -> None:
        """Bind ``rule`` to this map and register it.

        Args:
            rule: the rule; earlier rules win over later ones of equal rank.

        Raises:
            RoutingError: the map is frozen, or the rule cannot be bound
                (unknown converter, bad converter arguments).
        """
        if self._frozen:
            raise RoutingError(
                f"cannot add rule {rule.rule!r}: the URL map is frozen (it has matched a request or "
                "freeze() was called); register every route before the application serves requests"
            )
        rule.bind(self)
        self._rules.append(rule)
        self._by_endpoint.setdefault(rule.endpoint, []).append(rule)

    def iter_rules(self, endpoint: str | None = None) -> Iterator[Rule]:
        """Iterate over the rules in registration order.

        Args:
            endpoint: only the rules of this endpoint.

        Returns:
            An iterator of rules.
        """
        return iter(self._rules if endpoint is None else self._by_endpoint.get(endpoint, []))

    def is_endpoint_expecting(self, endpoint: str, *arguments: str) -> bool:
        """Whether a rule of ``endpoint`` has every one of ``arguments`` as a URL variable.

        For ``url_defaults`` functions that add a value only where the URL
        takes it.
        """
        wanted = set(arguments)
        return any(wanted <= rule.arguments for rule in self._by_endpoint.get(endpoint, ()))

    def freeze(self) -> None:
        """Compile the static table and the dynamic regex; later ``add`` raises.

        Calling it again does nothing.
        """
        if self._frozen:
            return
        static: dict[str, dict[str, Rule]] = {}
        twins: list[tuple[str, Rule]] = []
        for rule in self._rules:
            if rule.is_static:
                own, *others = rule.static_paths
                methods = static.setdefault(own, {})
                for method in rule.methods:
                    methods.setdefault(method, rule)
                twins.extend((path, rule) for path in others)
        # NOTE: a non-strict rule's slash twin ranks below every rule written for that exact path.
        for path, rule in twins:
            methods = static.setdefault(path, {})
            for method in rule.methods:
                methods.setdefault(method, rule)
        self._static = static
        self._dynamic = sorted((rule for rule in self._rules if not rule.is_static), key=lambda rule: rule.match_key)
        self._compile_dynamic()
        self._frozen = True

    def _compile_dynamic(self) -> None:
        keyed: dict[str, list[int]] = {}
        anywhere: list[int] = []
        for index, rule in enumerate(self._dynamic):
            segment = _first_segment(rule)
            if segment is None:
                anywhere.append(index)
            else:
                keyed.setdefault(segment, []).append(index)
        self._any = self._alternation(anywhere)
        # PERF: a path is tried only against the rules that can match its
        # first segment (plus those with a variable there), in priority order,
        # so a rule's cost does not grow with the rules under other prefixes
        # (bench_router, benchmarks/framework.py).
        self._by_segment = {
            segment: self._alternation(sorted(indices + anywhere)) for segment, indices in keyed.items()
        }

    def _alternation(self, indices: list[int]) -> _Alternation:
        """Compile the dynamic rules at ``indices`` (ascending) into one regex with a branch per pattern."""
        by_pattern: dict[str, _Branch] = {}
        order: list[tuple[str, _Branch]] = []
        for index in indices:
            rule = self._dynamic[index]
            pattern = rule.pattern
            branch = by_pattern.get(pattern)
            if branch is None:
                branch = by_pattern[pattern] = _Branch(index)
                order.append((pattern, branch))
            branch.rules.append(rule)
        sources: list[str] = []
        group = 0
        branches: dict[int, _Branch] = {}
        for pattern, branch in order:
            count = len(branch.rules[0].arguments)
            groups = range(group + 1, group + count + 1)
            branch.plans = [
                (
                    rule,
                    tuple(
                        (name, _to_python(converter), index)
                        for (name, converter), index in zip(rule.converters.items(), groups)
                    ),
                )
                for rule in branch.rules
            ]
            group += count + 1
            branches[group] = branch
            sources.append(f"(?:{pattern})()")
        return _Alternation(re.compile("|".join(sources)) if sources else None, branches)

    def _find(self, path: str) -> tuple[re.Match[str], _Branch] | None:
        """The first dynamic branch matching ``path`` and its match, or None."""
        try:
            # A path starts with "/", so item 1 is its first segment ("" for "/").
            segment = path.split("/", 2)[1]
        except IndexError:
            segment = ""  # no "/" at all: only rules with a variable first could match
        alternation = self._by_segment.get(segment, self._any)
        regex = alternation.regex
        found = regex.fullmatch(path) if regex is not None else None
        if found is None:
            return None
        return found, alternation.branches[found.lastindex]  # type: ignore[index]

    def match(self, path: str, method: str) -> tuple[Rule, dict[str, Any]]:
        """Find the rule for ``path`` and ``method`` and convert the URL's values.

        An ``OPTIONS`` request matches the first rule of the path (every rule
        accepts it); answer it with :meth:`allowed_methods`.

        Args:
            path: the decoded URL path, starting with ``/``.
            method: the upper-case request method.

        Returns:
            The rule and the view arguments (defaults plus converted values).

        Raises:
            NotFound: no rule matches the path.
            MethodNotAllowed: rules match the path but not the method;
                ``valid_methods`` lists every method they accept.
            RequestRedirect: only ``path + "/"`` matches, by a strict rule.
        """
        if not self._frozen:
            self.freeze()
        methods = self._static.get(path)
        if methods is not None:
            rule = methods.get(method)
            if rule is not None:
                return rule, dict(rule.defaults) if rule.defaults else {}
            return self._match_slow(path, method)
        matched = self._find(path)
        if matched is None:
            raise self._no_match(path)
        found, branch = matched
        for rule, plan in branch.plans:
            if method in rule.methods:
                values = dict(rule.defaults) if rule.defaults else {}
                try:
                    for name, to_python, index in plan:
                        values[name] = to_python(found[index])
                except ValidationError:
                    break
                return rule, values
        return self._match_slow(path, method)

    def _candidates(self, path: str) -> Iterator[tuple[Rule, dict[str, Any]]]:
        """Yield every rule matching ``path`` (any method), in priority order."""
        methods = self._static.get(path)
        if methods is not None:
            seen: list[Rule] = []
            for rule in methods.values():
                if rule not in seen:
                    seen.append(rule)
            for rule in sorted(seen, key=self._rules.index):
                yield rule, dict(rule.defaults)
        matched = self._find(path)
        if matched is None:
            return
        # PERF: rules before the first matching branch cannot match (bench_router: 405 on a static path).
        for rule in self._dynamic[matched[1].first :]:
            try:
                values = rule.match(path)
            except ValidationError:
                continue
            if values is not None:
                yield rule, values

    def _match_slow(self, path: str, method: str) -> tuple[Rule, dict[str, Any]]:
        allowed: set[str] = set()
        for rule, values in self._candidates(path):
            if method in rule.methods:
                return rule, values
            allowed |= rule.methods
        if allowed:
            raise MethodNotAllowed(valid_methods=sorted(allowed))
        raise self._no_match(path)

    def _no_match(self, path: str) -> NotFound | RequestRedirect:
        if not path.endswith("/"):
            # NOTE: redirect whatever the method; 308 keeps it, so a wrong one gets its 405 at the new URL.
            slashed = path + "/"
            for rule, _ in self._candidates(slashed):
                if rule.strict_slashes and rule.rule.endswith("/"):
                    return RequestRedirect(slashed)
        return NotFound()

    def allowed_methods(self, path: str) -> list[str]:
        """Return the methods the rules matching ``path`` accept, for an ``Allow`` header.

        Args:
            path: the decoded URL path.

        Returns:
            The sorted methods (``HEAD`` and ``OPTIONS`` included), or an
            empty list when no rule matches.
        """
        if not self._frozen:
            self.freeze()
        allowed: set[str] = set()
        for rule, _ in self._candidates(path):
            allowed |= rule.methods
        return sorted(allowed)

    def build(
        self,
        endpoint: str,
        values: Mapping[str, Any] | None = None,
        method: str | None = None,
        append_unknown: bool = True,
        anchor: str | None = None,
    ) -> str:
        """Return the URL path (with query string and anchor) of ``endpoint``.

        Among the endpoint's rules, those whose defaults equal the given
        values are tried first, then those with more variables; the first
        that has every variable it needs is used.

        Args:
            endpoint: the endpoint name.
            values: the variables of the rule; any other non-None values go
                to the query string (a list repeats the key).
            method: build only with a rule accepting this method.
            append_unknown: put unknown values in the query string (else
                drop them).
            anchor: a fragment appended after ``#``.

        Returns:
            The percent-encoded path, e.g. ``/users/42?tab=posts``.

        Raises:
            BuildError: the endpoint is unknown, no rule fits the method, a
                value is missing, or a converter rejects a value.
        """
        values = dict(values or {})
        rules = self._by_endpoint.get(endpoint)
        if not rules:
            close = difflib.get_close_matches(endpoint, list(self._by_endpoint), n=3)
            hint = f" Did you mean {' or '.join(repr(name) for name in close)}?" if close else ""
            raise BuildError(
                f"Could not build url for endpoint {endpoint!r}: no rule has this endpoint.{hint} "
                "Check the name given to url_for() or register a route for it."
            )
        ordered = sorted(rules, key=lambda rule: (-len(rule.defaults), -len(rule.arguments)))
        rule = next((rule for rule in ordered if rule.is_buildable(values, method)), None)
        if rule is None:
            raise BuildError(self._build_failure(endpoint, ordered, values, method))
        try:
            path = rule.build_path(values)
        except ValidationError as exc:
            raise BuildError(f"Could not build url for endpoint {endpoint!r}: {exc}; pass a valid value") from None
        if append_unknown:
            query = [
                (key, item)
                for key, value in values.items()
                if key not in rule.arguments and key not in rule.defaults
                for item in (value if isinstance(value, (list, tuple)) else [value])
                if item is not None
            ]
            if query:
                path += "?" + urlencode(query)
        if anchor is not None:
            path += "#" + quote(anchor, safe="!$&'()*+,;=:@/?")
        return path

    @staticmethod
    def _build_failure(endpoint: str, rules: list[Rule], values: Mapping[str, Any], method: str | None) -> str:
        if method is not None:
            fitting = [rule for rule in rules if method.upper() in rule.methods]
            if not fitting:
                accepted = sorted(set().union(*(rule.methods for rule in rules)))
                return (
                    f"Could not build url for endpoint {endpoint!r} with method {method.upper()!r}; "
                    f"its rules accept {', '.join(accepted)}"
                )
            rules = fitting
        rule = rules[0]
        missing = sorted(
            name for name in rule.arguments if values.get(name) is None and name not in rule.defaults
        )
        if missing:
            return (
                f"Could not build url for endpoint {endpoint!r}: missing value(s) for {', '.join(missing)} "
                f"(rule {rule.rule!r}); pass them, e.g. url_for({endpoint!r}, {missing[0]}=...)"
            )
        clashes = sorted(name for name, value in rule.defaults.items() if name in values and values[name] != value)
        return (
            f"Could not build url for endpoint {endpoint!r}: value(s) for {', '.join(clashes)} differ from "
            f"the defaults of rule {rule.rule!r}; drop them or pass the default"
        )
