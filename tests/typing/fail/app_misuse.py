"""Mistakes mypy must report in app code; a line ending in ``# E: code[, code]`` expects those errors."""

from __future__ import annotations

from sluice import App
from sluice import Response
from sluice import request
from sluice import url_for

app = App(__name__)

app.route("/")(42)  # E: type-var
app.before_request("not a function")  # E: type-var
app.errorhandler("404")  # E: arg-type
Response("body", status=1.5)  # E: arg-type
url_for(123)  # E: arg-type
app.add_url_rule("/x", methods="GET", view_func=lambda: "x", endpoint=7)  # E: arg-type


@app.get("/count")
def count() -> str:
    total: int = request.method  # E: assignment
    return request.args.get("n", 0) + 1  # E: operator, return-value
