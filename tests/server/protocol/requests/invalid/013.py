"""Lower-case 'http/1.1': HTTP-name is case-sensitive (RFC 9112 §2.3)."""

status = 400
message = "malformed request line"
