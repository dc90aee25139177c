"""Connection closed in the middle of the request line (RFC 9112 §8)."""

status = 400
message = "closed in the middle of a request head"
eof = True
