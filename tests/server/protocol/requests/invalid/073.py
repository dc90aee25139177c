"""Empty field name ':value' (RFC 9112 §5.1, RFC 9110 §5.1)."""

status = 400
message = "invalid header name"
