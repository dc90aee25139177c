"""Missing chunk size: an empty chunk size line (RFC 9112 §7.1)."""

status = 400
message = "invalid chunk size line"
