"""Malformed Content-Length '5a' (trailing letter) (RFC 9112 §6.3, RFC 9110 §8.6)."""

status = 400
message = "invalid Content-Length"
