"""A sluice App served by ``sluice serve --otel`` in live tests; its spans go to a file.

The app module sets up the OpenTelemetry SDK, as a user's would: each
finished span is appended to the file named by ``SLUICE_TEST_SPANS`` as one
JSON object per line (the SDK's own ``to_json``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from collections.abc import Sequence
from pathlib import Path

from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export import SpanExporter
from opentelemetry.sdk.trace.export import SpanExportResult

from sluice.app import App
from sluice.files import send_file
from sluice.wrappers.response import Response

FILE = Path(__file__).resolve().parent / "files_app.py"


class FileExporter(SpanExporter):
    """Appends each span to a file as a line of JSON."""

    def __init__(self, path: str) -> None:
        self.path = path

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        with open(self.path, "a") as f:
            for span in spans:
                f.write(span.to_json(indent=None) + "\n")
        return SpanExportResult.SUCCESS


provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(FileExporter(os.environ["SLUICE_TEST_SPANS"])))
trace.set_tracer_provider(provider)
tracer = trace.get_tracer(__name__)

app = App(__name__)


@app.get("/users/<int:user_id>")
def user(user_id: int) -> str:
    with tracer.start_as_current_span("load user"):
        return f"user {user_id}"


@app.get("/stream")
def stream() -> Iterator[str]:
    yield "a"
    yield "b"


@app.get("/file")
def file() -> Response:
    return send_file(FILE)
