"""A sluice App for the upload tests: echoes forms and files, saves uploads, reports bytes read.

Every response carries ``X-Body-Bytes-Read``: how many body bytes the app
took from ``wsgi.input`` (sluice's server counts them in ``bytes_read``; the
test client's input is wrapped in :class:`CountingInput`), so a test can
see that reading stopped at a limit. ``SLUICE_TEST_MAX_CONTENT_LENGTH``
sets ``MAX_CONTENT_LENGTH`` ("none" for no limit; default 1 MiB) and
``SLUICE_TEST_UPLOAD_DIR`` is where ``/save`` writes.
"""

from __future__ import annotations

import hashlib
import io
import os
from typing import Any

from sluice.app import App
from sluice.ctx import request
from sluice.uploads import secure_filename
from sluice.wrappers.request import Request
from sluice.wrappers.response import Response


class CountingInput(io.BytesIO):
    """A ``wsgi.input`` for the test client that counts the bytes read, like the server's ``bytes_read``."""

    bytes_read = 0

    def read(self, size: int | None = -1) -> bytes:
        data = super().read(size)
        self.bytes_read += len(data)
        return data

    def readline(self, size: int | None = -1) -> bytes:
        data = super().readline(size)
        self.bytes_read += len(data)
        return data


class UploadRequest(Request):
    """Files past 1 KiB spool to disk, so small test files exercise both sides."""

    max_file_memory_size = 1024


def _limit(value: str | None, default: int | None) -> int | None:
    if value is None:
        return default
    return None if value == "none" else int(value)


app = App(__name__)
app.request_class = UploadRequest
app.config["MAX_CONTENT_LENGTH"] = _limit(os.environ.get("SLUICE_TEST_MAX_CONTENT_LENGTH"), 1024 * 1024)
app.config["MAX_FORM_MEMORY_SIZE"] = 64 * 1024
app.config["MAX_FORM_PARTS"] = 50


def _describe(upload: Any) -> dict[str, Any]:
    data = upload.read()
    return {
        "filename": upload.filename,
        "name": upload.name,
        "content_type": upload.content_type,
        "mimetype": upload.mimetype,
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }


@app.post("/echo")
def echo() -> dict[str, Any]:
    return {
        "form": request.form.to_dict(flat=False),
        "files": {name: [_describe(upload) for upload in request.files.getlist(name)] for name in request.files},
    }


@app.post("/echo-stream", stream_request_body=True)
def echo_stream() -> dict[str, Any]:
    """``/echo`` with the body read by the view as it arrives, not received first by the server."""
    return echo()


@app.post("/save")
def save() -> dict[str, Any]:
    upload = request.files["f"]
    name = secure_filename(upload.filename or "") or "upload.bin"
    path = os.path.join(os.environ.get("SLUICE_TEST_UPLOAD_DIR", "."), name)
    upload.save(path)
    try:
        return {"saved_as": name, "size": os.path.getsize(path)}
    finally:
        os.remove(path)


@app.post("/stream")
def stream() -> dict[str, Any]:
    digest = hashlib.sha256()
    size = 0
    while chunk := request.stream.read(64 * 1024):
        digest.update(chunk)
        size += len(chunk)
    return {"size": size, "sha256": digest.hexdigest()}


@app.post("/ignore")
def ignore() -> str:
    return "not reading the body"


@app.after_request
def report_bytes_read(response: Response) -> Response:
    response.headers["X-Body-Bytes-Read"] = str(getattr(request.environ.get("wsgi.input"), "bytes_read", -1))
    return response
