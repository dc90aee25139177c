"""Chunk size followed by whitespace without an extension: '5 ' (RFC 9112 §7.1)."""

status = 400
message = "invalid chunk size line"
