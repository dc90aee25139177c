"""Chunk size 'zz' is not hex (RFC 9112 §7.1)."""

status = 400
message = "invalid chunk size line"
