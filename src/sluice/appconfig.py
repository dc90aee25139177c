"""``app.config``: the application's settings, with Flask's loaders.

Design: a dict of upper-case keys. The app's defaults are :data:`DEFAULTS`;
loaders read Python files, data files, objects, environment variables. Paths
given to the file loaders are relative to the config's ``root_path`` (the
app's folder, or its instance folder with ``instance_relative_config``).
The request body limits among the keys are read once, when the app starts
serving (:func:`request_limits`).
"""

from __future__ import annotations

import errno
import importlib
import json
import os
import types
from collections.abc import Callable
from collections.abc import Mapping
from typing import IO
from typing import Any

from sluice.sessions import SESSION_DEFAULTS

DEFAULTS: dict[str, Any] = {
    "DEBUG": False,
    "TESTING": False,
    "PROPAGATE_EXCEPTIONS": None,
    "SECRET_KEY": None,
    # url_for outside a request builds PREFERRED_URL_SCHEME://SERVER_NAME
    # APPLICATION_ROOT/path (as Flask).
    "SERVER_NAME": None,
    "APPLICATION_ROOT": "/",
    "PREFERRED_URL_SCHEME": "http",
    # Host names the app answers (".example.com" takes subdomains too);
    # another Host gets a 400. None: any.
    "TRUSTED_HOSTS": None,
    "SECRET_KEY_FALLBACKS": [],
    # JSON object keys sorted, as Flask 3 always does (False keeps insertion order).
    "JSON_SORT_KEYS": True,
    # An HTTPError no handler takes goes through the unhandled-error path
    # (a 500, or raised in testing/debug) instead of rendering itself;
    # TRAP_BAD_REQUEST_ERRORS does so for 400s only.
    "TRAP_HTTP_EXCEPTIONS": False,
    "TRAP_BAD_REQUEST_ERRORS": None,
    # Template errors always list the folders searched; kept for Flask code.
    "EXPLAIN_TEMPLATE_LOADING": False,
    # Rules answer OPTIONS themselves (Allow) unless their view lists it;
    # read when a rule is added, as Flask does.
    "PROVIDE_AUTOMATIC_OPTIONS": True,
    # The session cookie size above which a warning is logged (0: never).
    "MAX_COOKIE_SIZE": 4093,
    # Request body limits, as Flask names them (None: no limit); read when
    # the app starts serving.
    "MAX_CONTENT_LENGTH": None,
    "MAX_FORM_MEMORY_SIZE": 500_000,
    "MAX_FORM_PARTS": 1000,
    # An uploaded file larger than this goes to a temporary file.
    "MAX_FILE_MEMORY_SIZE": 512 * 1024,
    # sluice's server receives request bodies whole before the app runs
    # unless this is set (or a route says stream_request_body=True).
    "STREAM_REQUEST_BODY": False,
    # Files (sluice.files): None lets browsers revalidate (as Flask).
    "SEND_FILE_MAX_AGE_DEFAULT": None,
    "USE_X_SENDFILE": False,
    "X_SENDFILE_HEADER": "X-Sendfile",
    "X_ACCEL_PREFIX": None,
    "STATIC_URL_VERSIONING": False,
    # Templates: None follows DEBUG.
    "TEMPLATES_AUTO_RELOAD": None,
    **SESSION_DEFAULTS,
}

# Config key -> the Request attribute it sets.
REQUEST_LIMITS = {
    "MAX_CONTENT_LENGTH": "max_content_length",
    "MAX_FORM_MEMORY_SIZE": "max_form_memory_size",
    "MAX_FORM_PARTS": "max_form_parts",
    "MAX_FILE_MEMORY_SIZE": "max_file_memory_size",
}


def request_limits(config: Mapping[str, Any], request_class: type) -> tuple[tuple[str, int | None], ...]:
    """The Request attributes ``config`` sets to other values than ``request_class`` has.

    Raises:
        ValueError: a limit that is neither None nor a non-negative int.
    """
    limits = []
    for key, attribute in REQUEST_LIMITS.items():
        value = config.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            raise ValueError(f"config[{key!r}] = {value!r}: give a number of bytes (or parts), or None for no limit")
        if value != getattr(request_class, attribute, None):
            limits.append((attribute, value))
    return tuple(limits)


