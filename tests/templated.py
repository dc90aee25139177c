"""``App`` and ``Blueprint`` with the template API, for the template and flash tests.

TEMPORARY (issue 8): until ``sluice.App`` and ``sluice.Blueprint`` take
:class:`~sluice.templating.AppTemplating` and
:class:`~sluice.templating.BlueprintTemplating` as bases, this module
combines them; once they do, it gives the plain classes at run time, and
the tests' imports can go straight to ``sluice``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from typing import Any

import sluice
from sluice.templating import AppTemplating
from sluice.templating import BlueprintTemplating


class _TemplatedApp(sluice.App, AppTemplating):
    """sluice.App with the template API (temporary)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._init_templating()


class _TemplatedBlueprint(sluice.Blueprint, BlueprintTemplating):
    """sluice.Blueprint with the template API (temporary)."""


WIRED = issubclass(sluice.App, AppTemplating) and issubclass(sluice.Blueprint, BlueprintTemplating)

if TYPE_CHECKING or not WIRED:
    App = _TemplatedApp
    Blueprint = _TemplatedBlueprint
else:
    App = sluice.App
    Blueprint = sluice.Blueprint
