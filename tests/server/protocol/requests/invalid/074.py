"""Field name with a non-token character '@' (RFC 9110 §5.1, §5.6.2)."""

status = 400
message = "invalid header name"
