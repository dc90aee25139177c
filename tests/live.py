"""Start a real ``sluice serve`` subprocess on a loopback port for live tests.

Design: the server is started with ``--bind 127.0.0.1:0`` so the kernel picks
a free port; the port is read back from the log line ``Listening on
http://HOST:PORT`` that the server writes to stderr. Every wait is bounded.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

def require_service(available: bool, reason: str) -> None:
    """Skip when a tool or service is missing, but fail in CI (SLUICE_REQUIRE_SERVICES=1)."""
    if available:
        return
    if os.environ.get("SLUICE_REQUIRE_SERVICES") == "1":
        pytest.fail(f"required service missing in CI: {reason}")
    pytest.skip(reason)


ROOT = Path(__file__).resolve().parent.parent
_LISTENING = re.compile(r"Listening on (https?://\S+|unix:\S+)")


class LiveServer:
    """A running ``sluice serve`` process and what it printed."""

    def __init__(self, proc: subprocess.Popen[str], url: str, lines: list[str]) -> None:
        self.proc = proc
        self.url = url
        self.lines = lines
        match = re.match(r"https?://(\[[^\]]+\]|[^:]+):(\d+)", url)
        self.host = match.group(1).strip("[]") if match else ""
        self.port = int(match.group(2)) if match else 0

    @property
    def output(self) -> str:
        """Everything the server wrote to stderr and stdout so far."""
        return "".join(self.lines)

    def wait_for_output(self, pattern: str, timeout: float = 5.0) -> re.Match[str]:
        """Wait until a line matching ``pattern`` was printed, or fail."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            match = regex.search(self.output)
            if match:
                return match
            time.sleep(0.02)
        raise AssertionError(f"no output matching {pattern!r}; got:\n{self.output}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int:
        """Send ``sig`` and wait for the exit code (kill after ``timeout``)."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        return self.proc.returncode


def start_server(
    target: str,
    *args: str,
    cwd: Path | str | None = None,
    env: dict[str, str] | None = None,
    bind: Sequence[str] = ("127.0.0.1:0",),
    timeout: float = 15.0,
    wrapper: Sequence[str] = (),
    command: str = "serve",
) -> LiveServer:
    """Start ``python -m sluice COMMAND TARGET --bind ... ARGS`` and wait for it to listen.

    ``wrapper`` is a command prefix such as ``("prlimit", "--nofile=64")``;
    ``command`` is ``serve`` or ``run``.
    """
    cmd = [*wrapper, sys.executable, "-m", "sluice", command, target]
    for b in bind:
        cmd += ["--bind", b]
    cmd += list(args)
    full_env = dict(os.environ)
    full_env["PYTHONUNBUFFERED"] = "1"
    full_env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(ROOT), full_env.get("PYTHONPATH", "")) if p
    )
    if env:
        full_env.update(env)
    proc = subprocess.Popen(
        cmd,
        cwd=str(cwd or ROOT),
        env=full_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    lines: list[str] = []
    assert proc.stdout is not None
    stream = proc.stdout

    def pump() -> None:
        for line in stream:
            lines.append(line)

    threading.Thread(target=pump, daemon=True).start()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        match = _LISTENING.search("".join(lines))
        if match:
            return LiveServer(proc, match.group(1), lines)
        if proc.poll() is not None:
            time.sleep(0.1)
            stream.close()
            raise RuntimeError(f"server exited with {proc.returncode}:\n{''.join(lines)}")
        time.sleep(0.02)
    proc.kill()
    proc.wait(5)
    stream.close()
    raise RuntimeError(f"server did not start listening within {timeout}s:\n{''.join(lines)}")
