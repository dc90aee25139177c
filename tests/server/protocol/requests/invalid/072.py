"""Connection closed before the trailer section ended (RFC 9112 §8, §7.1.2)."""

status = 400
message = "closed in the middle of a chunked body"
eof = True
