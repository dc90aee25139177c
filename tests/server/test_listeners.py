"""Tests of ``--bind`` parsing and socket binding."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from sluice.errors import ConfigError
from sluice.server.listeners import bind
from sluice.server.listeners import describe
from sluice.server.listeners import parse_bind


@pytest.mark.parametrize(
    ("spec", "family", "address"),
    [
        ("127.0.0.1:8000", socket.AF_INET, ("127.0.0.1", 8000)),
        (":8000", socket.AF_INET, ("0.0.0.0", 8000)),
        ("8000", socket.AF_INET, ("127.0.0.1", 8000)),
        ("[::1]:0", socket.AF_INET6, ("::1", 0)),
        ("unix:/tmp/a.sock", socket.AF_UNIX, "/tmp/a.sock"),
    ],
)
def test_parse_bind_forms(spec: str, family: int, address: object) -> None:
    assert parse_bind(spec) == (family, address)


@pytest.mark.parametrize("spec", ["localhost", "::1:80", "[::1]", "a:b", "a:70000", "unix:"])
def test_parse_bind_invalid_rejected(spec: str) -> None:
    with pytest.raises(ConfigError, match="--bind"):
        parse_bind(spec)


def test_bind_port_zero_described_with_real_port() -> None:
    sock = bind("127.0.0.1:0")
    try:
        port = sock.getsockname()[1]
        assert port > 0
        assert describe(sock) == f"http://127.0.0.1:{port}"
    finally:
        sock.close()


def test_bind_unix_replaces_stale_socket(tmp_path: Path) -> None:
    path = tmp_path / "stale.sock"
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(str(path))
    stale.close()
    sock = bind(f"unix:{path}")
    try:
        assert describe(sock) == f"unix:{path}"
    finally:
        sock.close()


def test_bind_unix_refuses_live_socket(tmp_path: Path) -> None:
    path = tmp_path / "live.sock"
    live = bind(f"unix:{path}")
    try:
        with pytest.raises(ConfigError, match="another server is listening"):
            bind(f"unix:{path}")
    finally:
        live.close()


def test_bind_unix_refuses_regular_file(tmp_path: Path) -> None:
    path = tmp_path / "file"
    path.write_text("x")
    with pytest.raises(ConfigError, match="not a socket"):
        bind(f"unix:{path}")
