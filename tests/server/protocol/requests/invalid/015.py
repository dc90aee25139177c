"""Trailing space after the version in the request line (RFC 9112 §3)."""

status = 400
message = "malformed request line"
