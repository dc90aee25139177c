"""Flashed messages: ``flash`` a message in one request, show it in the next.

Design: as in Flask, the messages wait in the session under ``_flashes``
as ``[category, message]`` pairs (lists once the session went through
JSON). The first ``get_flashed_messages()`` of a request takes them out of
the session, so they are shown once, and keeps them on the request
context, so every later call in the same request (the layout and the page
alike) sees the same list. Flask's session keeps ``Markup`` messages as
``Markup``; sluice's JSON session keeps a message with ``__html__`` as a
third item, ``"html"``, and gives it back as ``markupsafe.Markup`` (so
``flash(Markup("<b>Saved</b>"))`` is not escaped by the template).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sluice import signals
from sluice.ctx import _cv_request

_NO_REQUEST = (
    "{name}() works only while a request is handled (flashed messages live in the session); "
    "in tests, wrap the call in 'with app.test_request_context():'"
)

# The attribute of the request context that caches this request's messages.
_CACHE = "flashes"


def flash(message: str, category: str = "message") -> None:
    """Keep ``message`` in the session for the next ``get_flashed_messages()``.

    Args:
        message: the text (a value with ``__html__``, such as
            ``markupsafe.Markup``, is shown unescaped).
        category: a free label, e.g. ``"error"``, ``"info"`` (default ``"message"``).

    Raises:
        RuntimeError: outside a request, or no ``SECRET_KEY`` is set (the
            session cannot be written).
    """
    ctx = _cv_request.get(None)
    if ctx is None:
        raise RuntimeError(_NO_REQUEST.format(name="flash"))
    html = getattr(message, "__html__", None)
    entry: list[str] = [category, html()] if html is not None else [category, message]
    if html is not None:
        entry.append("html")
    session = ctx.session
    flashes = session.get("_flashes") or []
    flashes.append(entry)
    session["_flashes"] = flashes
    if signals.message_flashed.receivers:
        signals.message_flashed.send(ctx.app, message=message, category=category)


def get_flashed_messages(
    with_categories: bool = False, category_filter: Iterable[str] = ()
) -> list[str] | list[tuple[str, str]]:
    """Return the messages flashed for this request, taking them out of the session.

    Every call in one request returns the same messages; the next request
    sees only what was flashed after the first call.

    Args:
        with_categories: return ``(category, message)`` pairs instead of messages.
        category_filter: keep only these categories (all when empty).

    Returns:
        The messages (or pairs), oldest first.

    Raises:
        RuntimeError: outside a request.
    """
    ctx = _cv_request.get(None)
    if ctx is None:
        raise RuntimeError(_NO_REQUEST.format(name="get_flashed_messages"))
    flashes: list[tuple[str, Any]] | None = getattr(ctx, _CACHE, None)
    if flashes is None:
        session = ctx.session
        stored = session.pop("_flashes") if "_flashes" in session else []
        flashes = [_pair(item) for item in stored]
        setattr(ctx, _CACHE, flashes)
    if category_filter:
        wanted = set(category_filter) if not isinstance(category_filter, str) else {category_filter}
        flashes = [pair for pair in flashes if pair[0] in wanted]
    if with_categories:
        return list(flashes)
    return [message for _, message in flashes]


def _pair(item: Any) -> tuple[str, Any]:
    """One stored entry as ``(category, message)``; an ``"html"`` entry's message as Markup."""
    category, message, *kind = item
    if kind == ["html"]:
        from markupsafe import Markup

        message = Markup(message)
    return category, message
