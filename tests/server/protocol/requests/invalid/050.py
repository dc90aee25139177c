"""Bare LF line endings throughout the head (RFC 9112 §2.2)."""

status = 400
message = "line ending without CR"
