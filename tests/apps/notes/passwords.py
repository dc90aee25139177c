"""Password hashes with the standard library's PBKDF2 (no Werkzeug needed).

A hash is ``pbkdf2_sha256$<iterations>$<salt hex>$<key hex>``, so a stored
hash keeps verifying after the iteration count is raised.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

_ALGORITHM = "pbkdf2_sha256"


def hash_password(password: str, iterations: int) -> str:
    """Return a salted hash of ``password`` to store."""
    salt = secrets.token_bytes(16)
    key = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations)
    return f"{_ALGORITHM}${iterations}${salt.hex()}${key.hex()}"


def check_password(stored: str, password: str) -> bool:
    """Tell whether ``password`` is the one ``stored`` was made from."""
    algorithm, iterations, salt, key = stored.split("$")
    if algorithm != _ALGORITHM:
        return False
    candidate = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), bytes.fromhex(salt), int(iterations))
    return hmac.compare_digest(candidate.hex(), key)
