"""Connection closed before a Content-Length body is complete (RFC 9112 §8)."""

status = 400
message = "closed with 5 body bytes missing"
eof = True
