"""The README's demo app (``examples/demo/``): over the test client, its command, and served live.

Each test builds the app with ``create_app`` and an instance folder in
``tmp_path``, so the database and the uploads start empty. The live test
serves ``examples.demo:app`` with ``sluice serve``, as the README does, and
points it at ``tmp_path`` with ``SLUICE_DEMO_INSTANCE``.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests

from examples.demo import create_app
from sluice import App
from sluice import g
from sluice import signals
from sluice.testing import TestClient
from tests.live import ROOT
from tests.live import LiveServer
from tests.live import require_service
from tests.validated import validated_client

FILE = b"hello, guestbook\n"


@pytest.fixture
def app(tmp_path: Path) -> App:
    return create_app({"SECRET_KEY": "test key", "MAX_CONTENT_LENGTH": 64 * 1024}, instance_path=str(tmp_path))


@pytest.fixture
def client(app: App) -> TestClient:
    return validated_client(app)


def _post(client: TestClient, name: str = "Ann", message: str = "Hi", **files: tuple[Any, ...]) -> Any:
    return client.post("/", data={"name": name, "message": message, **files})


def _flashes(html: str) -> list[tuple[str, str]]:
    return [(m[1], m[2]) for m in re.finditer(r'<p class="flash flash-(\w+)" role="status">(.*?)</p>', html)]


# -- the board and the form -----------------------------------------------------------------------


def test_demo_board_first_request_creates_instance_and_table(client: TestClient, tmp_path: Path) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert "No messages yet" in response.text
    assert '<link rel="stylesheet" href="/static/demo.css">' in response.text
    assert (tmp_path / "demo.sqlite3").is_file()
    assert (tmp_path / "uploads").is_dir()


def test_demo_stylesheet_served_from_static(client: TestClient) -> None:
    response = client.get("/static/demo.css")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/css; charset=utf-8"
    assert b".flash-error" in response.data


def test_demo_post_with_file_redirects_then_flashes_once(client: TestClient) -> None:
    response = _post(client, attachment=(io.BytesIO(FILE), "notes.txt"))
    assert response.status_code == 303
    assert response.headers["Location"] == "/"
    board = client.get("/")
    assert _flashes(board.text) == [("success", "Thank you, Ann: your message is on the board.")]
    assert '<a href="/files/1" download>notes.txt</a>' in board.text
    assert "17 bytes" in board.text
    assert _flashes(client.get("/").text) == []


def test_demo_post_saves_upload_under_secure_name(client: TestClient, tmp_path: Path) -> None:
    _post(client, attachment=(io.BytesIO(FILE), "../../etc/passwd"))
    (saved,) = (tmp_path / "uploads").iterdir()
    assert re.fullmatch(r"[0-9a-f]{16}-etc_passwd", saved.name)
    assert saved.read_bytes() == FILE


def test_demo_post_without_file_lists_no_link(client: TestClient, tmp_path: Path) -> None:
    # Browsers send an empty file field when no file was chosen.
    _post(client, attachment=(io.BytesIO(b""), ""))
    assert "/files/1" not in client.get("/").text
    assert list((tmp_path / "uploads").iterdir()) == []
    assert client.get("/files/1").status_code == 404


def test_demo_listing_escapes_visitor_text(client: TestClient) -> None:
    _post(client, name="<b>Ann</b>", message="<script>alert(1)</script>", attachment=(io.BytesIO(FILE), "<img src=x>.txt"))
    html = client.get("/").text
    assert "<strong>&lt;b&gt;Ann&lt;/b&gt;</strong>" in html
    assert "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>" in html
    assert "&lt;img src=x&gt;.txt</a>" in html
    assert "<script>" not in html and "<img" not in html
    # The flashed message names the visitor too, and is escaped as well.
    assert _flashes(html) == [("success", "Thank you, &lt;b&gt;Ann&lt;/b&gt;: your message is on the board.")]


def test_demo_post_missing_fields_400_keeps_input(client: TestClient) -> None:
    response = _post(client, name="", message="kept <text>")
    assert response.status_code == 400
    assert _flashes(response.text) == [("error", "Please give a name of 1 to 60 characters.")]
    assert ">kept &lt;text&gt;</textarea>" in response.text
    assert "No messages yet" in response.text


def test_demo_post_overlong_message_400(client: TestClient) -> None:
    response = _post(client, message="x" * 2001)
    assert response.status_code == 400
    assert _flashes(response.text) == [("error", "Please write a message of 1 to 2000 characters.")]


def test_demo_upload_over_max_content_length_413_page(client: TestClient, tmp_path: Path) -> None:
    response = _post(client, attachment=(io.BytesIO(b"x" * (64 * 1024 + 1)), "big.bin"))
    assert response.status_code == 413
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "<h1>That was too large</h1>" in response.text
    assert "up to 64.0 KiB per post" in response.text
    assert list((tmp_path / "uploads").iterdir()) == []


# -- downloads ------------------------------------------------------------------------------------


def test_demo_download_whole_file_as_attachment(client: TestClient) -> None:
    _post(client, attachment=(io.BytesIO(FILE), "notes.txt"))
    response = client.get("/files/1")
    assert response.status_code == 200
    assert response.data == FILE
    assert response.headers["Content-Disposition"] == "attachment; filename=notes.txt"
    assert response.headers["Accept-Ranges"] == "bytes"


def test_demo_download_range_206(client: TestClient) -> None:
    _post(client, attachment=(io.BytesIO(FILE), "notes.txt"))
    response = client.get("/files/1", headers={"Range": "bytes=0-4"})
    assert response.status_code == 206
    assert response.headers["Content-Range"] == f"bytes 0-4/{len(FILE)}"
    assert response.data == b"hello"


def test_demo_download_non_ascii_name_rfc5987(client: TestClient) -> None:
    _post(client, attachment=(io.BytesIO(FILE), "résumé.txt"))
    disposition = client.get("/files/1").headers["Content-Disposition"]
    assert disposition == "attachment; filename=\"resume.txt\"; filename*=UTF-8''r%C3%A9sum%C3%A9.txt"


def test_demo_download_unknown_entry_404(client: TestClient) -> None:
    response = client.get("/files/7")
    assert response.status_code == 404
    assert "This message has no file." in response.text


# -- the database ---------------------------------------------------------------------------------


def test_demo_db_connection_closed_after_request(app: App, client: TestClient) -> None:
    seen: list[sqlite3.Connection] = []

    def record(sender: App, **extra: object) -> None:
        seen.append(g.db)

    with signals.template_rendered.connected_to(record, sender=app):
        assert client.get("/").status_code == 200
    (db,) = seen
    with pytest.raises(sqlite3.ProgrammingError, match="closed database"):
        db.execute("SELECT 1")


def test_demo_init_db_command_empties_board_and_uploads(app: App, client: TestClient, tmp_path: Path) -> None:
    _post(client, attachment=(io.BytesIO(FILE), "notes.txt"))
    result = app.test_cli_runner().invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    assert result.output == f"Initialised the database {tmp_path / 'demo.sqlite3'}.\n"
    assert "No messages yet" in client.get("/").text
    assert list((tmp_path / "uploads").iterdir()) == []


def test_demo_init_db_command_works_before_any_request(app: App, tmp_path: Path) -> None:
    result = app.test_cli_runner().invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    with sqlite3.connect(tmp_path / "demo.sqlite3") as db:
        assert db.execute("SELECT count(*) FROM entries").fetchone() == (0,)
    db.close()


def test_demo_init_db_from_sluice_command_line(tmp_path: Path) -> None:
    # The command the demo's docstring gives, with the app found by --app discovery.
    env = {**os.environ, "SLUICE_DEMO_INSTANCE": str(tmp_path), "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-m", "sluice", "--app", "examples.demo", "init-db"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"Initialised the database {tmp_path / 'demo.sqlite3'}.\n"


# -- configuration --------------------------------------------------------------------------------


def test_demo_secret_key_generated_per_process_when_unset(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SLUICE_SECRET_KEY", raising=False)
    first = create_app(instance_path=str(tmp_path)).config["SECRET_KEY"]
    second = create_app(instance_path=str(tmp_path)).config["SECRET_KEY"]
    assert re.fullmatch(r"[0-9a-f]{64}", first)
    assert first != second


def test_demo_settings_read_from_sluice_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLUICE_SECRET_KEY", "from the environment")
    monkeypatch.setenv("SLUICE_MAX_CONTENT_LENGTH", "1024")
    monkeypatch.setenv("SLUICE_DEMO_INSTANCE", str(tmp_path / "elsewhere"))
    app = create_app()
    assert app.config["SECRET_KEY"] == "from the environment"
    assert app.config["MAX_CONTENT_LENGTH"] == 1024
    assert app.instance_path == str(tmp_path / "elsewhere")
    assert app.config["DATABASE"] == str(tmp_path / "elsewhere" / "demo.sqlite3")


# -- served live ----------------------------------------------------------------------------------


@pytest.mark.live
def test_demo_live_post_then_download_range(live_server: Callable[..., LiveServer], tmp_path: Path) -> None:
    srv = live_server("examples.demo:app", env={"SLUICE_DEMO_INSTANCE": str(tmp_path)})
    with requests.Session() as session:
        css = session.get(srv.url + "/static/demo.css", timeout=5)
        assert css.status_code == 200
        response = session.post(
            srv.url + "/",
            data={"name": "Ada", "message": "hi <there>"},
            files={"attachment": ("notes.txt", FILE, "text/plain")},
            timeout=5,
        )
        assert [r.status_code for r in response.history] == [303]
        assert response.status_code == 200
        assert "Thank you, Ada: your message is on the board." in response.text
        assert "<p>hi &lt;there&gt;</p>" in response.text
        link = re.search(r'<a href="(/files/\d+)" download>notes.txt</a>', response.text)
        assert link is not None
    (saved,) = (tmp_path / "uploads").iterdir()
    assert saved.read_bytes() == FILE

    require_service(shutil.which("curl") is not None, "curl is not installed")
    result = subprocess.run(
        ["curl", "-s", "-i", "--max-time", "10", "--range", "0-4", srv.url + link.group(1)],
        capture_output=True,
        timeout=20,
        check=False,
    )
    head, _, body = result.stdout.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 206 PARTIAL CONTENT\r\n")
    assert f"\r\nContent-Range: bytes 0-4/{len(FILE)}\r\n".encode() in head
    assert b"\r\nContent-Disposition: attachment; filename=notes.txt\r\n" in head
    assert body == b"hello"
    srv.stop()
    assert "Traceback" not in srv.output, srv.output
