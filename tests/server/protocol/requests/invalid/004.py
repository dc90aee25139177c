"""Host value 'a/b' with a slash is invalid (RFC 9112 §3.2, RFC 3986 §3.2.2)."""

status = 400
message = "invalid Host header value"
