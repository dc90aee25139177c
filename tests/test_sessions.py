"""Tests of the signed-cookie session interface with recording fakes."""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from typing import Any

import pytest

from sluice.sessions import SESSION_DEFAULTS
from sluice.sessions import NullSession
from sluice.sessions import Session
from sluice.sessions import SignedCookieSessionInterface
from sluice.signing import Signer
from sluice.wrappers.datastructures import Headers


class FakeApp:
    def __init__(self, **config: Any) -> None:
        self.config: dict[str, Any] = {**SESSION_DEFAULTS, "SECRET_KEY": "s" * 32, **config}


class FakeRequest:
    def __init__(self, cookies: dict[str, str] | None = None) -> None:
        self.cookies = cookies or {}


class FakeResponse:
    def __init__(self) -> None:
        self.set: list[tuple[str, str, dict[str, Any]]] = []
        self.deleted: list[tuple[str, dict[str, Any]]] = []
        self.headers = Headers()

    def set_cookie(self, key: str, value: str, **kwargs: Any) -> None:
        self.set.append((key, value, kwargs))

    def delete_cookie(self, key: str, **kwargs: Any) -> None:
        self.deleted.append((key, kwargs))


IFACE = SignedCookieSessionInterface()


def _round_trip(app: FakeApp, session: Session) -> tuple[FakeResponse, Session]:
    response = FakeResponse()
    IFACE.save_session(app, session, response)
    assert response.set, "no cookie was set"
    name, value, _ = response.set[-1]
    return response, IFACE.open_session(app, FakeRequest({name: value}))


def test_session_new_when_no_cookie() -> None:
    session = IFACE.open_session(FakeApp(), FakeRequest())
    assert session.new and session == {}


def test_session_round_trip_through_cookie() -> None:
    app = FakeApp()
    session = IFACE.open_session(app, FakeRequest())
    session["user"] = {"id": 1, "name": "Ada"}
    response, reopened = _round_trip(app, session)
    assert reopened == {"user": {"id": 1, "name": "Ada"}} and not reopened.new
    _, _, options = response.set[0]
    assert options["httponly"] is True and options["samesite"] == "Lax" and options["path"] == "/"
    assert options["expires"] is None


def test_session_tampered_cookie_ignored() -> None:
    app = FakeApp()
    session = Session()
    session["admin"] = False
    response = FakeResponse()
    IFACE.save_session(app, session, response)
    value = response.set[0][1]
    payload, stamp, signature = value.split(".")
    forged = Signer("attacker" * 4, salt="cookie-session").sign(b'{"admin":true}').split(".")
    for bad in (f"{forged[0]}.{stamp}.{signature}", ".".join(forged), value[:-2] + "AA"):
        assert IFACE.open_session(app, FakeRequest({"session": bad})) == {}


def test_session_unchanged_not_rewritten() -> None:
    app = FakeApp()
    _, reopened = _round_trip(app, _modified({"a": 1}))
    response = FakeResponse()
    assert reopened["a"] == 1 and reopened.accessed and not reopened.modified
    IFACE.save_session(app, reopened, response)
    assert response.set == [] and response.deleted == []


def _modified(data: dict[str, Any]) -> Session:
    session = Session()
    session.update(data)
    return session


def test_session_emptied_cookie_deleted() -> None:
    app = FakeApp(SESSION_COOKIE_DOMAIN="example.com")
    _, reopened = _round_trip(app, _modified({"a": 1}))
    reopened.clear()
    response = FakeResponse()
    IFACE.save_session(app, reopened, response)
    assert response.deleted == [("session", {"path": "/", "domain": "example.com"})]


def test_session_permanent_sets_expiry_and_refreshes() -> None:
    app = FakeApp(PERMANENT_SESSION_LIFETIME=timedelta(hours=1))
    session = _modified({"a": 1})
    session.permanent = True
    response, reopened = _round_trip(app, session)
    expires = response.set[0][2]["expires"]
    assert 3590 < expires.timestamp() - time.time() <= 3600
    refreshed = FakeResponse()
    IFACE.save_session(app, reopened, refreshed)
    assert len(refreshed.set) == 1


def test_session_expired_cookie_starts_afresh() -> None:
    app = FakeApp(PERMANENT_SESSION_LIFETIME=60)
    token = Signer("s" * 32, salt="cookie-session").sign(b'{"a":1}', now=time.time() - 120)
    assert IFACE.open_session(app, FakeRequest({"session": token})) == {}


def test_session_key_rotation_with_fallbacks() -> None:
    old = FakeApp(SECRET_KEY="old" * 11)
    _, _ = _round_trip(old, _modified({"a": 1}))
    response = FakeResponse()
    IFACE.save_session(old, _modified({"a": 1}), response)
    rotated = FakeApp(SECRET_KEY="new" * 11, SECRET_KEY_FALLBACKS=["old" * 11])
    assert IFACE.open_session(rotated, FakeRequest({"session": response.set[0][1]})) == {"a": 1}


def test_session_without_secret_key_explains() -> None:
    app = FakeApp(SECRET_KEY=None)
    session = IFACE.open_session(app, FakeRequest())
    assert isinstance(session, NullSession)
    assert session.get("x") is None
    with pytest.raises(RuntimeError, match=r"no secret key was set.*SECRET_KEY"):
        session["x"] = 1


def test_session_large_cookie_logs_warning(caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    # The CLI tests may have stopped sluice's loggers from propagating.
    monkeypatch.setattr(logging.getLogger("sluice"), "propagate", True)
    app = FakeApp()
    response = FakeResponse()
    IFACE.save_session(app, _modified({"blob": "x" * 5000}), response)
    assert "browsers drop cookies over 4093 bytes" in caplog.text


def test_session_read_or_written_varies_on_cookie() -> None:
    # A page that depends on the session must not be shared by caches between clients.
    app = FakeApp()
    session = Session({"user": 1})
    assert session["user"] == 1
    response = FakeResponse()
    response.headers.set("Vary", "Accept-Encoding")
    IFACE.save_session(app, session, response)
    assert response.headers.get("Vary") == "Accept-Encoding, Cookie"
    IFACE.save_session(app, session, response)
    assert response.headers.get("Vary") == "Accept-Encoding, Cookie"
    untouched = FakeResponse()
    IFACE.save_session(app, Session({"user": 1}), untouched)
    assert untouched.headers.get("Vary") is None
    written = FakeResponse()
    fresh = Session(new=True)
    fresh["x"] = 1
    IFACE.save_session(app, fresh, written)
    assert written.headers.get("Vary") == "Cookie" and written.set
