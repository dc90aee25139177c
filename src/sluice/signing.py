"""Sign and verify values with HMAC-SHA256 (stdlib), with expiry and key rotation.

Design: a token is ``payload.timestamp.signature``, each part base64url
without padding. The signature covers the payload and the timestamp and is
keyed by ``HMAC(secret, "sluice.signing." + salt)``, so tokens made for one
purpose (a salt such as "session") never verify for another. Verification
compares in constant time (``hmac.compare_digest``). Several secret keys may
be given, newest first: the newest signs, all verify, so keys can be rotated
without logging every user out. The stdlib is enough here, so no
third-party signing library is used.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Sequence

from sluice.errors import SluiceError


class BadSignature(SluiceError):
    """The token was altered, malformed, or signed with another key or salt."""


class SignatureExpired(BadSignature):
    """The token is authentic but older than the allowed age.

    Attributes:
        signed_at: when the token was signed (Unix time).
    """

    def __init__(self, message: str, signed_at: int) -> None:
        super().__init__(message)
        self.signed_at = signed_at


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError):
        raise BadSignature("malformed token: a part is not base64url") from None
    # Only the canonical spelling is accepted, so a token has one form.
    if _b64encode(data) != text:
        raise BadSignature("malformed token: a part is not canonical base64url")
    return data


class Signer:
    """Sign bytes into a URL- and cookie-safe token, and check such tokens.

    Args:
        secret_keys: one key, or several newest first (all verify; the first
            signs). Use at least 32 random bytes.
        salt: the purpose of the tokens (tokens for one salt fail for another).

    Raises:
        ValueError: no key, or an empty key.
    """

    def __init__(self, secret_keys: str | bytes | Sequence[str | bytes], salt: str = "signer") -> None:
        if isinstance(secret_keys, (str, bytes)):
            secret_keys = [secret_keys]
        keys = [k.encode() if isinstance(k, str) else bytes(k) for k in secret_keys]
        if not keys or not all(keys):
            raise ValueError("a secret key is required; set SECRET_KEY to at least 32 random bytes")
        self._keys = [hmac.new(k, b"sluice.signing." + salt.encode(), hashlib.sha256).digest() for k in keys]

    def _signature(self, key: bytes, message: bytes) -> bytes:
        return hmac.new(key, message, hashlib.sha256).digest()

    def sign(self, payload: bytes, now: float | None = None) -> str:
        """Return the token for ``payload``, stamped with the current time.

        Args:
            payload: the bytes to protect (they are readable, not encrypted).
            now: the signing time (Unix seconds); default: the clock.
        """
        stamp = int(time.time() if now is None else now)
        body = f"{_b64encode(payload)}.{_b64encode(stamp.to_bytes(8, 'big').lstrip(bytes(1)) or bytes(1))}"
        signature = self._signature(self._keys[0], body.encode("ascii"))
        return f"{body}.{_b64encode(signature)}"

    def unsign(self, token: str | bytes, max_age: float | None = None, now: float | None = None) -> bytes:
        """Check ``token`` and return its payload.

        Args:
            token: a token made by :meth:`sign`.
            max_age: the oldest accepted age in seconds; None: any age.
            now: the current time (Unix seconds); default: the clock.

        Raises:
            BadSignature: altered, malformed, or signed with an unknown key or
                another salt.
            SignatureExpired: authentic but older than ``max_age``.
        """
        if isinstance(token, bytes):
            try:
                token = token.decode("ascii")
            except UnicodeDecodeError:
                raise BadSignature("malformed token: not ASCII") from None
        if not token.isascii():
            raise BadSignature("malformed token: not ASCII")
        parts = token.split(".")
        if len(parts) != 3:
            raise BadSignature("malformed token: expected payload.timestamp.signature")
        body = f"{parts[0]}.{parts[1]}".encode("ascii")
        given = _b64decode(parts[2])
        if not any(hmac.compare_digest(given, self._signature(key, body)) for key in self._keys):
            raise BadSignature("signature does not match: the token was altered or signed with another key")
        payload = _b64decode(parts[0])
        signed_at = int.from_bytes(_b64decode(parts[1]), "big")
        if max_age is not None:
            age = (time.time() if now is None else now) - signed_at
            if age > max_age:
                raise SignatureExpired(f"token expired {age - max_age:.0f}s ago (max age {max_age:.0f}s)", signed_at)
        return payload