class Config(dict[str, Any]):
    """``app.config``: a dict with defaults and loaders.

    Args:
        root_path: the folder that relative file names are relative to.
        defaults: the initial values.
    """

    def __init__(self, root_path: str | os.PathLike[str], defaults: Mapping[str, Any] | None = None) -> None:
        super().__init__(defaults or {})
        self.root_path = os.fspath(root_path)

    def __repr__(self) -> str:
        return f"<Config {dict.__repr__(self)}>"

    def from_mapping(self, mapping: Mapping[str, Any] | None = None, **kwargs: Any) -> bool:
        """Update from upper-case keys of ``mapping`` and ``kwargs``; return True."""
        for key, value in {**(mapping or {}), **kwargs}.items():
            if key.isupper():
                self[key] = value
        return True

    def from_object(self, obj: object | str) -> None:
        """Update from the upper-case attributes of an object or ``"module.Object"``.

        Raises:
            ImportError: a dotted name that cannot be imported.
        """
        if isinstance(obj, str):
            module_name, _, attr = obj.rpartition(".")
            obj = getattr(importlib.import_module(module_name), attr) if module_name else importlib.import_module(attr)
        for key in dir(obj):
            if key.isupper():
                self[key] = getattr(obj, key)

    def from_pyfile(self, filename: str | os.PathLike[str], silent: bool = False) -> bool:
        """Run a Python file and take its upper-case names (as Flask).

        Args:
            filename: the file, relative to :attr:`root_path` unless absolute.
            silent: return False for a missing file instead of raising.

        Returns:
            True when the file was loaded.

        Raises:
            OSError: the file cannot be read; the message names it.
            Exception: whatever running the file raised.
        """
        path = os.path.join(self.root_path, os.fspath(filename))
        module = types.ModuleType("config")
        module.__file__ = path
        try:
            with open(path, "rb") as file:
                source = file.read()
        except OSError as exc:
            if silent and exc.errno in (errno.ENOENT, errno.EISDIR, errno.ENOTDIR):
                return False
            exc.strerror = f"cannot load the configuration file ({exc.strerror})"
            raise
        exec(compile(source, path, "exec"), module.__dict__)  # noqa: S102 - a config file is code, as in Flask
        self.from_object(module)
        return True

    def from_file(
        self,
        filename: str | os.PathLike[str],
        load: Callable[[IO[Any]], Mapping[str, Any]],
        silent: bool = False,
        text: bool = True,
    ) -> bool:
        """Load a data file with ``load`` (``json.load``, ``tomllib.load`` with ``text=False``).

        Args:
            filename: the file, relative to :attr:`root_path` unless absolute.
            load: called with the open file; returns a mapping.
            silent: return False for a missing file instead of raising.
            text: open in text mode (False: binary, as ``tomllib.load`` needs).

        Returns:
            True when the file was loaded.

        Raises:
            OSError: the file cannot be read; the message names it.
        """
        path = os.path.join(self.root_path, os.fspath(filename))
        try:
            with open(path, "r" if text else "rb") as file:
                obj = load(file)
        except OSError as exc:
            if silent and exc.errno in (errno.ENOENT, errno.EISDIR):
                return False
            exc.strerror = f"cannot load the configuration file ({exc.strerror})"
            raise
        return self.from_mapping(obj)

    def from_envvar(self, variable_name: str, silent: bool = False) -> bool:
        """Load the Python file named by an environment variable (see :meth:`from_pyfile`).

        Raises:
            RuntimeError: the variable is not set (and ``silent`` is False).
        """
        path = os.environ.get(variable_name)
        if not path:
            if silent:
                return False
            raise RuntimeError(
                f"the environment variable {variable_name!r} is not set; set it to the path of a configuration file"
            )
        return self.from_pyfile(path, silent=silent)

    def from_prefixed_env(self, prefix: str = "SLUICE", environ: Mapping[str, str] | None = None) -> bool:
        """Load ``PREFIX_KEY`` variables; values are parsed as JSON when they can be.

        ``PREFIX_A__B`` sets ``config["A"]["B"]``. Returns True.
        """
        env = os.environ if environ is None else environ
        start = f"{prefix}_"
        for name in sorted(env):
            if not name.startswith(start):
                continue
            raw = env[name]
            try:
                value: Any = json.loads(raw)
            except ValueError:
                value = raw
            key = name[len(start) :]
            if "__" in key:
                *parents, last = key.split("__")
                target = self
                for part in parents:
                    target = target.setdefault(part, {})
                target[last] = value
            else:
                self[key] = value
        return True

    def get_namespace(self, namespace: str, lowercase: bool = True, trim_namespace: bool = True) -> dict[str, Any]:
        """The keys that start with ``namespace`` (e.g. ``"IMAGE_STORE_"``), as a dict.

        Args:
            namespace: the prefix.
            lowercase: lower-case the returned keys.
            trim_namespace: drop the prefix from the returned keys.
        """
        found: dict[str, Any] = {}
        for key, value in self.items():
            if not key.startswith(namespace):
                continue
            name = key[len(namespace) :] if trim_namespace else key
            found[name.lower() if lowercase else name] = value
        return found
