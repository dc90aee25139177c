"""The ``sluice`` command: ``serve`` an app, ``config``, ``routes``, ``shell`` and the app's commands.

Design: the command line is a ``click`` group. ``--app`` (or ``SLUICE_APP``)
names the app as ``MODULE``, ``MODULE:NAME`` or ``MODULE:factory(args)``; the
app is imported only when a command needs it, so ``sluice serve`` of a Django
app and ``sluice --help`` never load the framework. The app's own commands
(``app.cli``, an :class:`AppGroup`) are looked up by name when the built-in
ones do not match, and run inside an application context that is popped,
with the command's exception, after the command. ``main(argv)`` returns an
exit code instead of exiting, so tests call it directly. This is the one
module that joins the app side and the server.
"""

from __future__ import annotations

import ast
import contextlib
import functools
import importlib
import inspect
import logging
import os
import sys
import traceback
from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any
from typing import TypeVar
from typing import cast
from typing import overload

import click

from sluice import __version__
from sluice.config import SETTINGS
from sluice.config import Config
from sluice.config import _show
from sluice.config import resolve
from sluice.errors import AppImportError
from sluice.errors import ConfigError

log = logging.getLogger("sluice.error")

#: Exit status when the app cannot be imported (distinct from a crash).
EXIT_APP_LOAD = 3
#: Exit status for a bad setting, a failed bind or a usage error.
EXIT_CONFIG = 2

F = TypeVar("F", bound=Callable[..., Any])

_TRIED = "attributes 'app' and 'application', a single App instance, factories 'create_app' and 'make_app'"


# -- finding the app -------------------------------------------------------------


def _is_sluice_app(obj: object) -> bool:
    # NOTE: without sluice.app imported nothing can be an App, and importing
    # it here would load the framework for `sluice serve` of a Django app.
    app_module = sys.modules.get("sluice.app")
    return app_module is not None and isinstance(obj, app_module.App)


def _takes_no_arguments(func: Callable[..., Any]) -> bool:
    """True for a factory's signature; a WSGI app takes two (maybe ``*args``, as middleware does)."""
    try:
        signature = inspect.signature(func)
    except ValueError:  # no signature (a builtin)
        return False
    return all(
        param.default is not param.empty or param.kind is param.VAR_KEYWORD
        for param in signature.parameters.values()
        if param.kind is not param.VAR_POSITIONAL
    ) and not any(param.kind is param.VAR_POSITIONAL for param in signature.parameters.values())


def _call_factory(func: Callable[..., Any], expr: str, *args: Any, **kwargs: Any) -> Any:
    try:
        return func(*args, **kwargs)
    except Exception as exc:
        raise AppImportError(f"calling {expr!r} failed: {type(exc).__name__}: {exc}") from exc


def _find_app(module: Any, module_name: str) -> Any:
    """Flask's discovery rules, then any WSGI callable named ``app`` or ``application``."""
    for name in ("app", "application"):
        if _is_sluice_app(getattr(module, name, None)):
            return getattr(module, name)
    found = {name: value for name, value in vars(module).items() if _is_sluice_app(value)}
    if len(found) == 1:
        return next(iter(found.values()))
    if len(found) > 1:
        names = ", ".join(repr(f"{module_name}:{name}") for name in sorted(found))
        raise AppImportError(f"module {module_name!r} holds several apps ({names}); pass one of them")
    for name in ("create_app", "make_app"):
        factory = getattr(module, name, None)
        if inspect.isfunction(factory):
            if not _takes_no_arguments(factory):
                raise AppImportError(
                    f"found factory {name!r} in module {module_name!r}, but it needs arguments; "
                    f"pass them, e.g. '{module_name}:{name}(\"value\")'"
                )
            return _call_factory(factory, f"{name}()")
    # Any PEP 3333 app (Flask, Django, Pyramid) under the usual names.
    for name in ("app", "application"):
        if callable(getattr(module, name, None)):
            return getattr(module, name)
    raise AppImportError(f"no app found in module {module_name!r} (tried {_TRIED}); pass MODULE:NAME")


