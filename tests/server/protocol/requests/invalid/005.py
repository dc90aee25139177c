"""Host value 'exa mple' with an inner space is invalid (RFC 9112 §3.2, RFC 9110 §7.2)."""

status = 400
message = "invalid Host header value"
