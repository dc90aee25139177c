"""The click test runner of an app's commands, returned by ``app.test_cli_runner()``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import click
from click.testing import CliRunner
from click.testing import Result

from sluice.cli import ScriptInfo


class AppCliRunner(CliRunner):
    """A ``CliRunner`` bound to an app: ``invoke()`` defaults to ``app.cli``.

    Args:
        app: the app.
        **kwargs: passed to :class:`click.testing.CliRunner`.
    """

    def __init__(self, app: Any, **kwargs: Any) -> None:
        self.app = app
        super().__init__(**kwargs)

    def invoke(  # type: ignore[override]
        self, cli: click.Command | None = None, args: str | Sequence[str] | None = None, **kwargs: Any
    ) -> Result:
        """Run ``cli`` (default: ``app.cli``) with ``args`` in an isolated environment.

        Commands find the app through a :class:`sluice.cli.ScriptInfo` passed
        as ``obj`` (unless ``obj`` is given), so :func:`sluice.cli.with_appcontext`
        works for commands defined outside ``app.cli`` too.

        Args:
            cli: the command to run; default the app's group.
            args: the arguments, as a list or a shell-quoted string.
            **kwargs: passed to :meth:`click.testing.CliRunner.invoke`
                (``input``, ``env``, ``catch_exceptions``...).

        Returns:
            The click ``Result`` (``exit_code``, ``output``, ``exception``).
        """
        if cli is None:
            cli = self.app.cli
        kwargs.setdefault("obj", ScriptInfo(create_app=lambda: self.app))
        return super().invoke(cli, args, **kwargs)
