"""Fixture app for the live file tests: static files, downloads, ranges, X-Sendfile.

The file root comes from ``SLUICE_TEST_FILES`` (a directory the test made);
``SLUICE_TEST_XSENDFILE`` set to a header name turns ``USE_X_SENDFILE`` on.
"""

from __future__ import annotations

import io
import os
from typing import IO

from sluice import App
from sluice import Response
from sluice import send_file
from sluice import send_from_directory
from sluice.files import make_static_view

ROOT = os.environ.get("SLUICE_TEST_FILES", "/nonexistent")

app = App(__name__, static_folder=None)
app.config["STATIC_URL_VERSIONING"] = True
if os.environ.get("SLUICE_TEST_XSENDFILE"):
    app.config["USE_X_SENDFILE"] = True
    app.config["X_SENDFILE_HEADER"] = os.environ["SLUICE_TEST_XSENDFILE"]
    app.config["X_ACCEL_PREFIX"] = os.environ.get("SLUICE_TEST_ACCEL_PREFIX")
app.add_url_rule("/static/<path:filename>", "static", make_static_view(lambda: os.path.join(ROOT, "static")))


@app.get("/files/<path:name>")
def download(name: str) -> Response:
    return send_from_directory(os.path.join(ROOT, "static"), name)


@app.get("/attachment")
def attachment() -> Response:
    return send_file(os.path.join(ROOT, "static", "big.bin"), as_attachment=True, download_name="résumé 2026.bin")


class _NoRead(io.FileIO):
    """A file whose read() fails: proves the body went out with sendfile(2)."""

    def read(self, size: int | None = -1) -> bytes:
        raise RuntimeError("read() called: the body was not sent with sendfile")

    def readinto(self, buffer: object) -> int:
        raise RuntimeError("readinto() called: the body was not sent with sendfile")


@app.get("/noread")
def noread() -> Response:
    file: IO[bytes] = _NoRead(os.path.join(ROOT, "static", "big.bin"), "rb")
    return send_file(file, mimetype="application/octet-stream")
