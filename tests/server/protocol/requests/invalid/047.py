"""Bare CR in a field value (RFC 9112 §2.2, RFC 9110 §5.5)."""

status = 400
message = "invalid character in the value of header 'X-Cr'"