def load_app(target: str) -> Any:
    """Import ``MODULE``, ``MODULE:ATTR`` or ``MODULE:factory(args)`` and return the app.

    The current directory is put first on ``sys.path``, as gunicorn does, so
    ``sluice serve app:app`` works from a project folder. ``ATTR`` may be a
    dotted path; a function ``ATTR`` that takes no arguments is a factory and
    is called (a WSGI function takes two); ``factory(...)`` is called with
    literal arguments only. Without ``ATTR`` the module is searched as Flask
    does: ``app`` or ``application`` if it is a sluice App, else the only App
    in the module, else ``create_app()`` or ``make_app()``, else a WSGI
    callable named ``app`` or ``application``.

    Raises:
        AppImportError: the target is malformed, the import fails, the
            attribute is missing, a factory raises or the result is not
            callable.
    """
    module_name, sep, expr = target.partition(":")
    if not module_name or not sep and target.endswith(")"):
        raise AppImportError(f"invalid app target {target!r}; expected MODULE:ATTR or MODULE:factory()")
    cwd = os.getcwd()
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        missing = exc.name if isinstance(exc, ModuleNotFoundError) else None
        if missing and (module_name == missing or module_name.startswith(missing + ".")):
            raise AppImportError(f"no module named {module_name!r} (searched from {cwd})") from exc
        raise AppImportError(f"importing {module_name!r} failed: {exc}") from exc
    except Exception as exc:
        raise AppImportError(f"importing {module_name!r} failed: {type(exc).__name__}: {exc}") from exc
    if not expr.strip():
        obj = _find_app(module, module_name)
    else:
        obj = _eval_target(module, module_name, expr, target)
    if not callable(obj):
        raise AppImportError(f"{target!r} is a {type(obj).__name__}, not a WSGI application (a callable)")
    return obj


