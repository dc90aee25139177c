"""``sluice.json``: JSON with the app's settings, as ``flask.json`` offers it.

Design: one encoder, :func:`sluice.bodies.json_text` (with
:func:`sluice.bodies.json_default` for dates, decimals, UUIDs, dataclasses
and markup), is used by ``make_response``, the direct answer, ``jsonify``
and these functions, so they cannot disagree. ``app.json`` is a
:class:`JSONProvider` whose ``sort_keys`` is ``config["JSON_SORT_KEYS"]``.
"""

from __future__ import annotations

import json as _json
from typing import Any

from sluice.bodies import json_default
from sluice.bodies import json_text
from sluice.ctx import _active_app_ctx
from sluice.helpers import jsonify as jsonify

__all__ = ["JSONProvider", "dumps", "jsonify", "loads"]


class JSONProvider:
    """``app.json``: ``dumps``, ``loads`` and ``response`` with the app's settings.

    Args:
        app: the app whose config it reads.
    """

    def __init__(self, app: Any) -> None:
        self._app = app

    @property
    def sort_keys(self) -> bool:
        """Whether object keys are sorted (``config["JSON_SORT_KEYS"]``)."""
        return bool(self._app.config.get("JSON_SORT_KEYS", True))

    @sort_keys.setter
    def sort_keys(self, value: bool) -> None:
        self._app.config["JSON_SORT_KEYS"] = value

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        """``obj`` as JSON: compact and with the app's key order, unless ``kwargs`` say otherwise."""
        if not kwargs:
            return json_text(obj, self._app.config)
        kwargs.setdefault("sort_keys", self.sort_keys)
        kwargs.setdefault("default", json_default)
        return _json.dumps(obj, **kwargs)

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        """Parse JSON text (``str`` or UTF-8 ``bytes``).

        Raises:
            ValueError: not JSON.
        """
        return _json.loads(s, **kwargs)

    def response(self, *args: Any, **kwargs: Any) -> Any:
        """A JSON response, as :func:`sluice.jsonify`."""
        return jsonify(*args, **kwargs)


def dumps(obj: Any, **kwargs: Any) -> str:
    """``obj`` as JSON, with the current app's settings when there is one."""
    ctx = _active_app_ctx()
    if ctx is not None:
        provider: JSONProvider = getattr(ctx.app, "json")
        return provider.dumps(obj, **kwargs)
    if not kwargs:
        return json_text(obj, {})
    kwargs.setdefault("default", json_default)
    return _json.dumps(obj, **kwargs)


def loads(s: str | bytes, **kwargs: Any) -> Any:
    """Parse JSON text.

    Raises:
        ValueError: not JSON.
    """
    return _json.loads(s, **kwargs)
