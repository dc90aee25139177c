"""Microseconds per ``Map.match`` on a 100-rule map, static and dynamic, hit and miss.

The map holds 60 static rules and 40 dynamic ones (``int``, ``string``,
``path``, several segments), like a mid-sized application. Cases: the first
registered static rule, the last one, ``/users/<int:id>`` (a dynamic rule in
the middle of the sorted list), the last dynamic rule, and a 404. Werkzeug's
router, when installed, runs the same cases as a peer. Run pinned to one
core:

    taskset -c 0 python benchmarks/bench_router.py
"""

from __future__ import annotations

import statistics
import timeit
from collections.abc import Callable

from sluice.errors import NotFound
from sluice.routing import Map
from sluice.routing import Rule

REPEAT = 15
NUMBER = 20_000


def make_rules() -> list[tuple[str, str]]:
    """Return the 100 (rule, endpoint) pairs of the benchmark map, in registration order."""
    rules = [("/", "index")]
    rules += [(f"/static/page{i}", f"page{i}") for i in range(58)]
    for i in range(19):
        rules.append((f"/api/v{i}/items/<int:item_id>", f"item{i}"))
        rules.append((f"/blog/{i}/<slug>/comments/<int:cid>", f"comment{i}"))
    rules.append(("/users/<int:id>", "user"))
    rules.append(("/files/<path:name>", "files"))
    rules.append(("/zz/last/static", "last_static"))
    return rules


CASES = [
    ("static first", "/"),
    ("static last", "/zz/last/static"),
    ("/users/<int:id>", "/users/42"),
    ("dynamic last (path)", "/files/a/b/c.txt"),
    ("404", "/no/such/page"),
]


def time_us(func: Callable[[], object]) -> float:
    """Return the median microseconds per call of ``func``."""
    runs = timeit.repeat(func, repeat=REPEAT, number=NUMBER)
    return statistics.median(runs) / NUMBER * 1e6


def sluice_matcher() -> Callable[[str], object]:
    """Return a function matching a GET path on the frozen sluice map (404 swallowed)."""
    url_map = Map(Rule(rule, endpoint) for rule, endpoint in make_rules())
    url_map.freeze()

    def match(path: str) -> object:
        try:
            return url_map.match(path, "GET")
        except NotFound:
            return None

    return match


def werkzeug_matcher() -> Callable[[str], object] | None:
    """Return the same matcher on Werkzeug's router, or None when not installed."""
    try:
        from werkzeug.exceptions import NotFound as WerkzeugNotFound
        from werkzeug.routing import Map as WerkzeugMap
        from werkzeug.routing import Rule as WerkzeugRule
    except ImportError:
        return None
    adapter = WerkzeugMap([WerkzeugRule(rule, endpoint=endpoint) for rule, endpoint in make_rules()]).bind("localhost")

    def match(path: str) -> object:
        try:
            return adapter.match(path, "GET")
        except WerkzeugNotFound:
            return None

    return match


def main() -> None:
    """Print one line per case: sluice µs, and Werkzeug µs and the ratio when available."""
    ours = sluice_matcher()
    peer = werkzeug_matcher()
    for name, path in CASES:
        if (ours(path) is None) != (name == "404"):
            raise SystemExit(f"benchmark map is wrong: {path} should {'not ' if name == '404' else ''}match")
        mine = time_us(lambda: ours(path))
        line = f"{name:<22} sluice {mine:7.3f} us"
        if peer is not None:
            theirs = time_us(lambda: peer(path))
            line += f"   werkzeug {theirs:7.3f} us   x{theirs / mine:5.1f}"
        print(line)


if __name__ == "__main__":
    main()
