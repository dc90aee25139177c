"""An unmodified Flask app for live third-party app tests.

Routes:
    GET  /hello           plain text
    GET  /json            JSON object, echoes the ``name`` query parameter
    POST /form            echoes urlencoded or multipart form fields as text
    GET  /stream          streamed generator response (no Content-Length)
    GET  /session/set     stores ``value`` in the signed-cookie session
    GET  /session/get     reads it back
    anything else         Flask's default 404 page
"""

from __future__ import annotations

from collections.abc import Iterator

from flask import Flask
from flask import Response
from flask import jsonify
from flask import request
from flask import session

app = Flask(__name__)
app.secret_key = "sluice-test-secret-key-not-for-production"

#: The chunks /stream yields, exported so tests can compare exact bytes.
STREAM_CHUNKS: tuple[str, ...] = tuple(f"chunk {i}\n" for i in range(5))


@app.get("/hello")
def hello() -> Response:
    return Response("Hello from Flask\n", mimetype="text/plain")


@app.get("/json")
def json_view() -> Response:
    return jsonify(framework="flask", name=request.args.get("name", ""), numbers=[1, 2, 3])


@app.post("/form")
def form_echo() -> Response:
    lines = [f"{key}={value}" for key, value in sorted(request.form.items(multi=True))]
    return Response("\n".join(lines) + "\n", mimetype="text/plain")


@app.get("/stream")
def stream() -> Response:
    def generate() -> Iterator[str]:
        yield from STREAM_CHUNKS

    return Response(generate(), mimetype="text/plain")


@app.get("/session/set")
def session_set() -> Response:
    session["value"] = request.args.get("value", "")
    return Response("stored\n", mimetype="text/plain")


@app.get("/session/get")
def session_get() -> Response:
    return Response(f"value={session.get('value', '<none>')}\n", mimetype="text/plain")
