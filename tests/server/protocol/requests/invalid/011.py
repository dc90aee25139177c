"""Malformed version 'HTTP/1' without a minor digit (RFC 9112 §2.3)."""

status = 400
message = "malformed request line"
