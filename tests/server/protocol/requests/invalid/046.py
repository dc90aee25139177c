"""NUL byte in a field value (RFC 9110 §5.5)."""

status = 400
message = "invalid character in the value of header 'X-Nul'"
