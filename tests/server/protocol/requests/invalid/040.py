"""Chunk size line ended by a bare LF (RFC 9112 §7.1, §2.2)."""

status = 400
message = "invalid chunk size line|line ending without CR"
