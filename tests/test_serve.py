"""Tests of ``sluice.serve()``, the library entry point of the server."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import pytest
import requests

from tests.live import ROOT

pytestmark = pytest.mark.live

_SCRIPT = """
import sluice
from tests.apps.factories import create_app
sluice.serve(create_app("served"), host={host!r}, port=0, threads=2, {extra})
"""


def _start(host: str = "127.0.0.1", extra: str = "") -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", _SCRIPT.format(host=host, extra=extra)],
        cwd=ROOT,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stderr is not None
    deadline = time.monotonic() + 10
    line = ""
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        match = re.search(r"Listening on (http://\S+)", line)
        if match:
            return proc, match.group(1)
        if not line and proc.poll() is not None:
            break
    proc.kill()
    proc.wait()
    proc.stderr.close()
    raise AssertionError(f"sluice.serve() did not start: {line}")


def _stop(proc: subprocess.Popen[str]) -> str:
    proc.send_signal(signal.SIGTERM)
    proc.wait(10)
    assert proc.stderr is not None
    rest = proc.stderr.read()
    proc.stderr.close()
    return rest


def test_serve_serves_app_without_access_log() -> None:
    proc, url = _start()
    try:
        assert requests.get(url + "/x", timeout=5).content == b"served"
    finally:
        rest = _stop(proc)
    assert proc.returncode == 0
    assert "GET /x" not in rest


def test_serve_settings_keyword_enables_access_log() -> None:
    proc, url = _start(extra="access_log='-'")
    try:
        requests.get(url + "/logged", timeout=5)
    finally:
        rest = _stop(proc)
    assert '"GET /logged HTTP/1.1" 200 6' in rest


def test_serve_unknown_setting_raises_config_error() -> None:
    result = subprocess.run(
        [sys.executable, "-c", _SCRIPT.format(host="127.0.0.1", extra="max_bodysize=1")],
        cwd=ROOT,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert result.returncode == 1
    assert "ConfigError: unknown setting 'max_bodysize'" in result.stderr
