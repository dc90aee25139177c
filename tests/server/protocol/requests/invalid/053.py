"""Non-ASCII (UTF-8) bytes in the request target (RFC 9112 §3.2, RFC 3986 §2)."""

status = 400
message = "invalid character in the request line"
