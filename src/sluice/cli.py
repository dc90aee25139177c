"""The ``sluice`` command: ``serve`` an app, show the ``config``.

``main(argv)`` returns an exit code instead of exiting, so tests call it
directly. This is the one module that joins the app side and the server.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import logging
import os
import sys
import traceback
from collections.abc import Sequence
from typing import Any

from sluice import __version__
from sluice.config import Config
from sluice.config import add_arguments
from sluice.config import resolve
from sluice.errors import AppImportError
from sluice.errors import ConfigError

log = logging.getLogger("sluice.error")

#: Exit status when the app cannot be imported (distinct from a crash).
EXIT_APP_LOAD = 3
#: Exit status for a bad setting or a failed bind.
EXIT_CONFIG = 2


def load_app(target: str) -> Any:
    """Import ``MODULE:ATTR`` or ``MODULE:factory()`` and return the app.

    The current directory is put first on ``sys.path``, as gunicorn does, so
    ``sluice serve app:app`` works from a project folder. ``ATTR`` may be a
    dotted path; ``factory(...)`` is called with literal arguments only.

    Raises:
        AppImportError: the target is malformed, the import fails, the
            attribute is missing or the result is not callable.
    """
    module_name, sep, expr = target.partition(":")
    if not module_name or not sep and target.endswith(")"):
        raise AppImportError(f"invalid app target {target!r}; expected MODULE:ATTR or MODULE:factory()")
    expr = expr or "app"
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
        try:
            obj = obj(*args, **kwargs)
        except Exception as exc:
            raise AppImportError(f"calling {expr!r} failed: {type(exc).__name__}: {exc}") from exc
    if not callable(obj):
        raise AppImportError(f"{target!r} is a {type(obj).__name__}, not a WSGI application (a callable)")
    return obj


class _ErrorFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("[%(asctime)s] [%(process)d] [%(levelname)s] %(message)s", "%Y-%m-%d %H:%M:%S %z")


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
    if config.access_log == "-":
        handler: logging.Handler = logging.StreamHandler(sys.stderr)
    else:
        handler = logging.FileHandler(config.access_log)
    handler.setFormatter(logging.Formatter("%(message)s"))
    handler._sluice = True  # type: ignore[attr-defined]
    logger.addHandler(handler)


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sluice", description="sluice: a WSGI framework and server.")
    parser.add_argument("--version", action="version", version=f"sluice {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    serve = sub.add_parser(
        "serve",
        help="serve a WSGI application",
        description="Serve a WSGI application (any PEP 3333 app: sluice, Flask, Django, Pyramid).",
    )
    serve.add_argument("app", metavar="MODULE:ATTR", help="the app, e.g. myproject.wsgi:application or app:create_app()")
    add_arguments(serve)
    config = sub.add_parser("config", help="print the settings that 'serve' would use")
    add_arguments(config)
    return parser


def _resolve(args: argparse.Namespace) -> Config:
    overrides = {}
    for name, value in vars(args).items():
        if name in ("command", "app") or value is None:
            continue
        overrides[name] = value
    # The command line logs access by default; the library call does not.
    return resolve(overrides, os.environ, defaults={"access_log": "-"})


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``sluice`` command and return its exit status.

    Args:
        argv: the arguments after the program name (default ``sys.argv[1:]``).
    """
    parser = _build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_CONFIG
    try:
        config = _resolve(args)
    except ConfigError as exc:
        print(f"sluice: error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    if args.command == "config":
        for name, value in sorted(config.as_dict().items()):
            print(f"{name} = {value!r}")
        return 0
    configure_logging(config)
    try:
        app = load_app(args.app)
    except AppImportError as exc:
        cause = exc.__cause__
        if cause is not None and not isinstance(cause, ModuleNotFoundError):
            traceback.print_exception(cause, file=sys.stderr)
        print(f"sluice: error: cannot load the app: {exc}", file=sys.stderr)
        return EXIT_APP_LOAD
    configure_access_log(config)
    from sluice.server.runner import run

    try:
        run(app, config)
    except ConfigError as exc:
        print(f"sluice: error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    return 0
