"""Content-Length list with different values '5, 6' (RFC 9112 §6.3, RFC 9110 §8.6)."""

status = 400
message = "differing Content-Length values"
