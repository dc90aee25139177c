"""Malformed version 'HTTP/1.1.1' (RFC 9112 §2.3)."""

status = 400
message = "malformed request line"
