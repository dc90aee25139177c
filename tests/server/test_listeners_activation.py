"""Unix socket permissions (``--unix-socket-mode``) and systemd socket activation (``LISTEN_FDS``)."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sluice.config import resolve
from sluice.errors import ConfigError
from sluice.server.listeners import bind
from sluice.server.listeners import inherit_systemd
from tests.live import ROOT


def test_bind_unix_socket_mode_sets_permission_bits(tmp_path: Path) -> None:
    path = tmp_path / "app.sock"
    sock = bind(f"unix:{path}", unix_mode=0o640)
    try:
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o640
    finally:
        sock.close()


@pytest.mark.parametrize(("value", "expected"), [("660", 0o660), ("0600", 0o600), ("off", None)])
def test_unix_socket_mode_setting_is_octal(value: str, expected: int | None) -> None:
    assert resolve({"unix_socket_mode": value}).unix_socket_mode == expected


def test_unix_socket_mode_setting_rejects_non_octal() -> None:
    with pytest.raises(ConfigError, match="invalid value '989' for --unix-socket-mode"):
        resolve({"unix_socket_mode": "989"})


def test_inherit_systemd_takes_listening_sockets_and_clears_environ() -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    environ = {"LISTEN_FDS": "1", "LISTEN_PID": str(os.getpid()), "LISTEN_FDNAMES": "web", "OTHER": "x"}
    try:
        (sock,) = inherit_systemd(environ, first_fd=listener.fileno())
        assert sock.fileno() == listener.fileno()
        assert sock.getsockname() == listener.getsockname()
        assert not sock.getblocking()
        assert environ == {"OTHER": "x"}
        sock.detach()
    finally:
        listener.close()


def test_inherit_systemd_ignores_another_process_variables() -> None:
    environ = {"LISTEN_FDS": "1", "LISTEN_PID": str(os.getpid() + 1)}
    assert inherit_systemd(environ) == []
    assert "LISTEN_FDS" in environ


def test_inherit_systemd_refuses_a_socket_that_does_not_listen() -> None:
    plain = socket.socket()
    try:
        with pytest.raises(ConfigError, match=rf"descriptor {plain.fileno()}, which is not a listening stream socket"):
            inherit_systemd({"LISTEN_FDS": "1", "LISTEN_PID": str(os.getpid())}, first_fd=plain.fileno())
    finally:
        plain.close()


# The wrapper plays systemd: it moves the passed socket to descriptor 3, names
# its own pid (kept by exec) in LISTEN_PID, and execs sluice serve.
_SYSTEMD = """
import os, sys
fd = int(sys.argv[1])
if fd != 3:
    os.dup2(fd, 3)
    os.close(fd)
os.environ["LISTEN_FDS"] = "1"
os.environ["LISTEN_PID"] = str(os.getpid())
os.execv(sys.executable, [sys.executable, "-m", "sluice", *sys.argv[2:]])
"""


def test_serve_with_systemd_socket_activation_and_workers() -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [sys.executable, "-c", _SYSTEMD, str(listener.fileno()), "serve", "tests.apps.supervised_app:app",
         "-w", "2", "--bind", "127.0.0.1:1", "--access-log", "off"],
        cwd=ROOT, env=env, pass_fds=[listener.fileno()], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    listener.close()
    try:
        body = ""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not body:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/")
                body = conn.getresponse().read().decode()
                conn.close()
            except OSError:
                time.sleep(0.05)
        assert body.startswith("v1 ")
    finally:
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=15)
    assert proc.returncode == 0
    assert "Using 1 socket(s) from systemd (LISTEN_FDS); --bind is ignored" in output
