"""Tabs instead of single spaces in the request line (RFC 9112 §3)."""

status = 400
message = "invalid character in the request line"
