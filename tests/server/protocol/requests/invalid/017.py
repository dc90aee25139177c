"""Leading whitespace before the method (RFC 9112 §3)."""

status = 400
message = "malformed request line"
