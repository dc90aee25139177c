"""Chunk size with 17 hex digits overflows any body limit (RFC 9112 §7.1, RFC 9110 §15.5.14)."""

status = 413
message = "request body larger than"
