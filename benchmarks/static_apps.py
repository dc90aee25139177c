"""Apps for benchmarks/static_files.py: a static folder served by sluice and by Flask.

The folder is named by ``SLUICE_BENCH_STATIC`` (set by the benchmark).
"""

from __future__ import annotations

import os
from typing import Any


def __getattr__(name: str) -> Any:
    # Built on first use so that each server imports only its own framework.
    folder = os.environ.get("SLUICE_BENCH_STATIC", "/nonexistent")
    if name == "sluice_static":
        from sluice import App
        from sluice.files import make_static_view

        app = App(__name__, static_folder=None)
        app.add_url_rule("/static/<path:filename>", "static", make_static_view(lambda: folder))
        return app
    if name == "flask_static":
        from flask import Flask

        return Flask(__name__, static_folder=folder, static_url_path="/static")
    raise AttributeError(name)
