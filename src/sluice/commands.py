"""App commands: ``app.cli`` and ``bp.cli`` click groups, ``app.test_cli_runner()``.

Design: the groups are made on first use (``functools.cached_property``), and
``click`` is imported only then, so an app that has no commands does not load
it. The groups themselves (:class:`sluice.cli.AppGroup`) live with the
command line in :mod:`sluice.cli`. A blueprint's commands reach the app
when the blueprint is registered (:func:`register_commands`): as a group
named by ``cli_group`` (the blueprint's name by default), or merged into
``app.cli`` when ``cli_group`` is None.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING
from typing import Any
from typing import TypeVar

if TYPE_CHECKING:
    from sluice.cli import AppGroup
    from sluice.clirunner import AppCliRunner

F = TypeVar("F", bound=Callable[..., Any])


class CommandsMixin:
    """Gives a Blueprint (and, through :class:`AppCommandsMixin`, an App) its ``cli`` group."""

    @cached_property
    def cli(self) -> AppGroup:
        """The click group of commands, e.g. ``@app.cli.command()``; made on first use."""
        from sluice.cli import AppGroup

        return AppGroup(self._cli_name(), app=self._cli_app())

    def _cli_name(self) -> str | None:
        return None

    def _cli_app(self) -> Any:
        return None


class AppCommandsMixin(CommandsMixin):
    """Gives an App ``cli``, ``test_cli_runner()`` and the ``sluice shell`` namespace."""

    def _cli_name(self) -> str | None:
        return "sluice"

    def _cli_app(self) -> Any:
        return self

    def test_cli_runner(self, **kwargs: Any) -> AppCliRunner:
        """Return a click ``CliRunner`` whose ``invoke()`` runs this app's commands.

        Args:
            **kwargs: passed to :class:`click.testing.CliRunner`.

        Returns:
            The runner; ``runner.invoke(args=["cmd"])`` runs ``app.cli``'s
            ``cmd`` in the app's context.
        """
        from sluice.clirunner import AppCliRunner

        return AppCliRunner(self, **kwargs)

    @cached_property
    def shell_context_processors(self) -> list[Callable[[], dict[str, Any]]]:
        """Functions whose returned dicts add names to ``sluice shell``."""
        return []

    def shell_context_processor(self, func: F) -> F:
        """Register ``func() -> dict`` to add names to the ``sluice shell`` namespace."""
        self.shell_context_processors.append(func)
        return func

    def make_shell_context(self) -> dict[str, Any]:
        """Return the ``sluice shell`` namespace: ``app``, ``g`` and the processors' names."""
        from sluice.ctx import g

        namespace: dict[str, Any] = {"app": self, "g": g}
        for func in self.shell_context_processors:
            namespace.update(func())
        return namespace


def register_commands(app: Any, blueprint: Any, cli_group: str | None) -> None:
    """Attach ``blueprint``'s commands to ``app``; called by ``Blueprint.register``.

    Args:
        app: the app the blueprint is registered on.
        blueprint: the blueprint.
        cli_group: the name of the group the commands go in: the
            ``cli_group`` registration option if given, else
            ``blueprint.cli_group``; None merges them into ``app.cli``.
    """
    # A blueprint whose cli was never touched has no commands: keep click unloaded.
    group = vars(blueprint).get("cli")
    if group is None or not group.commands:
        return
    if cli_group is None:
        app.cli.commands.update(group.commands)
        return
    group.name = cli_group
    app.cli.add_command(group)
