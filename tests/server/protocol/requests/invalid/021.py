"""Malformed Content-Length '-1' (negative) (RFC 9112 §6.3, RFC 9110 §8.6)."""

status = 400
message = "invalid Content-Length"
