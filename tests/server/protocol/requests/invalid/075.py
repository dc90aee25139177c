"""Field line without a colon (RFC 9112 §5.1)."""

status = 400
message = "header line without a colon"
