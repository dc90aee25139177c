"""Transfer-Encoding in an HTTP/1.0 request is faulty framing (RFC 9112 §6.1)."""

status = 400
message = "Transfer-Encoding in an HTTP/1.0 request"
