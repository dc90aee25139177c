"""Fixture app for the supervisor's live tests (tests/server/test_supervisor.py).

Routes: ``/`` answers ``VERSION PID``; ``/slow?s=SECONDS`` sleeps, then
answers ``slept SECONDS``; ``/hog?n=N`` sums ``range(N)`` in one C call,
which holds the GIL, so the worker's loop thread cannot run (no heartbeat).
The reload tests copy this file and change ``VERSION``. With
``SUPERVISED_HOOK_LOG`` set, the worker hooks append ``start PID`` and
``stop PID`` lines to that file.
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


@app.route("/hog")
def hog() -> str:
    return str(sum(range(int(request.args.get("n", "10")))))


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
