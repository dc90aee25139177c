"""Sessions: the two-method interface and the signed-cookie default.

Design: the app calls ``open_session(app, request)`` when a request starts
and ``save_session(app, session, response)`` before the response goes out;
any store (a signed cookie, Redis, a database) implements those two
methods. The default keeps the session in a cookie: JSON, signed with
HMAC-SHA256 (:mod:`sluice.signing`), readable by the client but not
changeable. A cookie is written only when the session changed (or, for a
permanent session, to refresh its expiry when ``SESSION_REFRESH_EACH_REQUEST``
is set), and deleted when the session was emptied.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import datetime
from datetime import timedelta
from datetime import timezone
from typing import Any
from typing import Protocol

from sluice.signing import BadSignature
from sluice.signing import Signer

log = logging.getLogger("sluice.error")

#: Browsers drop cookies larger than about 4 KB (RFC 6265 §6.1).
MAX_COOKIE_SIZE = 4093

SESSION_DEFAULTS: dict[str, Any] = {
    "SESSION_COOKIE_NAME": "session",
    "SESSION_COOKIE_DOMAIN": None,
    "SESSION_COOKIE_PATH": "/",
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SECURE": False,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_PARTITIONED": False,
    "PERMANENT_SESSION_LIFETIME": timedelta(days=31),
    "SESSION_REFRESH_EACH_REQUEST": True,
}


class Session(dict[str, Any]):
    """A dict that remembers whether it was read or changed.

    Attributes:
        new: no session came with the request.
        modified: set by item assignment or deletion; set it yourself after
            changing a mutable value in place (``session["cart"].append(x)``).
        accessed: any key was read or written.
    """

    def __init__(self, initial: Mapping[str, Any] | None = None, new: bool = False) -> None:
        super().__init__(initial or {})
        self.new = new
        self.modified = False
        self.accessed = False

    @property
    def permanent(self) -> bool:
        """The cookie outlives the browser session (``PERMANENT_SESSION_LIFETIME``)."""
        return bool(self.get("_permanent", False))

    @permanent.setter
    def permanent(self, value: bool) -> None:
        self["_permanent"] = bool(value)

    def __getitem__(self, key: str) -> Any:
        self.accessed = True
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:
        self.accessed = True
        return super().get(key, default)

    def __setitem__(self, key: str, value: Any) -> None:
        self.accessed = self.modified = True
        super().__setitem__(key, value)

    def __delitem__(self, key: str) -> None:
        self.accessed = self.modified = True
        super().__delitem__(key)

    def pop(self, key: str, *default: Any) -> Any:
        self.accessed = self.modified = True
        return super().pop(key, *default)

    def setdefault(self, key: str, default: Any = None) -> Any:
        self.accessed = self.modified = True
        return super().setdefault(key, default)

    def update(self, *args: Any, **kwargs: Any) -> None:
        self.accessed = self.modified = True
        super().update(*args, **kwargs)

    def clear(self) -> None:
        self.accessed = self.modified = True
        super().clear()


class NullSession(Session):
    """The session when no secret key is set: reading works, writing explains."""

    def _fail(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(
            "the session is unavailable because no secret key was set. Set app.config['SECRET_KEY'] "
            "(or app.secret_key) to a long random value, e.g. secrets.token_hex(32)."
        )

    __setitem__ = __delitem__ = pop = setdefault = update = clear = _fail


class AppLike(Protocol):
    """What a session interface needs from the app."""

    @property
    def config(self) -> Mapping[str, Any]:
        """The application's configuration."""


class SessionInterface(Protocol):
    """Open a session from a request; save it into a response."""

    def open_session(self, app: AppLike, request: Any) -> Session:
        """Return the request's session (a new, empty one if none)."""

    def save_session(self, app: AppLike, session: Session, response: Any) -> None:
        """Persist ``session`` (set, refresh or delete its cookie on ``response``)."""


class SignedCookieSessionInterface:
    """The default: the whole session in a signed cookie.

    Only JSON values fit (dict, list, str, int, float, bool, None); a
    non-JSON value raises ``TypeError`` when the session is saved.
    """

    salt = "cookie-session"

    def _signer(self, app: AppLike) -> Signer | None:
        keys = app.config.get("SECRET_KEY")
        if not keys:
            return None
        fallbacks = app.config.get("SECRET_KEY_FALLBACKS") or []
        return Signer([keys, *fallbacks], salt=self.salt)

    def open_session(self, app: AppLike, request: Any) -> Session:
        """Read and verify the session cookie; a bad or expired one starts afresh."""
        signer = self._signer(app)
        if signer is None:
            return NullSession(new=True)
        value = request.cookies.get(app.config["SESSION_COOKIE_NAME"])
        if not value:
            return Session(new=True)
        lifetime = app.config["PERMANENT_SESSION_LIFETIME"]
        try:
            data = json.loads(signer.unsign(value, max_age=_seconds(lifetime)))
        except (BadSignature, ValueError):
            return Session(new=True)
        if not isinstance(data, dict):
            return Session(new=True)
        return Session(data)

    def save_session(self, app: AppLike, session: Session, response: Any) -> None:
        """Set, refresh or delete the session cookie on ``response``."""
        config = app.config
        name = config["SESSION_COOKIE_NAME"]
        domain = config["SESSION_COOKIE_DOMAIN"]
        path = config["SESSION_COOKIE_PATH"]
        if isinstance(session, NullSession):
            return
        if session.accessed:
            # The page depends on the session (even an empty one): a shared
            # cache must not give it to a client with another cookie.
            vary_on_cookie(response)
        if not session:
            if session.modified and not session.new:
                response.delete_cookie(name, path=path, domain=domain)
                vary_on_cookie(response)
            return
        refresh = session.permanent and config["SESSION_REFRESH_EACH_REQUEST"]
        if not (session.modified or refresh):
            return
        signer = self._signer(app)
        if signer is None:
            return
        payload = json.dumps(dict(session), separators=(",", ":"), sort_keys=True).encode()
        value = signer.sign(payload)
        limit = config.get("MAX_COOKIE_SIZE", MAX_COOKIE_SIZE)
        if limit and len(value) + len(name) + 1 > limit:
            log.warning(
                "session cookie %r is %d bytes; browsers drop cookies over %d bytes. "
                "Keep less in the session or use a server-side session store.",
                name,
                len(value),
                limit,
            )
        expires = None
        if session.permanent:
            expires = datetime.now(timezone.utc) + _timedelta(config["PERMANENT_SESSION_LIFETIME"])
        vary_on_cookie(response)
        response.set_cookie(
            name,
            value,
            expires=expires,
            path=path,
            domain=domain,
            secure=config["SESSION_COOKIE_SECURE"],
            httponly=config["SESSION_COOKIE_HTTPONLY"],
            samesite=config["SESSION_COOKIE_SAMESITE"],
            partitioned=bool(config.get("SESSION_COOKIE_PARTITIONED", False)),
        )


def vary_on_cookie(response: Any) -> None:
    """Add ``Cookie`` to the response's ``Vary`` header, once."""
    headers = response.headers
    existing = headers.get("Vary")
    if not existing:
        headers.set("Vary", "Cookie")
        return
    names = {item.strip().lower() for item in existing.split(",")}
    if "cookie" not in names and "*" not in names:
        headers.set("Vary", f"{existing}, Cookie")


def _timedelta(value: timedelta | int | float) -> timedelta:
    return value if isinstance(value, timedelta) else timedelta(seconds=value)


def _seconds(value: timedelta | int | float) -> float:
    return _timedelta(value).total_seconds()
