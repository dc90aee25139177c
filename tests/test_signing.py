"""Tests of HMAC signing: round trip, tampering, keys, salts, expiry."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from sluice.signing import BadSignature
from sluice.signing import SignatureExpired
from sluice.signing import Signer

KEY = "k" * 32


def test_signer_round_trip() -> None:
    signer = Signer(KEY, salt="session")
    token = signer.sign(b'{"user": 1}')
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")
    assert signer.unsign(token) == b'{"user": 1}'
    assert signer.unsign(token.encode()) == b'{"user": 1}'


def test_signer_wrong_key_rejected() -> None:
    token = Signer(KEY).sign(b"x")
    with pytest.raises(BadSignature, match="signature does not match"):
        Signer("other" * 8).unsign(token)


def test_signer_wrong_salt_rejected() -> None:
    token = Signer(KEY, salt="session").sign(b"x")
    with pytest.raises(BadSignature):
        Signer(KEY, salt="reset-password").unsign(token)


def test_signer_key_rotation_old_verifies_new_signs() -> None:
    old = Signer("old" * 11)
    token = old.sign(b"x")
    rotated = Signer(["new" * 11, "old" * 11])
    assert rotated.unsign(token) == b"x"
    with pytest.raises(BadSignature):
        old.unsign(rotated.sign(b"y"))


def test_signer_expiry() -> None:
    signer = Signer(KEY)
    token = signer.sign(b"x", now=1_000_000)
    assert signer.unsign(token, max_age=60, now=1_000_059) == b"x"
    with pytest.raises(SignatureExpired, match="expired 1s ago") as info:
        signer.unsign(token, max_age=60, now=1_000_061)
    assert info.value.signed_at == 1_000_000


@pytest.mark.parametrize(
    "token",
    ["", "a.b", "a.b.c.d", "!!.AA.AA", "\u00e9.a.b"],
    ids=["empty", "two-parts", "four-parts", "not-base64", "not-ascii"],
)
def test_signer_malformed_token_rejected(token: str) -> None:
    with pytest.raises(BadSignature):
        Signer(KEY).unsign(token)


def test_signer_non_ascii_bytes_rejected() -> None:
    with pytest.raises(BadSignature, match="not ASCII"):
        Signer(KEY).unsign(b"\xff.a.b")


def test_signer_needs_a_key() -> None:
    with pytest.raises(ValueError, match="secret key is required"):
        Signer("")


@settings(max_examples=300, deadline=None)
@given(payload=st.binary(max_size=64), position=st.integers(min_value=0), char=st.sampled_from("A_-z09."))
def test_signer_any_single_change_rejected(payload: bytes, position: int, char: str) -> None:
    signer = Signer(KEY)
    token = signer.sign(payload, now=1_700_000_000)
    i = position % len(token)
    tampered = token[:i] + char + token[i + 1 :]
    if tampered == token:
        return
    with pytest.raises(BadSignature):
        signer.unsign(tampered)
