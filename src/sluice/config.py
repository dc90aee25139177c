"""Server settings, each declared once: name, converter, default, env, flag, doc.

Design: :data:`SETTINGS` is the single source of truth. The CLI flags, the
``SLUICE_*`` environment variables, the keyword arguments of
:func:`sluice.serve` and the settings table in ``docs/settings.md`` are all
generated from it, so they cannot drift apart. Precedence is defaults <
``--config`` file (TOML) < environment < command line (or keyword
arguments). Unknown or malformed
values fail at startup with a message that names the setting.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Mapping
from typing import Any

from sluice.errors import ConfigError
from sluice.trust import DEFAULT as TRUSTED_DEFAULT
from sluice.trust import parse_network

_LOG_LEVELS = ("debug", "info", "warning", "error", "critical")
# What turns an optional setting (a file, a path, a mode) off.
_OFF = ("", "off", "none")


def _positive_int(value: str) -> int:
    number = int(value)
    if number < 1:
        raise ValueError("must be at least 1")
    return number


def _size(value: str) -> int:
    """Parse a byte size: ``1048576``, ``512k``, ``10m`` or ``1g``."""
    text = value.strip().lower()
    factor = 1
    if text and text[-1] in "kmg":
        factor = {"k": 1024, "m": 1024**2, "g": 1024**3}[text[-1]]
        text = text[:-1]
    number = int(text) * factor
    if number < 0:
        raise ValueError("must not be negative")
    return number


def _seconds(value: str) -> float:
    number = float(value)
    if number <= 0:
        raise ValueError("must be more than 0")
    return number


def _rate(value: str) -> float:
    number = float(value)
    if not number >= 0 or number == float("inf"):
        raise ValueError("must be a number of bytes per second, 0 or more")
    return number


def _count(value: str) -> int:
    number = int(value)
    if number < 0:
        raise ValueError("must not be negative")
    return number


def _workers(value: str) -> int:
    """Parse ``--workers``: a positive count, or ``auto`` for the usable cores."""
    if value.strip().lower() == "auto":
        return len(os.sched_getaffinity(0))
    return _positive_int(value)


def _bool(value: str) -> bool:
    text = value.strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise ValueError("must be true or false")


def _path(value: str) -> str | None:
    text = value.strip()
    return text or None


def _probe_path(value: str) -> str | None:
    text = value.strip()
    if text.lower() in _OFF:
        return None
    if not text.startswith("/") or "?" in text or " " in text:
        raise ValueError("give a path such as /healthz (starting with '/', no query), or off")
    return text


def _file_mode(value: str) -> int | None:
    text = value.strip()
    if text.lower() in _OFF:
        return None
    number = int(text, 8)
    if not 0 <= number <= 0o777:
        raise ValueError("must be octal permission bits, e.g. 660")
    return number


def _log_level(value: str) -> str:
    level = value.strip().lower()
    if level not in _LOG_LEVELS:
        raise ValueError(f"must be one of {', '.join(_LOG_LEVELS)}")
    return level


def _access_log_format(value: str) -> str:
    text = value.strip().lower()
    if text not in ("combined", "json"):
        raise ValueError("must be combined or json")
    return text


def _access_log(value: str) -> str | None:
    text = value.strip()
    return None if text.lower() in _OFF else text


def _root_path(value: str) -> str:
    text = value.strip().rstrip("/")
    if text and not text.startswith("/"):
        raise ValueError("must start with '/', e.g. /app")
    return text


def _metrics_bind(value: str) -> str | None:
    text = value.strip()
    if text.lower() in _OFF:
        return None
    if text.startswith("["):
        host, sep, port = text[1:].partition("]:")
    else:
        host, sep, port = text.rpartition(":")
        if ":" in host:
            sep = ""
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise ValueError("give HOST:PORT or [IPV6]:PORT with a port of 0 to 65535, e.g. 127.0.0.1:9100, or off")
    return text


class Setting:
    """One declared setting.

    Args:
        name: the keyword / attribute name (``max_body_size``).
        convert: turns a string (env or CLI) into the value; raises ValueError.
        default: the value when nothing sets it.
        doc: one line for ``--help`` and the docs.
        metavar: the placeholder shown in ``--help``.
        multiple: the flag may repeat (values are collected in a list).
        short: an optional short flag (``-b``).
        is_flag: on the command line the flag takes no value and means true.
    """

    def __init__(
        self,
        name: str,
        convert: Callable[[str], Any],
        default: Any,
        doc: str,
        metavar: str = "VALUE",
        multiple: bool = False,
        short: str | None = None,
        is_flag: bool = False,
    ) -> None:
        self.name = name
        self.convert = convert
        self.default = default
        self.doc = doc
        self.metavar = metavar
        self.multiple = multiple
        self.short = short
        self.is_flag = is_flag

    @property
    def flag(self) -> str:
        """The long command-line flag, e.g. ``--max-body-size``."""
        return "--" + self.name.replace("_", "-")

    @property
    def env(self) -> str:
        """The environment variable, e.g. ``SLUICE_MAX_BODY_SIZE``."""
        return "SLUICE_" + self.name.upper()

    def parse(self, value: str, source: str) -> Any:
        """Convert a string from ``source`` or raise a ConfigError naming it."""
        try:
            if self.multiple:
                return [self.convert(v.strip()) for v in value.split(",") if v.strip()]
            return self.convert(value)
        except ValueError as exc:
            raise ConfigError(f"invalid value {value!r} for {source}: {exc}") from None


SETTINGS: tuple[Setting, ...] = (
    Setting("bind", str, ["127.0.0.1:8000"], "Address to listen on: HOST:PORT, [IPV6]:PORT or unix:PATH; repeat for several.", "ADDRESS", multiple=True, short="-b"),
    Setting("threads", _positive_int, 8, "Threads that run the app; idle keep-alive connections use none.", "N", short="-t"),
    Setting("access_log", _access_log, None, "Write an access log line per response to PATH, or '-' for stderr; 'off' disables. `sluice serve` writes to stderr ('-') unless told otherwise; sluice.serve() logs nothing by default.", "PATH"),
    Setting("access_log_format", _access_log_format, "combined", "The access log's lines: combined (Apache's, plus the duration and the request id) or json (one JSON object per line, every field escaped).", "FORMAT"),
    Setting("log_level", _log_level, "info", "Error log level: debug, info, warning, error or critical.", "LEVEL"),
    Setting("otel", _bool, False, "Emit an OpenTelemetry server span per request to the tracer provider the app or opentelemetry-instrument set up (needs pip install 'sluice[otel]'; see docs/server.md, Tracing).", "BOOL", is_flag=True),
    Setting("root_path", _root_path, "", "SCRIPT_NAME the app is mounted at behind a proxy, e.g. /app.", "PATH"),
    Setting("trusted_proxies", parse_network, list(TRUSTED_DEFAULT), "Peers (addresses or networks, comma-separated or repeated) whose X-Request-ID or traceparent names the request id; a unix-socket peer is always trusted (see docs/server.md, Request ids).", "CIDR", multiple=True),
    Setting("max_body_size", _size, 100 * 1024**2, "Largest request body in bytes (suffix k, m, g); larger ones get 413.", "BYTES"),
    Setting("max_request_line", _positive_int, 8192, "Longest request line in bytes; longer ones get 414.", "BYTES"),
    Setting("max_header_bytes", _positive_int, 65536, "Largest request header section in bytes; larger ones get 431.", "BYTES"),
    Setting("max_header_fields", _positive_int, 100, "Most request header fields; more get 431.", "N"),
    Setting("keepalive_timeout", _seconds, 5.0, "Seconds an idle keep-alive connection is kept open.", "SECONDS"),
    Setting("header_timeout", _seconds, 10.0, "Seconds a client has to send a whole request head (slowloris guard).", "SECONDS"),
    Setting("body_timeout", _seconds, 30.0, "Grace period of a request body: seconds a client may send nothing; then --min-recv-rate holds.", "SECONDS"),
    Setting("write_timeout", _seconds, 30.0, "Grace period of a response: seconds a client may take nothing; then --min-send-rate holds.", "SECONDS"),
    Setting("min_send_rate", _rate, 240.0, "Bytes per second a client must take a response at, on average, after --write-timeout; slower ones are cut (0: a timeout per wait).", "BYTES"),
    Setting("min_recv_rate", _rate, 240.0, "Bytes per second a client must send a body at, on average, after --body-timeout; slower ones get 408 (0: a timeout per wait).", "BYTES"),
    Setting("request_buffer", _size, 1024**2, "Bytes of a request body kept in memory while the server receives it before the app runs; more go to a temporary file (see docs/server.md, Request bodies).", "BYTES"),
    Setting("response_buffer", _size, 256 * 1024, "Bytes of a response each connection keeps in memory for a client that has not taken them (list bodies are kept as the app made them); more go to a temporary file.", "BYTES"),
    Setting("max_response_spool", _size, 1024**3, "Bytes of a response each connection keeps in its temporary file for a slow client; past them the app's thread waits for the client (0: no temporary file).", "BYTES"),
    Setting("graceful_timeout", _seconds, 30.0, "Seconds in-flight requests may take to finish after SIGTERM or SIGINT.", "SECONDS"),
    Setting("certfile", _path, None, "Serve HTTPS: the PEM file with the server's certificate chain (and its key, unless --keyfile is given).", "FILE"),
    Setting("keyfile", _path, None, "The PEM file with the private key of --certfile.", "FILE"),
    Setting("health_path", _probe_path, None, "Answer GET or HEAD of this path (e.g. /healthz) with 200 'ok' from the server itself, without the app (liveness); off: none.", "PATH"),
    Setting("ready_path", _probe_path, None, "Answer GET or HEAD of this path (e.g. /readyz) with 200 'ready' once the app is loaded, 503 'draining' while the server stops (readiness), without the app; off: none.", "PATH"),
    Setting("unix_socket_mode", _file_mode, None, "Permission bits (octal, e.g. 660) of a unix socket's file; off keeps the umask's.", "MODE"),
    Setting("backlog", _positive_int, 2048, "Length of the listen queue of each socket.", "N"),
    Setting("workers", _workers, 1, "Worker processes under a master (see docs/server.md, Processes); 'auto' is the number of usable cores; 1 serves in one process.", "N|auto", short="-w"),
    Setting("timeout", _seconds, 30.0, "Seconds a request may run: past it its stack is logged, the client gets a 504 (or a close if the response began) and DeadlineExceeded is raised in its thread. Also a worker whose loop sends no heartbeat for this long is dumped and replaced.", "SECONDS"),
    Setting("max_requests", _count, 0, "Retire a worker when this many requests have reached it (0: never) and start a new one; with --workers 1 this runs under a master too.", "N"),
    Setting("max_requests_jitter", _count, 0, "Add a random 0..N to --max-requests per worker, so workers do not restart together.", "N"),
    Setting("metrics_bind", _metrics_bind, None, "Serve Prometheus metrics of every worker at http://HOST:PORT/metrics from the master (this runs under a master even with --workers 1; see docs/server.md, Metrics); off: none.", "HOST:PORT"),
    Setting("preload", _bool, False, "Import the app once in the master before forking workers (SIGHUP then cannot load new code).", "BOOL", is_flag=True),
    Setting("pid", _path, None, "Write the server's process id to this file (removed at exit).", "FILE"),
    Setting("config", _path, None, "Read settings from this TOML file (keys are setting names); the environment and flags override it.", "FILE"),
)

BY_NAME: dict[str, Setting] = {s.name: s for s in SETTINGS}


class Config:
    """Resolved settings: attribute access, one per declared setting.

    Args:
        values: setting name to value, already converted.
    """

    def __init__(self, values: Mapping[str, Any]) -> None:
        self._values = dict(values)

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(name) from None

    def as_dict(self) -> dict[str, Any]:
        """Return every setting as a dict."""
        return dict(self._values)


def resolve(
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    defaults: Mapping[str, Any] | None = None,
) -> Config:
    """Merge defaults, the ``config`` TOML file, ``SLUICE_*`` environment variables and overrides.

    Args:
        overrides: values from keyword arguments or the command line; for
            keyword arguments they may be typed values or strings.
        environ: the environment to read ``SLUICE_*`` variables from.
        defaults: replacements for declared defaults (the CLI turns the
            access log on by default).

    Raises:
        ConfigError: an unknown setting or a malformed value.
    """
    values = {s.name: s.default for s in SETTINGS}
    if defaults:
        values.update(defaults)
    path = (overrides or {}).get("config") or (environ or {}).get(BY_NAME["config"].env)
    if path:
        values.update(load_file(str(path)))
        values["config"] = str(path)
    for setting in SETTINGS:
        if environ and setting.env in environ:
            values[setting.name] = setting.parse(environ[setting.env], setting.env)
    for name, value in (overrides or {}).items():
        if name not in BY_NAME:
            known = ", ".join(sorted(BY_NAME))
            raise ConfigError(f"unknown setting {name!r}; known settings: {known}")
        setting = BY_NAME[name]
        if value is None and setting.default is not None:
            continue
        if isinstance(value, str):
            value = setting.parse(value, setting.flag)
        elif setting.multiple and isinstance(value, Iterable):
            value = [v for item in value for v in setting.parse(str(item), setting.flag)]
        values[name] = value
    return Config(values)


def load_file(path: str) -> dict[str, Any]:
    """Read settings from the TOML file ``path``: top-level keys are setting names.

    A key may use dashes (``max-requests``) or underscores; each value is
    a TOML string, number, boolean or (for ``bind``) an array, checked as
    the same value on the command line would be.

    Raises:
        ConfigError: the file cannot be read or parsed, a key is unknown,
            or a value is malformed; the message names the file and key.
    """
    import tomllib

    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except OSError as exc:
        raise ConfigError(f"cannot read --config {path}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"invalid TOML in --config {path}: {exc}") from None
    values: dict[str, Any] = {}
    for key, raw in data.items():
        name = key.replace("-", "_")
        setting = BY_NAME.get(name)
        if setting is None or name == "config":
            known = ", ".join(sorted(n for n in BY_NAME if n != "config"))
            raise ConfigError(f"unknown setting {key!r} in {path}; known settings: {known}")
        source = f"{key} in {path}"
        if isinstance(raw, (dict, list)) and not (setting.multiple and isinstance(raw, list)):
            raise ConfigError(f"invalid value {raw!r} for {source}: expected a single value")
        items = raw if isinstance(raw, list) else [raw]
        texts = [str(item).lower() if isinstance(item, bool) else str(item) for item in items]
        values[name] = setting.parse(",".join(texts), source)
    return values


def _show(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(map(str, value))
    return "off" if value is None else str(value)


def markdown_table() -> str:
    """Return the settings as a Markdown table (for ``docs/settings.md``)."""
    rows = ["| setting | flag | environment | default | meaning |", "|---|---|---|---|---|"]
    for s in SETTINGS:
        flag = f"`{s.short}`, `{s.flag}`" if s.short else f"`{s.flag}`"
        rows.append(f"| `{s.name}` | {flag} | `{s.env}` | `{_show(s.default)}` | {s.doc} |")
    return "\n".join(rows) + "\n"


if __name__ == "__main__":
    print(markdown_table(), end="")
