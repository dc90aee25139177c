"""DEL (0x7F) control character in a field value (RFC 9110 §5.5)."""

status = 400
message = "invalid character in the value of header 'X-Del'"
