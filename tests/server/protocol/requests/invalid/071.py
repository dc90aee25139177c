"""Connection closed in the middle of a chunked body (RFC 9112 §8)."""

status = 400
message = "closed in the middle of a chunked body"
eof = True
