"""Two spaces between method and target (RFC 9112 §3)."""

status = 400
message = "malformed request line"