def _eval_target(module: Any, module_name: str, expr: str, target: str) -> Any:
    try:
        node = ast.parse(expr.strip(), mode="eval").body
    except SyntaxError:
        raise AppImportError(f"invalid app target {target!r}; expected MODULE:ATTR or MODULE:factory()") from None
    call: ast.Call | None = None
    if isinstance(node, ast.Call):
        call, node = node, node.func
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.insert(0, node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        raise AppImportError(f"invalid app target {target!r}; expected MODULE:ATTR or MODULE:factory()")
    parts.insert(0, node.id)
    obj: Any = module
    for part in parts:
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise AppImportError(f"module {module_name!r} has no attribute {'.'.join(parts)!r}") from None
    if call is not None:
        try:
            args = [ast.literal_eval(a) for a in call.args]
            kwargs = {k.arg: ast.literal_eval(k.value) for k in call.keywords if k.arg}
        except ValueError:
            raise AppImportError(f"factory arguments in {target!r} must be literals") from None
        return _call_factory(obj, expr.strip(), *args, **kwargs)
    if not _is_sluice_app(obj) and inspect.isfunction(obj) and _takes_no_arguments(obj):
        return _call_factory(obj, f"{expr.strip()}()")
    return obj


class NoAppError(click.UsageError):
    """No app was named and none was found in the current directory."""


class AppLoadError(click.ClickException):
    """The app could not be loaded; shown as one line, with the traceback when user code raised.

    Args:
        error: the loading error.
    """

    exit_code = EXIT_APP_LOAD

    def __init__(self, error: AppImportError) -> None:
        super().__init__(f"cannot load the app: {error}")
        self.error = error

    def report(self) -> str:
        """Return the traceback of a failure in the app's code, then the message."""
        cause = self.error.__cause__
        lines = []
        # A module that is not there is the user's typo, not a crash to debug.
        if cause is not None and not isinstance(cause, ModuleNotFoundError):
            lines.append("".join(traceback.format_exception(cause)).rstrip())
        lines.append(f"Error: {self.format_message()}")
        return "\n".join(lines)

    def show(self, file: Any = None) -> None:
        """Print :meth:`report` to stderr."""
        click.echo(self.report(), err=True)


class ScriptInfo:
    """What the command line knows about the app: how to load it, and the loaded app.

    Args:
        app_import_path: ``MODULE[:NAME|:factory(args)]`` from ``--app`` or
            ``SLUICE_APP``; without it (and without ``create_app``),
            ``wsgi.py`` then ``app.py`` in the current directory are tried.
        create_app: a function returning the app, used instead of importing
            (``app.test_cli_runner()`` passes one).
    """

    def __init__(self, app_import_path: str | None = None, create_app: Callable[[], Any] | None = None) -> None:
        self.app_import_path = app_import_path
        self.create_app = create_app
        self._loaded: Any = None

    @property
    def has_app(self) -> bool:
        """True when an app was named, given, or is discoverable in the current directory."""
        return bool(self.app_import_path or self.create_app or self._default_module())

    @staticmethod
    def _default_module() -> str | None:
        for name in ("wsgi", "app"):
            if os.path.isfile(f"{name}.py"):
                return name
        return None

    def load_wsgi_app(self) -> Any:
        """Load (once) and return the app, which may be any WSGI callable.

        Raises:
            NoAppError: no app was named and none found.
            AppLoadError: loading failed.
        """
        if self._loaded is not None:
            return self._loaded
        try:
            if self.create_app is not None:
                app = self.create_app()
            else:
                target = self.app_import_path or self._default_module()
                if target is None:
                    raise NoAppError(
                        "no app given: pass --app MODULE[:NAME], set SLUICE_APP, "
                        "or run in a folder with wsgi.py or app.py"
                    )
                app = load_app(target)
        except AppImportError as exc:
            raise AppLoadError(exc) from exc
        self._loaded = app
        return app

    def load_app(self) -> Any:
        """Load (once) and return the app, which must be a sluice App.

        Raises:
            NoAppError: no app was named and none found.
            AppLoadError: loading failed or the object is not a sluice App.
        """
        app = self.load_wsgi_app()
        if not _is_sluice_app(app):
            where = self.app_import_path or "the app"
            raise AppLoadError(
                AppImportError(f"{where!r} is a {type(app).__name__}, not a sluice App; this command needs one")
            )
        return app


# -- the application context around app commands ----------------------------------


@contextlib.contextmanager
def _app_context(app: Any) -> Iterator[None]:
    """Push ``app``'s context unless it is active; pop it with the command's exception."""
    from sluice.ctx import current_app
    from sluice.ctx import has_app_context

    if has_app_context() and cast(Any, current_app)._get_current_object() is app:
        yield
        return
    ctx = app.app_context()
    ctx.push()
    error: BaseException | None = None
    try:
        yield
    except click.exceptions.Exit:
        # ctx.exit(): the command ended as it chose; not an error for teardown.
        raise
    except BaseException as exc:
        error = exc
        raise
    finally:
        ctx.pop(error)


def _app_for(ctx: click.Context) -> Any:
    for node in _lineage(ctx):
        if isinstance(node.command, AppGroup) and node.command.app is not None:
            return node.command.app
    info = ctx.find_object(ScriptInfo)
    if info is None:
        raise NoAppError("no app for this command: run it as 'sluice --app MODULE COMMAND' or with app.test_cli_runner()")
    return info.load_app()


def _lineage(ctx: click.Context) -> Iterator[click.Context]:
    node: click.Context | None = ctx
    while node is not None:
        yield node
        node = node.parent


def with_appcontext(f: F) -> F:
    """Run the decorated click callback inside the app's application context.

    The app comes from the ``sluice --app`` option, ``app.test_cli_runner()``
    or the ``app.cli`` group the command belongs to. ``teardown_appcontext``
    functions run after the callback and receive the exception it raised.
    """

    @click.pass_context
    def decorator(ctx: click.Context, /, *args: Any, **kwargs: Any) -> Any:
        with _app_context(_app_for(ctx)):
            return ctx.invoke(f, *args, **kwargs)

    return functools.update_wrapper(decorator, f)  # type: ignore[return-value]


class AppGroup(click.Group):
    """A click group whose commands run inside the application context (``app.cli``, ``bp.cli``).

    ``command()`` wraps callbacks with :func:`with_appcontext` unless given
    ``with_appcontext=False``; ``group()`` makes nested ``AppGroup``\\s.

    Args:
        name: the group's name.
        app: the app whose commands these are (None for a blueprint's group,
            which may be registered on several apps).
        **attrs: passed to :class:`click.Group`.
    """

    def __init__(self, name: str | None = None, app: Any = None, **attrs: Any) -> None:
        super().__init__(name, **attrs)
        self.app = app

    @overload
    def command(self, __func: Callable[..., Any]) -> click.Command: ...

    @overload
    def command(self, *args: Any, **kwargs: Any) -> Callable[[Callable[..., Any]], click.Command]: ...

    def command(self, *args: Any, **kwargs: Any) -> Any:
        """Declare a command (as ``click.Group.command``) that runs in the app context."""
        wrap = kwargs.pop("with_appcontext", True)
        if len(args) == 1 and callable(args[0]) and not kwargs:
            # @app.cli.command without parentheses
            return self.command(with_appcontext=wrap)(args[0])

        def decorator(f: Callable[..., Any]) -> click.Command:
            if wrap:
                f = with_appcontext(f)
            return super(AppGroup, self).command(*args, **kwargs)(f)  # type: ignore[no-any-return]

        return decorator

    @overload
    def group(self, __func: Callable[..., Any]) -> AppGroup: ...

    @overload
    def group(self, *args: Any, **kwargs: Any) -> Callable[[Callable[..., Any]], AppGroup]: ...

    def group(self, *args: Any, **kwargs: Any) -> Any:
        """Declare a nested group (as ``click.Group.group``), an ``AppGroup`` by default."""
        kwargs.setdefault("cls", AppGroup)
        return super().group(*args, **kwargs)

    def invoke(self, ctx: click.Context) -> Any:
        """Run the subcommand inside the app context, so plain click commands get it too."""
        if self.app is None:
            return super().invoke(ctx)
        with _app_context(self.app):
            return super().invoke(ctx)


# -- the sluice group ------------------------------------------------------------------

_STACK = "sluice.cli.app_context"


def _set_app(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if value:
        ctx.ensure_object(ScriptInfo).app_import_path = value


_app_option = click.Option(
    ["-A", "--app"],
    metavar="MODULE[:NAME]",
    envvar="SLUICE_APP",
    is_eager=True,
    expose_value=False,
    callback=_set_app,
    help="The app: MODULE, MODULE:NAME or 'MODULE:factory(args)' [env SLUICE_APP].",
)


class SluiceGroup(click.Group):
    """The ``sluice`` command: built-in commands, then the app's commands, loaded on demand."""

    def make_context(
        self, info_name: str | None, args: list[str], parent: click.Context | None = None, **extra: Any
    ) -> click.Context:
        """Start with an empty :class:`ScriptInfo` unless the caller passes ``obj``."""
        extra.setdefault("obj", ScriptInfo())
        return super().make_context(info_name, args, parent, **extra)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """Read ``SLUICE_APP`` before ``--help`` prints the command list."""
        if not args or args[0] in ctx.help_option_names:
            _app_option.handle_parse_result(ctx, {}, [])
        return super().parse_args(ctx, args)

    def _app_commands(self, ctx: click.Context) -> click.Group | None:
        app = ctx.ensure_object(ScriptInfo).load_app()
        group = getattr(app, "cli", None)
        return group if isinstance(group, click.Group) else None

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """A built-in command, else the app's command of that name (in the app's context when run)."""
        command = super().get_command(ctx, cmd_name)
        info = ctx.ensure_object(ScriptInfo)
        if command is not None or not info.has_app:
            return command
        group = self._app_commands(ctx)
        command = group.get_command(ctx, cmd_name) if group is not None else None
        stack = ctx.meta.get(_STACK)
        if command is not None and stack is not None:
            stack.enter_context(_app_context(info.load_app()))
        return command

    def list_commands(self, ctx: click.Context) -> list[str]:
        """The built-in commands and, when the app loads, its commands."""
        names = set(super().list_commands(ctx))
        info = ctx.ensure_object(ScriptInfo)
        if info.has_app:
            try:
                group = self._app_commands(ctx)
            except click.ClickException as exc:
                if not ctx.resilient_parsing:
                    click.echo(f"Error: {exc.format_message()} (its commands are not listed)\n", err=True)
            else:
                if group is not None:
                    names.update(group.list_commands(ctx))
        return sorted(names)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        """As click, with a hint when an unknown command may be the app's and no app was given."""
        try:
            return super().resolve_command(ctx, args)
        except click.UsageError as exc:
            if ctx.ensure_object(ScriptInfo).has_app:
                raise
            hint = "To run an app's command, name the app with --app MODULE or SLUICE_APP."
            raise click.UsageError(f"{exc.message} {hint}", exc.ctx) from None

    def invoke(self, ctx: click.Context) -> Any:
        """Invoke the subcommand; an app context pushed for it is popped afterwards, with its exception."""
        with contextlib.ExitStack() as stack:
            ctx.meta[_STACK] = stack
            try:
                return super().invoke(ctx)
            finally:
                del ctx.meta[_STACK]


@click.group(
    cls=SluiceGroup,
    help="sluice: a WSGI framework and server.",
    epilog="The app's own commands (app.cli) are listed too when --app or SLUICE_APP names the app.",
    params=[_app_option],
)
@click.version_option(__version__, prog_name="sluice", message="%(prog)s %(version)s")
def cli() -> None:
    """The top-level ``sluice`` group."""


# -- logging -------------------------------------------------------------------------------


class _ErrorFormatter(logging.Formatter):
    """The error log's lines; a record emitted while a request runs names its id after the level."""

    def __init__(self) -> None:
        super().__init__("[%(asctime)s] [%(process)d] [%(levelname)s] %(message)s", "%Y-%m-%d %H:%M:%S %z")
        self._with_id = logging.PercentStyle(
            "[%(asctime)s] [%(process)d] [%(levelname)s] [%(request_id)s] %(message)s"
        )

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 - logging's name
        if getattr(record, "request_id", None):
            return self._with_id.format(record)
        return super().formatMessage(record)


def configure_logging(config: Config) -> None:
    """Send sluice's error log to stderr at ``config.log_level``."""
    logger = logging.getLogger("sluice")
    logger.setLevel(config.log_level.upper())
    if not any(getattr(h, "_sluice", False) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(_ErrorFormatter())
        handler._sluice = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
    logger.propagate = False


def configure_access_log(config: Config) -> None:
    """Point the ``sluice.access`` logger at ``config.access_log`` (or silence it)."""
    logger = logging.getLogger("sluice.access")
    for old in list(logger.handlers):
        if getattr(old, "_sluice", False):
            logger.removeHandler(old)
            old.close()
    logger.propagate = False
    if config.access_log is None:
        logger.disabled = True
        return
    logger.disabled = False
    logger.setLevel(logging.INFO)
    from sluice.server.accesslog import make_handler

    handler = make_handler(config.access_log)
    handler._sluice = True  # type: ignore[attr-defined]
    logger.addHandler(handler)


# -- built-in commands ---------------------------------------------------------------------


# The command line logs access by default; the library call does not.
_CLI_DEFAULTS = {"access_log": "-"}


# `sluice run` differs from `serve` in its address only: loopback, and
# flask run's port, so a Flask project's bookmarks and proxies keep working.
RUN_HOST = "127.0.0.1"
RUN_PORT = 5000
_RUN_DEFAULTS = {**_CLI_DEFAULTS, "bind": [f"{RUN_HOST}:{RUN_PORT}"]}


def _settings_options(f: F, defaults: Mapping[str, Any] = _CLI_DEFAULTS) -> F:
    """Add one option per declared setting (values stay strings; ``resolve`` converts them)."""
    for setting in reversed(SETTINGS):
        flags = [setting.short, setting.flag] if setting.short else [setting.flag]
        default = defaults.get(setting.name, setting.default)
        help_text = f"{setting.doc} [env {setting.env}; default {_show(default)}]"
        if setting.is_flag:
            f = click.option(*flags, setting.name, is_flag=True, flag_value="true", default=None, help=help_text)(f)
            continue
        f = click.option(
            *flags,
            setting.name,
            metavar=setting.metavar,
            multiple=setting.multiple,
            default=None,
            help=help_text,
        )(f)
    return f


def _run_settings_options(f: F) -> F:
    return _settings_options(f, _RUN_DEFAULTS)


def _resolve(settings: dict[str, Any], defaults: Mapping[str, Any] = _CLI_DEFAULTS) -> Config:
    overrides = {name: value for name, value in settings.items() if value not in (None, ())}
    try:
        return resolve(overrides, os.environ, defaults=defaults)
    except ConfigError as exc:
        raise _ConfigFailure(str(exc)) from None


class _ConfigFailure(click.ClickException):
    exit_code = EXIT_CONFIG


@cli.command("serve", short_help="Serve a WSGI application.")
@click.argument("target", metavar="[MODULE:ATTR]", required=False)
@_settings_options
@click.pass_obj
def serve_command(info: ScriptInfo, /, target: str | None, **settings: Any) -> None:
    """Serve a WSGI application (any PEP 3333 app: sluice, Flask, Django, Pyramid).

    MODULE:ATTR is e.g. myproject.wsgi:application or 'app:create_app()';
    without it, the app named by --app or SLUICE_APP is served.
    """
    config = _resolve(settings)
    configure_logging(config)
    if target is not None:
        info = ScriptInfo(target)
    if config.workers > 1 or config.max_requests or config.metrics_bind:
        configure_access_log(config)
        status = _supervise(info, config)
        if status:
            raise click.exceptions.Exit(status)
        return
    app = info.load_wsgi_app()
    configure_access_log(config)
    from sluice.server.runner import run

    try:
        run(app, config)
    except ConfigError as exc:
        raise _ConfigFailure(str(exc)) from None


def _supervise(info: ScriptInfo, config: Config) -> int:
    """Serve under the pre-fork master; the app is loaded in each worker (or once, with preload)."""
    from sluice.server.supervisor import BootError
    from sluice.server.supervisor import Supervisor

    def load() -> Any:
        try:
            return info.load_wsgi_app()
        except AppLoadError as exc:
            raise BootError(exc.report()) from exc
        except click.ClickException as exc:
            raise BootError(f"Error: {exc.format_message()}") from exc

    try:
        return Supervisor(load, config).run()
    except ConfigError as exc:
        raise _ConfigFailure(str(exc)) from None
    except BootError as exc:
        click.echo(str(exc), err=True)
        return EXIT_APP_LOAD


@cli.command("run", short_help="Run the development server (reloader, debug page).")
@click.argument("target", metavar="[MODULE:ATTR]", required=False)
@click.option("--reload/--no-reload", default=True, help="Restart the app's worker when a file of the app changes. [default: reload]")
@click.option(
    "--reload-include",
    "reload_include",
    metavar="GLOB",
    multiple=True,
    help="Also reload when a file matching GLOB changes (relative to the app's directory; "
    "'*.toml' matches in any folder, 'conf/**/*.ini' from the top); repeat for several.",
)
@click.option(
    "--debug/--no-debug",
    default=True,
    help="Debug mode: the app's debug flag, and a traceback page for clients on this machine. [default: debug]",
)
@click.option("--host", metavar="HOST", help="Listen on HOST (with --port, instead of --bind). [default: 127.0.0.1]")
@click.option("--port", "-p", metavar="PORT", type=click.IntRange(0, 65535), help="Listen on PORT (with --host, instead of --bind). [default: 5000]")
@_run_settings_options
@click.pass_obj
def run_command(
    info: ScriptInfo,
    /,
    target: str | None,
    reload: bool,
    reload_include: tuple[str, ...],
    debug: bool,
    host: str | None,
    port: int | None,
    **settings: Any,
) -> None:
    """Run the development server: `sluice serve` on 127.0.0.1:5000, reloading on change.

    The same server as `serve` (parser, limits, keep-alive, files), under a
    master that keeps the socket open: when a Python file below the app's
    directory (or a --reload-include glob) changes, the worker is replaced
    by one running the new code, and requests made meanwhile wait instead
    of failing. Code that cannot be imported is shown as a 500 page naming
    the file and line until it is fixed. In debug mode (the default) an
    unhandled exception shows a traceback page to clients on this machine
    (loopback) and a plain 500 to anyone else. For production use `serve`.
    """
    if host is not None or port is not None:
        if settings.get("bind"):
            raise click.UsageError("give --bind, or --host and --port, not both")
        address = host or RUN_HOST
        address = f"[{address}]" if ":" in address else address  # an IPv6 address
        settings["bind"] = (f"{address}:{RUN_PORT if port is None else port}",)
    config = _resolve(settings, _RUN_DEFAULTS)
    configure_logging(config)
    if config.preload:
        raise _ConfigFailure("--preload cannot be used with sluice run: the reloader imports the app in each new worker")
    if target is not None:
        info = ScriptInfo(target)
    from sluice.server.devserver import DevSupervisor
    from sluice.server.reloader import app_directory

    root = app_directory(info.app_import_path or info._default_module())
    configure_access_log(config)
    if not info.has_app:
        raise NoAppError("no app given: pass MODULE[:NAME] or --app, set SLUICE_APP, or run in a folder with wsgi.py or app.py")
    _warn_if_public(config)
    try:
        supervisor = DevSupervisor(info.load_wsgi_app, config, root, reload_include, reload=reload, debug=debug)
        status = supervisor.run()
    except ValueError as exc:
        raise _ConfigFailure(str(exc)) from None
    except ConfigError as exc:
        raise _ConfigFailure(str(exc)) from None
    if status:
        raise click.exceptions.Exit(status)


def _warn_if_public(config: Config) -> None:
    from sluice.server.debugpage import from_loopback
    from sluice.server.listeners import parse_bind

    for spec in config.bind:
        try:
            _, address = parse_bind(spec)
        except ConfigError:
            continue  # binding it reports the error
        if isinstance(address, str):
            continue  # a unix socket: this machine only
        host = address[0]
        if from_loopback({"REMOTE_ADDR": host}) or host == "localhost":
            continue
        logging.getLogger("sluice.error").warning(
            "sluice run is listening on %s, reachable from other machines: it is a development server "
            "(tracebacks go to clients on this machine only); use sluice serve in production",
            spec,
        )


@cli.command("config", short_help="Print the settings that 'serve' would use.")
@_settings_options
def config_command(**settings: Any) -> None:
    """Print the settings that 'serve' would use, from defaults, SLUICE_* variables and flags."""
    config = _resolve(settings)
    for name, value in sorted(config.as_dict().items()):
        click.echo(f"{name} = {value!r}")


def _match_order(rules: list[Any]) -> list[Any]:
    # The router looks static paths up first, then tries dynamic rules by rank.
    static = [rule for rule in rules if rule.is_static]
    dynamic = sorted((rule for rule in rules if not rule.is_static), key=lambda rule: rule.match_key)
    return static + dynamic


@cli.command("routes", short_help="Show the app's routes.")
@click.option(
    "--sort",
    "-s",
    type=click.Choice(("endpoint", "methods", "rule", "match")),
    default="endpoint",
    show_default=True,
    help="Sort by column; 'match' is the order in which the router tries the rules.",
)
@click.option("--all-methods", is_flag=True, help="Show HEAD and OPTIONS too.")
@with_appcontext
def routes_command(sort: str, all_methods: bool) -> None:
    """Show the app's routes: endpoint, methods and rule."""
    from sluice.ctx import current_app

    rules = list(current_app.url_map.iter_rules())
    if not rules:
        click.echo("No routes were registered.")
        return
    if sort == "match":
        rules = _match_order(rules)
    ignored = set() if all_methods else {"HEAD", "OPTIONS"}
    rows = [[rule.endpoint, ", ".join(sorted(rule.methods - ignored)), rule.rule] for rule in rules]
    column = {"endpoint": 0, "methods": 1, "rule": 2}.get(sort)
    if column is not None:
        rows.sort(key=lambda row: row[column])
    rows.insert(0, ["Endpoint", "Methods", "Rule"])
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    rows.insert(1, ["-" * width for width in widths])
    for row in rows:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())


@cli.command("shell", short_help="Run a Python shell in the app's context.")
@with_appcontext
def shell_command() -> None:
    """Run an interactive Python shell with ``app`` and ``g`` in the app's context.

    The names come from ``app.make_shell_context()`` (``app``, ``g`` and what
    ``@app.shell_context_processor`` functions add); ``PYTHONSTARTUP`` runs first.
    """
    import code

    from sluice.ctx import current_app
    from sluice.ctx import g

    app = cast(Any, current_app)._get_current_object()
    banner = f"Python {sys.version} on {sys.platform}\nApp: {app.import_name}\nInstance: {app.instance_path}"
    namespace: dict[str, Any] = {}
    startup = os.environ.get("PYTHONSTARTUP")
    if startup and os.path.isfile(startup):
        with open(startup) as f:
            exec(compile(f.read(), startup, "exec"), namespace)
    make = getattr(app, "make_shell_context", None)
    namespace.update(make() if make is not None else {"app": app, "g": g})
    hook = getattr(sys, "__interactivehook__", None)
    # Completion and history are for a terminal; piped input needs neither.
    if hook is not None and sys.stdin.isatty():
        try:
            import readline
            from rlcompleter import Completer
        except ImportError:
            pass
        else:
            readline.set_completer(Completer(namespace).complete)
        hook()
    code.interact(banner=banner, local=namespace)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``sluice`` command and return its exit status.

    Args:
        argv: the arguments after the program name (default ``sys.argv[1:]``).

    Returns:
        0 on success; 2 for a usage error, a bad setting or a failed bind; 3
        when the app cannot be loaded; a command's ``ctx.exit(code)``.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        # Standalone mode, as on a terminal: click shows errors and ignores
        # the commands' return values; only the exit status is kept.
        cli.main(args=args, prog_name="sluice")
    except SystemExit as exc:
        if exc.code is None or isinstance(exc.code, int):
            return exc.code or 0
        click.echo(exc.code, err=True)
        return 1
    return 0
