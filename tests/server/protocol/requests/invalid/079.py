"""Host with a '%' not followed by two hex digits is invalid (RFC 3986 §2.1 pct-encoded)."""

status = 400
message = "invalid Host header value 'a%'"
