"""Host value with userinfo 'user@example.com' is invalid (RFC 9110 §7.2, §4.2.4)."""

status = 400
message = "invalid Host header value"
