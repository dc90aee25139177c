"""Tests of the declared settings: precedence, conversion, errors, docs."""

from __future__ import annotations

from pathlib import Path

import pytest

from sluice.config import SETTINGS
from sluice.config import markdown_table
from sluice.config import resolve
from sluice.errors import ConfigError


def test_resolve_defaults() -> None:
    config = resolve()
    assert config.bind == ["127.0.0.1:8000"]
    assert config.access_log is None
    assert config.max_body_size == 100 * 1024 * 1024


def test_resolve_env_overrides_default_and_flag_overrides_env() -> None:
    env = {"SLUICE_THREADS": "3", "SLUICE_LOG_LEVEL": "debug"}
    config = resolve({"threads": "9"}, env)
    assert config.threads == 9
    assert config.log_level == "debug"


def test_resolve_multiple_values_from_env_split_on_commas() -> None:
    config = resolve(environ={"SLUICE_BIND": "127.0.0.1:1,unix:/tmp/x.sock"})
    assert config.bind == ["127.0.0.1:1", "unix:/tmp/x.sock"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        pytest.param({"thread": 3}, "unknown setting 'thread'", id="unknown"),
        pytest.param({"threads": "many"}, "invalid value 'many' for --threads", id="not-int"),
        pytest.param({"max_body_size": "10x"}, "invalid value '10x' for --max-body-size", id="bad-size"),
        pytest.param({"log_level": "loud"}, "must be one of debug", id="bad-level"),
        pytest.param({"root_path": "app"}, "must start with '/'", id="bad-root"),
        pytest.param({"header_timeout": "0"}, "must be more than 0", id="zero-timeout"),
    ],
)
def test_resolve_bad_value_names_setting(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        resolve(overrides)


def test_resolve_bad_env_names_variable() -> None:
    with pytest.raises(ConfigError, match="for SLUICE_THREADS"):
        resolve(environ={"SLUICE_THREADS": "x"})


@pytest.mark.parametrize(("text", "value"), [("1024", 1024), ("2k", 2048), ("3m", 3 * 1024**2), ("1g", 1024**3)])
def test_size_suffixes(text: str, value: int) -> None:
    assert resolve({"max_body_size": text}).max_body_size == value


def test_access_log_off_values() -> None:
    for text in ("off", "none", ""):
        assert resolve({"access_log": text}, defaults={"access_log": "-"}).access_log is None


def test_access_log_format_and_probe_paths_are_checked() -> None:
    assert resolve({"access_log_format": "JSON"}).access_log_format == "json"
    with pytest.raises(ConfigError, match="must be combined or json"):
        resolve({"access_log_format": "xml"})
    assert resolve({"health_path": "/healthz", "ready_path": "off"}).health_path == "/healthz"
    with pytest.raises(ConfigError, match="starting with '/'"):
        resolve({"ready_path": "readyz"})


def test_docs_settings_table_is_current() -> None:
    doc = Path(__file__).resolve().parent.parent / "docs" / "settings.md"
    assert markdown_table() in doc.read_text(), "run: python -m sluice.config > docs/settings.md section"
    for setting in SETTINGS:
        assert setting.flag in doc.read_text()


@pytest.mark.parametrize("value", ["-1", "nan", "inf", "fast"])
def test_min_rates_refuse_what_is_not_a_rate(value: str) -> None:
    for name in ("min_send_rate", "min_recv_rate"):
        with pytest.raises(ConfigError, match=f"--{name.replace('_', '-')}"):
            resolve({name: value})


def test_min_rates_reach_the_worker() -> None:
    import socket

    from sluice.server.runner import build_worker

    config = resolve({"min_send_rate": "1000", "min_recv_rate": "0", "write_timeout": "2"})
    sock = socket.socket()
    try:
        worker = build_worker(lambda e, s: [], [sock], config)
        assert (worker.timeouts.min_send_rate, worker.timeouts.min_recv_rate, worker.timeouts.write) == (1000.0, 0.0, 2.0)
    finally:
        sock.close()
    assert resolve({}).min_send_rate == resolve({}).min_recv_rate == 240.0


@pytest.mark.parametrize(
    ("value", "expected"),
    [("127.0.0.1:9100", "127.0.0.1:9100"), ("[::1]:0", "[::1]:0"), ("0.0.0.0:9100", "0.0.0.0:9100"), ("off", None), ("", None)],
)
def test_metrics_bind_accepts_host_port_or_off(value: str, expected: str | None) -> None:
    assert resolve({"metrics_bind": value}).metrics_bind == expected


def test_metrics_bind_off_by_default() -> None:
    assert resolve({}).metrics_bind is None


@pytest.mark.parametrize("value", ["9100", "localhost", ":9100", "127.0.0.1:", "127.0.0.1:70000", "::1:9100", "unix:/tmp/m.sock", "[::1]9100"])
def test_metrics_bind_refuses_what_is_not_host_port(value: str) -> None:
    with pytest.raises(ConfigError, match=r"for --metrics-bind: give HOST:PORT or \[IPV6\]:PORT") as info:
        resolve({"metrics_bind": value})
    assert str(info.value).startswith(f"invalid value {value!r} for --metrics-bind")


def test_metrics_bind_from_the_environment() -> None:
    assert resolve(environ={"SLUICE_METRICS_BIND": "127.0.0.1:9100"}).metrics_bind == "127.0.0.1:9100"


def test_metrics_bind_turns_metrics_on_in_the_worker() -> None:
    import socket

    from sluice.server.runner import build_worker

    sock = socket.socket()
    try:
        assert build_worker(lambda e, s: [], [sock], resolve({})).stats is None
        assert build_worker(lambda e, s: [], [sock], resolve({"metrics_bind": "127.0.0.1:0"})).stats is not None
    finally:
        sock.close()
