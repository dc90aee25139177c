"""The README's demo app works when served by sluice."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import requests

from tests.live import LiveServer

pytestmark = pytest.mark.live


def test_demo_guestbook_post_then_listed(live_server: Callable[..., LiveServer], tmp_path: Path) -> None:
    srv = live_server("examples.demo:app", env={"SLUICE_DEMO_DB": str(tmp_path / "db.sqlite3")})
    with requests.Session() as s:
        assert s.get(srv.url + "/", timeout=5).status_code == 200
        r = s.post(srv.url + "/", data={"name": "Ada", "message": "hi <there>"}, timeout=5)
        assert r.status_code == 200
        assert r.history[0].status_code == 303
        assert "<b>Ada</b>: hi &lt;there&gt;" in r.text
        assert s.post(srv.url + "/", data={"name": ""}, timeout=5).status_code == 400
        assert s.delete(srv.url + "/", timeout=5).headers["Allow"] == "GET, HEAD, POST"
        assert s.get(srv.url + "/nope", timeout=5).status_code == 404
