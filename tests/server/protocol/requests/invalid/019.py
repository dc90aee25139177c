"""Two Content-Length fields with different values (RFC 9112 §6.3, RFC 9110 §8.6)."""

status = 400
message = "differing Content-Length values"
