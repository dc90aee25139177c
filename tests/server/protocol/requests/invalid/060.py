"""Absolute-form target on HTTP/1.1 still needs a Host field (RFC 9112 §3.2)."""

status = 400
message = "without a Host header"
