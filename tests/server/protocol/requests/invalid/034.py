"""Chunk size '-1' (RFC 9112 §7.1)."""

status = 400
message = "invalid chunk size line"
