"""Fixture app for the supervisor's live tests (tests/server/test_supervisor.py).

Routes: ``/`` answers ``VERSION pid``; ``/slow?s=SECONDS`` sleeps, then
answers ``slept SECONDS``; ``/stuck`` holds the GIL-free C sleep of the
worker's loop... no: ``/block-loop`` is not offered; the heartbeat test
stops the worker's loop with SIGSTOP instead. The reload test copies this
file and changes ``VERSION``. With ``SUPERVISED_HOOK_LOG`` set, the worker
hooks append ``start PID`` / ``stop PID`` lines to that file.
"""

from __future__ import annotations

import os
import time

from sluice import App
from sluice import request

VERSION = "v1"

app = App(__name__)


@app.route("/")
def index() -> str:
    return f"{VERSION} {os.getpid()}"


@app.route("/slow")
def slow() -> str:
    seconds = float(request.args.get("s", "1"))
    time.sleep(seconds)
    return f"slept {seconds}"


def _hook_log(line: str) -> None:
    path = os.environ.get("SUPERVISED_HOOK_LOG")
    if path:
        with open(path, "a") as f:
            f.write(f"{line} {os.getpid()}\n")


@app.on_worker_start
def opened() -> None:
    _hook_log("start")


@app.on_worker_stop
def closed() -> None:
    _hook_log("stop")
