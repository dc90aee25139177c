"""Method with a non-token character '(' (RFC 9110 §9.1, §5.6.2)."""

status = 400
message = "malformed request line"
