"""Whitespace between a field name and the colon (RFC 9112 §5.1)."""

status = 400
message = "whitespace between header name and colon"
