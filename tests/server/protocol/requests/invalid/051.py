"""Request line ended by a bare LF, fields by CRLF (RFC 9112 §2.2)."""

status = 400
message = "line ending without CR|invalid character in the request line"
